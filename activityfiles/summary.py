"""The full read of an activity file: what Strava builds from it (sport, start, distance, times, climb, route, device).

Unlike the sweep this reads the whole file: FIT through fitdecode, GPX/TCX through expat
(activityfiles.gpx_tcx.xml_track). Bounded in bytes (after gunzip) and in points; damage
never raises: the summary holds what could be read before it. The choices:

* start: the first session's start_time, else the first dated record (FIT); the first
  timed track point (GPX/TCX) — the same rule as the sweep (activityfiles.fit_recorded).
* distance: the session's total_distance, else the last record's distance, else the sum of
  haversine steps along the track; TCX: the laps' DistanceMeters; GPX: the track.
* elapsed time: the session's total_elapsed_time, else last minus first point time.
* moving time: the session's total_timer_time (the device's timer, stopped by auto-pause),
  TCX: the laps' TotalTimeSeconds; else computed from the track: the time between points
  at most MAX_GAP apart while moving at MIN_SPEED or more. Strava computes its own from
  speed, so this is an estimate of its figure, close on continuous recordings.
* elevation gain: the session's total_ascent, else the rises of the altitudes that exceed
  CLIMB_THRESHOLD (GPS altitude noise would otherwise add up to hundreds of metres).
* device: file_id manufacturer and product (names from fitdecode's profile), product_name
  when given; TCX Creator/Name; GPX's creator attribute.
* Only the first of chained FIT files is read: the sweep classifies by it too.
"""

from __future__ import annotations

import io
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import fitdecode

from .compressed import gunzip
from .fit import FIRST_READ, FIT_TYPE_ACTIVITY
from .gpx_tcx import XmlTrack, xml_track
from .sniff import sniff_type
from .sports import strava_sport, xml_sport

log = logging.getLogger(__name__)

MAX_SUMMARY_BYTES = 64 * 1024 * 1024  # after gunzip
MAX_SUMMARY_POINTS = 500_000  # about six days at one point a second
SEMICIRCLE = 180.0 / 2**31  # degrees per FIT semicircle
EARTH_RADIUS = 6_371_008.8  # metres (mean radius)
MIN_SPEED = 0.5  # m/s: slower than this between two points counts as standing still
MAX_GAP = 60.0  # s: a longer gap between points is a pause, not movement
CLIMB_THRESHOLD = 3.0  # m


class TrackPoint(NamedTuple):
    time: datetime | None
    lat: float | None
    lng: float | None
    altitude: float | None


@dataclass(frozen=True, slots=True)
class ActivitySummary:
    """What an activity file says, in Strava's terms (units: metres, seconds)."""

    data_type: str  # "fit" | "gpx" | "tcx"
    sport: str | None  # Strava sport_type (activityfiles.sports)
    trainer: bool
    start_time: datetime | None
    distance: float | None
    elapsed_time: float | None
    moving_time: float | None
    elevation_gain: float | None
    points: tuple[TrackPoint, ...]
    start_latlng: tuple[float, float] | None
    end_latlng: tuple[float, float] | None
    device_name: str | None
    created_time: datetime | None = None  # FIT file_id.time_created


def read_activity(
    data: bytes, *, max_bytes: int = MAX_SUMMARY_BYTES, max_points: int = MAX_SUMMARY_POINTS
) -> ActivitySummary | None:
    """The summary of an activity file (FIT, GPX, TCX, gzipped or not); None if it is not one or unreadable."""
    try:
        kind = sniff_type(data[:FIRST_READ])
        if kind == "gzip":
            inner = gunzip(data, max_bytes)
            if inner is None:
                return None
            data = inner
            kind = sniff_type(data[:FIRST_READ])
        data = data[:max_bytes]
        if kind == "fit":
            return _fit_summary(data, max_points)
        if kind in ("gpx", "tcx"):
            return _xml_summary(kind, xml_track(data, max_points=max_points))
    except Exception as exc:  # a reader bug on hostile input must not escape: say nothing rather than crash
        log.warning("activity summary failed: %s: %s", type(exc).__name__, exc)
    return None


