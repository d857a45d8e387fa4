"""An uploaded file becomes an activity as Strava builds it: everything from the recording itself.

Sport, recorded start, distance, moving and elapsed time, climb, route, start and end points
and device all come from the file (the neutral reader, activityfiles.read_activity); the
track is kept for the streams endpoint. Segment efforts exist only where the route really
passes a segment's start and then its end, as Strava matches them. Nothing is made up: a
file that does not say something leaves it empty, as Strava does.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from activityfiles.summary import ActivitySummary, TrackPoint
from sandbox import fakes, geo
from sandbox.models import SimActivity, SimSegment, SimSegmentEffort, SimUpload
from sandbox.services.tracks import sim_activity_streams_store

DEFAULT_SPORT = "Ride"  # what Strava gives a file that names no sport (the athlete's default; ours ride)
# `type`, the older and coarser field, for the sport types that have a coarser parent.
PARENT_TYPE = {"GravelRide": "Ride", "MountainBikeRide": "Ride", "EMountainBikeRide": "EBikeRide", "TrailRun": "Run"}
POLYLINE_POINTS = 400  # about what Strava's own summary polylines carry
SEGMENT_MATCH_METRES = 30.0
EARTH_RADIUS = 6_371_008.8


def activity_from_file(upload: SimUpload, summary: ActivitySummary, *, sport_type: str | None) -> SimActivity:
    """Create the activity `summary` describes; `sport_type` is the upload's own choice, if it made one."""
    assert summary.start_time is not None  # the caller refuses files without time information
    start = summary.start_time.astimezone(UTC).replace(microsecond=0)
    sport = sport_type or summary.sport or DEFAULT_SPORT
    athlete = upload.athlete
    activity = SimActivity(athlete=athlete, start_date=start, timezone=athlete.timezone or "UTC")
    activity.sport_type, activity.type = sport, PARENT_TYPE.get(sport, sport)
    activity.trainer = summary.trainer if upload.trainer is None else bool(upload.trainer)
    activity.commute = bool(upload.commute)
    activity.distance = round(summary.distance or 0.0, 1)
    activity.elapsed_time = round(summary.elapsed_time or 0)
    activity.moving_time = round(summary.moving_time or summary.elapsed_time or 0)
    activity.total_elevation_gain = round(summary.elevation_gain or 0.0, 1)
    activity.average_speed = round(activity.distance / activity.moving_time, 3) if activity.moving_time else 0.0
    activity.max_speed = round(_max_speed(summary.points), 3)
    altitudes = [p.altitude for p in summary.points if p.altitude is not None]
    activity.elev_high, activity.elev_low = (max(altitudes), min(altitudes)) if altitudes else (None, None)
    if summary.start_latlng:
        activity.start_lat, activity.start_lng = summary.start_latlng
    if summary.end_latlng:
        activity.end_lat, activity.end_lng = summary.end_latlng
    route = [(p.lat, p.lng) for p in summary.points if p.lat is not None and p.lng is not None]
    activity.summary_polyline = geo.polyline_encode(_thin(route, POLYLINE_POINTS)) if route else ""
    activity.device_name = (summary.device_name or "")[:64]
    local = start.astimezone(ZoneInfo(activity.timezone))
    activity.name = upload.name or fakes.default_name(sport, local)
    activity.description = upload.description
    activity.external_id = upload.external_id
    activity.upload_id = upload.pk
    activity.save()
    _keep_streams(activity, summary.points, start)
    SimSegmentEffort.objects.bulk_create(_efforts(activity, summary.points))
    return activity


def _thin(points: list[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    if len(points) <= limit:
        return points
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(h)))


def _located(points: tuple[TrackPoint, ...]) -> list[tuple[datetime, tuple[float, float], float | None]]:
    return [(p.time, (p.lat, p.lng), p.altitude) for p in points
            if p.time is not None and p.lat is not None and p.lng is not None]


def _max_speed(points: tuple[TrackPoint, ...]) -> float:
    """The fastest stretch of at least 5 s (single GPS jumps would otherwise set it)."""
    located = _located(points)
    best, j = 0.0, 0
    for i in range(len(located)):
        while j < len(located) and (located[j][0] - located[i][0]).total_seconds() < 5:
            j += 1
        if j >= len(located):
            break
        seconds = (located[j][0] - located[i][0]).total_seconds()
        span = sum(_metres(located[k][1], located[k + 1][1]) for k in range(i, j))
        best = max(best, span / seconds)
    return best


def _keep_streams(activity: SimActivity, points: tuple[TrackPoint, ...], start: datetime) -> None:
    """The recorded track, for GET /activities/{id}/streams (time from the start, cumulative distance)."""
    timed = [p for p in points if p.time is not None]
    if not timed:
        return
    streams: dict[str, list[object]] = {"time": [], "distance": []}
    with_position = all(p.lat is not None and p.lng is not None for p in timed)
    with_altitude = all(p.altitude is not None for p in timed)
    if with_position:
        streams["latlng"] = []
    if with_altitude:
        streams["altitude"] = []
    travelled, previous = 0.0, None
    for point in timed:
        assert point.time is not None
        here = (point.lat, point.lng) if point.lat is not None and point.lng is not None else None
        if here is not None and previous is not None:
            travelled += _metres(previous, here)
        previous = here or previous
        streams["time"].append(max(0, round((point.time - start).total_seconds())))
        streams["distance"].append(round(travelled, 1))
        if with_position:
            streams["latlng"].append([point.lat, point.lng])
        if with_altitude:
            streams["altitude"].append(point.altitude)
    sim_activity_streams_store(activity=activity, streams=streams)


def _efforts(activity: SimActivity, points: tuple[TrackPoint, ...]) -> list[SimSegmentEffort]:
    """An effort wherever the route passes within SEGMENT_MATCH_METRES of a segment's start, then of its end."""
    if activity.trainer or activity.type not in ("Ride", "Run"):
        return []
    located = _located(points)
    if len(located) < 2:
        return []
    lats = [p[1][0] for p in located]
    lngs = [p[1][1] for p in located]
    margin = 0.01  # degrees: only segments inside the route's box can match
    nearby = SimSegment.objects.filter(
        activity_type=activity.type, start_lat__range=(min(lats) - margin, max(lats) + margin),
        start_lng__range=(min(lngs) - margin, max(lngs) + margin),
    )
    efforts = []
    for segment in nearby:
        start_index = next((i for i, p in enumerate(located)
                            if _metres(p[1], (segment.start_lat, segment.start_lng)) <= SEGMENT_MATCH_METRES), None)
        if start_index is None:
            continue
        end_index = next((j for j in range(start_index + 1, len(located))
                          if _metres(located[j][1], (segment.end_lat, segment.end_lng)) <= SEGMENT_MATCH_METRES), None)
        if end_index is None:
            continue
        began, ended = located[start_index][0], located[end_index][0]
        elapsed = max(1, round((ended - began).total_seconds()))
        efforts.append(SimSegmentEffort(
            activity=activity, athlete_id=activity.athlete_id, segment_id=segment.pk, name=segment.name,
            elapsed_time=elapsed, moving_time=elapsed,
            start_date=activity.start_date + timedelta(seconds=round((began - activity.start_date).total_seconds())),
            distance=round(sum(_metres(located[k][1], located[k + 1][1]) for k in range(start_index, end_index)), 1),
            start_index=start_index, end_index=end_index,
        ))
    return efforts
