"""The recorded track an activity keeps from its file, which its streams are then read from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.models import SimActivity, SimActivityStreams
from sandbox.streams import STREAM_TYPES


def sim_activity_streams_store(*, activity: SimActivity, streams: Mapping[str, Sequence[Any]]) -> SimActivityStreams:
    """Keep (or replace) the activity's recorded streams: known types, `time` included, all of one length.

    For the file reader to call once an uploaded file's track is read; a ValueError names what is wrong.
    """
    unknown = sorted(set(streams) - set(STREAM_TYPES))
    if unknown:
        raise ValueError(f"unknown stream types: {', '.join(unknown)}")
    times = streams.get("time")
    if not times:
        raise ValueError("a track needs its time stream")
    lengths = {key: len(values) for key, values in streams.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"streams of different lengths: {lengths}")
    data = {key: list(values) for key, values in streams.items()}
    stored, _ = SimActivityStreams.objects.update_or_create(activity=activity, defaults={"data": data})
    return stored