# --------------------------------------------------------------------------- FIT


def _first_file(data: bytes) -> bytes:
    """The first of chained FIT files, with ``data_size`` made true when it says 0 (Edge 1030, Zwift)."""
    header_size, data_size = data[0], int.from_bytes(data[4:8], "little")
    if data_size:
        return data[: header_size + data_size + 2]
    if len(data) < header_size + 2:
        return data
    patched = bytearray(data)
    patched[4:8] = (len(data) - header_size - 2).to_bytes(4, "little")
    return bytes(patched)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fit_summary(data: bytes, max_points: int) -> ActivitySummary | None:
    file_id: dict[str, Any] | None = None
    session: dict[str, Any] | None = None
    sport_message: dict[str, Any] | None = None  # without a session, the sport message names the sport ...
    first_lap: dict[str, Any] | None = None  # ... else the first lap
    points: list[TrackPoint] = []
    last_distance: float | None = None
    try:
        with fitdecode.FitReader(
            io.BytesIO(_first_file(data)),
            check_crc=fitdecode.CrcCheck.DISABLED,
            error_handling=fitdecode.ErrorHandling.IGNORE,
        ) as reader:
            for frame in reader:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                name = frame.name
                if name == "record":
                    if len(points) < max_points:
                        points.append(_fit_point(frame))
                    distance = _number(frame.get_value("distance", fallback=None))
                    if distance is not None:
                        last_distance = distance
                elif name == "session" and session is None:
                    session = _values(frame)
                elif name == "file_id" and file_id is None:
                    file_id = _values(frame)
                elif name == "sport" and sport_message is None:
                    sport_message = _values(frame)
                elif name == "lap" and first_lap is None:
                    first_lap = _values(frame)
    except Exception as exc:  # fitdecode raises FitError, but also KeyError, struct.error, ... on damage
        log.debug("FIT summary ends at point %d: %s: %s", len(points), type(exc).__name__, exc)
    if file_id is None or file_id.get("type") not in ("activity", FIT_TYPE_ACTIVITY):
        return None
    session = session or {}
    source = session if "sport" in session else (sport_message or first_lap or {})
    sport, trainer = strava_sport(source.get("sport"), source.get("sub_sport"))
    start = session.get("start_time")
    if not isinstance(start, datetime):
        start = next((p.time for p in points if p.time is not None), None)
    distance = _number(session.get("total_distance"))
    if distance is None:
        distance = last_distance if last_distance is not None else _track_distance(points)
    elapsed = _number(session.get("total_elapsed_time"))
    moving = _number(session.get("total_timer_time"))
    gain = _number(session.get("total_ascent"))
    created = file_id.get("time_created")
    return ActivitySummary(
        "fit", sport, trainer, start, distance,
        elapsed if elapsed is not None else _elapsed(points),
        moving if moving is not None else _moving_time(points),
        gain if gain is not None else _climb(points),
        tuple(points), _first_latlng(points), _first_latlng(points[::-1]),
        _fit_device(file_id), created if isinstance(created, datetime) else None,
    )  # fmt: skip


def _values(frame: fitdecode.FitDataMessage) -> dict[str, Any]:
    return {field.name: field.value for field in frame.fields if field.value is not None}


def _fit_point(frame: fitdecode.FitDataMessage) -> TrackPoint:
    time = frame.get_value("timestamp", fallback=None)
    lat = frame.get_value("position_lat", fallback=None)
    lng = frame.get_value("position_long", fallback=None)
    altitude = frame.get_value("enhanced_altitude", fallback=None)
    if altitude is None:
        altitude = frame.get_value("altitude", fallback=None)
    positioned = isinstance(lat, int) and isinstance(lng, int)
    return TrackPoint(
        time if isinstance(time, datetime) else None,
        lat * SEMICIRCLE if positioned else None,
        lng * SEMICIRCLE if positioned else None,
        _number(altitude),
    )


