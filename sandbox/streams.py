"""Strava's activity streams: the recorded ones when the activity keeps its file's track, else made up.

Made-up streams come from the activity's summary alone (route, elapsed and moving time, distance,
elevation, average heart rate, watts and cadence) with an RNG seeded by the activity's id, so the same
activity always answers the same streams.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from typing import Any

from sandbox import geo
from sandbox.models import SimActivity, SimActivityStreams

# Strava's stream types, in the order its StreamSet lists them.
STREAM_TYPES = (
    "time",
    "distance",
    "latlng",
    "altitude",
    "velocity_smooth",
    "heartrate",
    "cadence",
    "watts",
    "temp",
    "moving",
    "grade_smooth",
)
MAX_POINTS = 3600  # one point a second, thinned so that a long activity stays a modest answer
MOVING_SPEED = 0.3  # m/s: below it a recorded point counts as stopped
Streams = dict[str, list[Any]]


def _wave(rng: random.Random, count: int, *, waves: int = 3) -> list[float]:
    """A smooth deterministic shape in [-1, 1] over `count` points."""
    parts = [(rng.uniform(0.5, 4.0) * (k + 1), rng.uniform(0, 2 * math.pi), 1 / (k + 1)) for k in range(waves)]
    scale = sum(weight for _, _, weight in parts)
    return [
        sum(weight * math.sin(2 * math.pi * cycles * i / max(count - 1, 1) + phase) for cycles, phase, weight in parts) / scale
        for i in range(count)
    ]


def _times(elapsed: int) -> list[int]:
    step = max(1, math.ceil(elapsed / MAX_POINTS))
    times = list(range(0, elapsed + 1, step))
    if times[-1] != elapsed:
        times.append(elapsed)
    return times


def _moving(rng: random.Random, times: list[int], *, paused_s: int) -> list[bool]:
    """Moving at every point but during one stop of the activity's paused time, somewhere mid-way."""
    if paused_s <= 0:
        return [True] * len(times)
    stop = rng.uniform(0.3, 0.7) * max(times[-1] - paused_s, 0)
    return [not (stop < t <= stop + paused_s) for t in times]


def _distances(rng: random.Random, times: list[int], moving: list[bool], total: float) -> list[float]:
    pace = _wave(rng, len(times))
    steps = [0.0] + [
        (times[i] - times[i - 1]) * (1 + 0.2 * pace[i] + rng.uniform(-0.05, 0.05)) if moving[i] else 0.0
        for i in range(1, len(times))
    ]
    covered = sum(steps) or 1.0
    distances, running = [], 0.0
    for step in steps:
        running += step
        distances.append(round(total * running / covered, 1))
    return distances


def _around(rng: random.Random, count: int, mean: float, *, swing: float, noise: float) -> list[float]:
    shape = _wave(rng, count)
    return [mean * (1 + swing * s + rng.gauss(0, noise)) for s in shape]


def synthesized(activity: SimActivity) -> Streams:
    """Streams made up from the activity's summary; none for a manual activity."""
    if activity.manual or activity.elapsed_time <= 0:
        return {}
    rng = random.Random(f"{activity.pk}-streams")
    times = _times(activity.elapsed_time)
    count = len(times)
    moving = _moving(rng, times, paused_s=activity.elapsed_time - activity.moving_time)
    streams: Streams = {"time": times, "moving": moving}
    streams["distance"] = _distances(rng, times, moving, activity.distance)
    total = activity.distance or 1.0
    fractions = [d / total for d in streams["distance"]]
    if activity.summary_polyline:
        route = geo.polyline_decode(activity.summary_polyline)
        streams["latlng"] = [[round(lat, 6), round(lng, 6)] for lat, lng in geo.along(route, fractions)]
    if activity.elev_low is not None and activity.elev_high is not None:
        climb = max(activity.elev_high - activity.elev_low, 0.0)
        shape = _wave(rng, count)
        streams["altitude"] = [round(activity.elev_low + climb * (s + 1) / 2, 1) for s in shape]
    if activity.average_heartrate:
        ceiling = activity.max_heartrate or activity.average_heartrate + 30
        beats = _around(rng, count, activity.average_heartrate, swing=0.07, noise=0.02)
        streams["heartrate"] = [int(min(max(b, 60), ceiling)) for b in beats]
    if activity.average_cadence:
        cadence = _around(rng, count, activity.average_cadence, swing=0.05, noise=0.03)
        streams["cadence"] = [max(0, round(c)) if m else 0 for c, m in zip(cadence, moving, strict=True)]
    if activity.average_watts:
        watts = _around(rng, count, activity.average_watts, swing=0.25, noise=0.15)
        streams["watts"] = [max(0, round(w)) if m else 0 for w, m in zip(watts, moving, strict=True)]
    return streams


def _derived(streams: Streams) -> Streams:
    """velocity_smooth, moving and grade_smooth from time, distance and altitude, where missing."""
    extra: Streams = {}
    times, distances = streams.get("time"), streams.get("distance")
    if times and distances and len(times) == len(distances):
        velocity = [0.0]
        for i in range(1, len(times)):
            j = max(0, i - 2)
            span = times[i] - times[j]
            velocity.append(round((distances[i] - distances[j]) / span, 2) if span > 0 else 0.0)
        extra["velocity_smooth"] = velocity
        extra["moving"] = [v >= MOVING_SPEED for v in velocity]
        altitude = streams.get("altitude")
        if altitude and len(altitude) == len(distances):
            grade = [0.0]
            for i in range(1, len(distances)):
                j = max(0, i - 2)
                run = distances[i] - distances[j]
                grade.append(round(100 * (altitude[i] - altitude[j]) / run, 1) if run >= 1 else 0.0)
            extra["grade_smooth"] = grade
    return {key: value for key, value in extra.items() if key not in streams}


def activity_streams(activity: SimActivity) -> Streams:
    """Every stream the activity has: its recorded ones (from its file) or made-up ones, plus derived ones."""
    recorded = SimActivityStreams.objects.filter(activity_id=activity.pk).values_list("data", flat=True).first()
    streams = {k: v for k, v in recorded.items() if k in STREAM_TYPES and v} if recorded else synthesized(activity)
    if not streams.get("time"):
        return {}
    return {**streams, **_derived(streams)}


def requested_keys(values: Iterable[str]) -> list[str]:
    """`keys=time,latlng` (Strava's csv) or repeated `keys=`; unknown types are ignored, as Strava does."""
    keys = [key.strip() for value in values for key in value.split(",")]
    return list(dict.fromkeys(key for key in keys if key in STREAM_TYPES))


def stream_set(activity: SimActivity, streams: Streams, *, keys: list[str], key_by_type: bool) -> object:
    """Strava's StreamSet: the requested streams the activity has, plus its series stream (distance, or time)."""
    if not streams:
        return {} if key_by_type else []
    series_type = "distance" if activity.distance > 0 and "distance" in streams else "time"
    chosen = [key for key in keys if key in streams]
    if series_type not in chosen:
        chosen.append(series_type)
    size = len(streams["time"])

    def one(key: str) -> dict[str, object]:
        return {"data": streams[key], "series_type": series_type, "original_size": size, "resolution": "high"}

    if key_by_type:
        return {key: one(key) for key in chosen}
    return [{"type": key, **one(key)} for key in chosen]
