"""The sweep's answer about one file, shared by every format's classifier."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Protocol

ELIGIBLE = "eligible"
JUNK = "junk"
FAILED = "failed"


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        status: str,
        data_type: str | None,
        reason: str,
        file_type: str | None,
        start_time: datetime | None,
        sport: str | None = None,
        manufacturer: str | None = None,
        product: str | None = None,
        created_time: datetime | None = None,
        trainer: bool = False,
    ) -> None:
        # The generated frozen __init__ sets each field through object.__setattr__, which made this
        # one line a sixth of the sweep's work on a FIT file; the slots' own setters cost half as much.
        _set_status(self, status)
        _set_data_type(self, data_type)
        _set_reason(self, reason)
        _set_file_type(self, file_type)
        _set_start_time(self, start_time)
        _set_sport(self, sport)
        _set_manufacturer(self, manufacturer)
        _set_product(self, product)
        _set_created_time(self, created_time)
        _set_trainer(self, trainer)


# The member descriptors of the class that @dataclass(slots=True) made (it replaces the one written above).
(
    _set_status, _set_data_type, _set_reason, _set_file_type, _set_start_time,
    _set_sport, _set_manufacturer, _set_product, _set_created_time, _set_trainer,
) = (getattr(Verdict, field.name).__set__ for field in fields(Verdict))  # fmt: skip


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
