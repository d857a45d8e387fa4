"""The sweep's answer about one file, shared by every format's classifier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

ELIGIBLE = "eligible"
JUNK = "junk"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the sweep decided about one file, and the little it learnt on the way."""

    status: str  # "eligible" | "junk" | "failed"
    data_type: str | None  # Strava's data_type for the bytes as given ("fit", "fit.gz", "gpx", ...)
    reason: str  # "" when eligible
    file_type: str | None  # FIT file_id.type name ("activity", "monitoring_b", "49", ...) or "gpx"/"tcx"
    # The recorded start (aware UTC), as Strava takes it: a FIT activity's session start_time
    # (else its first dated record), a GPX/TCX file's first timed track point. None for junk.
    start_time: datetime | None
    sport: str | None = None  # Strava's sport_type (activityfiles.sports), None when the file names none
    manufacturer: str | None = None
    product: str | None = None  # FIT product number as digits (or product_name when there is no number)
    created_time: datetime | None = None  # FIT file_id.time_created: when the file was written, often a copy's date
    trainer: bool = False  # recorded indoors on a machine (treadmill, indoor cycling, ...), as the sport says


def failed(reason: str, data_type: str | None = None, file_type: str | None = None) -> Verdict:
    """A failed verdict: every reader turns damage into one of these, never an exception."""
    return Verdict(FAILED, data_type, reason, file_type, None)


class Sink(Protocol):
    """A classifier fed a file in pieces: a verdict as soon as it knows, or None for "more"."""

    def feed(self, chunk: bytes) -> Verdict | None: ...
    def finish(self) -> Verdict: ...


class Fixed:
    """A verdict known from the head alone (empty, unrecognized, unsupported)."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict

    def feed(self, chunk: bytes) -> Verdict | None:
        return self.verdict

    def finish(self) -> Verdict:
        return self.verdict