_MAKERS = {
    "garmin": "Garmin", "wahoo_fitness": "Wahoo", "hammerhead": "Hammerhead", "coros": "COROS", "suunto": "Suunto",
    "polar_electro": "Polar", "stages_cycling": "Stages", "sigmasport": "Sigma", "zwift": "Zwift", "strava": "Strava",
    "bryton": "Bryton", "igpsport": "iGPSPORT", "trainer_road": "TrainerRoad", "development": "Development",
}  # fmt: skip
_MODELS = {"fr": "Forerunner", "fenix": "fēnix", "vivoactive": "vívoactive", "edge": "Edge", "epix": "epix"}


def _fit_device(file_id: dict[str, Any]) -> str | None:
    """"Garmin Edge 520" from file_id: the maker, then product_name or the profile's product name."""
    maker = file_id.get("manufacturer")
    maker_name = _MAKERS.get(maker, str(maker).replace("_", " ").title()) if isinstance(maker, str) else None
    model = file_id.get("product_name") or file_id.get("garmin_product")
    model_name = None
    if isinstance(model, str) and model:
        words = re.findall(r"[a-z]+|\d+|[A-Z][A-Za-z]*", model.replace("_", " "))
        model_name = " ".join(_MODELS.get(word, word.title() if word.islower() else word) for word in words) or model
    parts = [part for part in (maker_name, model_name) if part]
    return " ".join(parts) or None


# --------------------------------------------------------------------------- GPX / TCX


def _xml_summary(kind: str, track: XmlTrack) -> ActivitySummary | None:
    points = [TrackPoint(*point) for point in track.points]
    timed = [point for point in points if point.time is not None]
    if not timed:
        return None  # no timed points: a route or a course, not an activity
    sport, trainer = xml_sport(track.sport)
    distance = track.lap_distance if track.lap_distance is not None else _track_distance(points)
    moving = track.lap_time if track.lap_time is not None else _moving_time(points)
    return ActivitySummary(
        kind, sport, trainer, timed[0].time, distance, _elapsed(points), moving, _climb(points),
        tuple(points), _first_latlng(points), _first_latlng(points[::-1]), track.device,
    )  # fmt: skip


# --------------------------------------------------------------------------- from the track


def _first_latlng(points: list[TrackPoint]) -> tuple[float, float] | None:
    return next(((p.lat, p.lng) for p in points if p.lat is not None and p.lng is not None), None)


def _haversine(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(h)))


def _steps(points: list[TrackPoint]) -> list[tuple[float, float | None]]:
    """(metres, seconds or None) between consecutive positioned points."""
    steps = []
    previous: TrackPoint | None = None
    for point in points:
        if point.lat is None or point.lng is None:
            continue
        if previous is not None:
            assert previous.lat is not None and previous.lng is not None
            seconds = (point.time - previous.time).total_seconds() if point.time and previous.time else None
            steps.append((_haversine(previous.lat, previous.lng, point.lat, point.lng), seconds))
        previous = point
    return steps


def _track_distance(points: list[TrackPoint]) -> float | None:
    steps = _steps(points)
    return sum(metres for metres, _ in steps) if steps else None


def _elapsed(points: list[TrackPoint]) -> float | None:
    times = [p.time for p in points if p.time is not None]
    return (max(times) - min(times)).total_seconds() if times else None


def _moving_time(points: list[TrackPoint]) -> float | None:
    steps = [(metres, seconds) for metres, seconds in _steps(points) if seconds is not None]
    if not steps:
        return None
    return sum(s for m, s in steps if 0 < s <= MAX_GAP and m / s >= MIN_SPEED)


def _climb(points: list[TrackPoint]) -> float | None:
    """Rises of at least CLIMB_THRESHOLD: the reference follows every descent, but a climb only in whole steps."""
    altitudes = [p.altitude for p in points if p.altitude is not None]
    if not altitudes:
        return None
    gain, reference = 0.0, altitudes[0]
    for altitude in altitudes[1:]:
        if altitude < reference:
            reference = altitude
        elif altitude - reference >= CLIMB_THRESHOLD:
            gain += altitude - reference
            reference = altitude
    return gain
