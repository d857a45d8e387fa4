"""Strava's JSON shapes, field for field (see shared/strava/api-facts.md and the published examples)."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sandbox import geo
from sandbox.models import SimActivity, SimAthlete, SimSegment, SimSegmentEffort, SimToken, SimUpload

UPLOAD_PROCESSING = "Your activity is still being processed."
UPLOAD_READY = "Your activity is ready."
UPLOAD_ERROR = "There was an error processing your activity."
UPLOAD_DELETED = "The created activity has been deleted."

_BEST_EFFORTS = [
    ("400m", 400.0),
    ("1/2 mile", 804.67),
    ("1k", 1000.0),
    ("1 mile", 1609.34),
    ("2 mile", 3218.69),
    ("5k", 5000.0),
    ("10k", 10000.0),
    ("15k", 15000.0),
    ("Half-Marathon", 21097.5),
    ("Marathon", 42195.0),
]
_LAP_LENGTH = {"Ride": 10_000.0, "VirtualRide": 10_000.0, "Run": 1_000.0}


@dataclass(frozen=True)
class PrStats:
    """An athlete's best effort on one segment."""

    pr_activity_id: int
    pr_elapsed_time: int
    pr_date: date
    effort_count: int


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(moment: datetime, tzname: str) -> str:
    """Strava's start_date_local: the local wall time, still suffixed with Z."""
    return moment.astimezone(ZoneInfo(tzname)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tz(moment: datetime, tzname: str) -> tuple[str, int]:
    offset = moment.astimezone(ZoneInfo(tzname)).utcoffset() or timedelta(0)
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"(GMT{sign}{hours:02d}:{minutes:02d}) {tzname}", seconds


def _latlng(lat: float | None, lng: float | None) -> list[float]:
    return [] if lat is None or lng is None else [lat, lng]


def _ref(object_id: int) -> dict[str, int]:
    return {"id": object_id, "resource_state": 1}


def athlete_summary(athlete: SimAthlete) -> dict[str, object]:
    picture = f"https://dgalywyr863hv.cloudfront.net/pictures/athletes/{athlete.pk}"
    return {
        "id": athlete.pk,
        "username": athlete.username or None,
        "resource_state": 2,
        "firstname": athlete.firstname,
        "lastname": athlete.lastname,
        "bio": "",
        "city": athlete.city,
        "state": athlete.state,
        "country": athlete.country,
        "sex": athlete.sex or None,
        "premium": athlete.premium,
        "summit": athlete.premium,
        "created_at": iso(athlete.created_at),
        "updated_at": iso(athlete.updated_at),
        "badge_type_id": 1 if athlete.premium else 0,
        "weight": athlete.weight,
        "profile_medium": f"{picture}/medium.jpg",
        "profile": f"{picture}/large.jpg",
        "friend": None,
        "follower": None,
    }


def _gear(gear_id: str) -> dict[str, object]:
    kind = "Bike" if gear_id.startswith("b") else "Shoes"
    number = int(gear_id[-1]) if gear_id[-1].isdigit() else 1
    return {
        "id": gear_id,
        "primary": number == 1,
        "name": f"{kind} {number}",
        "resource_state": 2,
        "distance": 1000.0 * (int(hashlib.sha256(gear_id.encode()).hexdigest()[:6], 16) % 20_000),
    }


def athlete_detailed(athlete: SimAthlete) -> dict[str, object]:
    base = athlete.pk * 10
    return {
        **athlete_summary(athlete),
        "resource_state": 3,
        "follower_count": athlete.pk % 97,
        "friend_count": athlete.pk % 89,
        "mutual_friend_count": 0,
        "athlete_type": 0,
        "date_preference": "%m/%d/%Y",
        "measurement_preference": "meters",
        "clubs": [],
        "ftp": athlete.ftp,
        "bikes": [_gear(f"b{base + 1}"), _gear(f"b{base + 2}")],
        "shoes": [_gear(f"g{base + 1}"), _gear(f"g{base + 2}")],
    }


def activity_summary(activity: SimActivity) -> dict[str, object]:
    label, utc_offset = _tz(activity.start_date, activity.timezone)
    return {
        "resource_state": 2,
        "athlete": _ref(activity.athlete_id),
        "name": activity.name,
        "distance": activity.distance,
        "moving_time": activity.moving_time,
        "elapsed_time": activity.elapsed_time,
        "total_elevation_gain": activity.total_elevation_gain,
        "type": activity.type,
        "sport_type": activity.sport_type,
        "workout_type": activity.workout_type,
        "id": activity.pk,
        "start_date": iso(activity.start_date),
        "start_date_local": iso_local(activity.start_date, activity.timezone),
        "timezone": label,
        "utc_offset": float(utc_offset),
        "location_city": None,
        "location_state": None,
        "location_country": activity.athlete.country or None,
        "achievement_count": activity.achievement_count,
        "kudos_count": activity.kudos_count,
        "comment_count": activity.comment_count,
        "athlete_count": activity.athlete_count,
        "photo_count": activity.photo_count,
        "map": {"id": f"a{activity.pk}", "summary_polyline": activity.summary_polyline, "resource_state": 2},
        "trainer": activity.trainer,
        "commute": activity.commute,
        "manual": activity.manual,
        "private": activity.private,
        "visibility": activity.visibility,
        "flagged": activity.flagged,
        "gear_id": activity.gear_id or None,
        "start_latlng": _latlng(activity.start_lat, activity.start_lng),
        "end_latlng": _latlng(activity.end_lat, activity.end_lng),
        "average_speed": activity.average_speed,
        "max_speed": activity.max_speed,
        "average_cadence": activity.average_cadence,
        "average_watts": activity.average_watts,
        "weighted_average_watts": activity.weighted_average_watts,
        "max_watts": activity.max_watts,
        "kilojoules": activity.kilojoules,
        "device_watts": activity.device_watts,
        "has_heartrate": activity.has_heartrate,
        "average_heartrate": activity.average_heartrate,
        "max_heartrate": activity.max_heartrate,
        "heartrate_opt_out": False,
        "display_hide_heartrate_option": activity.has_heartrate,
        "elev_high": activity.elev_high,
        "elev_low": activity.elev_low,
        "upload_id": activity.upload_id,
        "upload_id_str": str(activity.upload_id) if activity.upload_id is not None else None,
        "external_id": activity.external_id or None,
        "from_accepted_tag": False,
        "pr_count": activity.pr_count,
        "total_photo_count": activity.total_photo_count,
        "has_kudoed": False,
        "hide_from_home": activity.hide_from_home,
        "suffer_score": activity.suffer_score,
    }


def _chunks(activity: SimActivity, length: float, rng: random.Random) -> list[tuple[float, int, int]]:
    """The activity cut into pieces of `length` metres: (distance, moving_time, elapsed_time) each."""
    count = max(1, math.ceil(activity.distance / length)) if activity.distance > 0 else 1
    distances = [min(length, activity.distance - i * length) for i in range(count)] if activity.distance else [0.0]
    weights = [d / rng.uniform(0.85, 1.15) for d in distances]
    total = sum(weights) or 1.0
    moving = [max(1, round(activity.moving_time * w / total)) for w in weights]
    pauses = max(activity.elapsed_time - activity.moving_time, 0)
    elapsed = [m + round(pauses * w / total) for m, w in zip(moving, weights, strict=True)]
    return [(round(d, 1), m, e) for d, m, e in zip(distances, moving, elapsed, strict=True)]


def _splits(activity: SimActivity, length: float) -> list[dict[str, object]]:
    rng = random.Random(f"{activity.pk}-splits-{length}")
    splits: list[dict[str, object]] = []
    for number, (distance, moving, elapsed) in enumerate(_chunks(activity, length, rng), start=1):
        splits.append(
            {
                "distance": distance,
                "elapsed_time": elapsed,
                "elevation_difference": round(rng.uniform(-1, 1) * activity.total_elevation_gain / 20, 1),
                "moving_time": moving,
                "split": number,
                "average_speed": round(distance / moving, 2),
                "average_grade_adjusted_speed": round(distance / moving * rng.uniform(0.98, 1.05), 2),
                "average_heartrate": activity.average_heartrate and round(activity.average_heartrate + rng.uniform(-6, 6), 1),
                "pace_zone": rng.randint(1, 4) if activity.type == "Run" else 0,
            }
        )
    return splits


def _laps(activity: SimActivity) -> list[dict[str, object]]:
    rng = random.Random(f"{activity.pk}-laps")
    laps, started, index = [], 0, 0
    length = _LAP_LENGTH.get(activity.type, activity.distance or 1.0)
    for number, (distance, moving, elapsed) in enumerate(_chunks(activity, length, rng), start=1):
        start = activity.start_date + timedelta(seconds=started)
        laps.append(
            {
                "id": activity.pk * 1000 + number,
                "resource_state": 2,
                "name": f"Lap {number}",
                "activity": _ref(activity.pk),
                "athlete": _ref(activity.athlete_id),
                "elapsed_time": elapsed,
                "moving_time": moving,
                "start_date": iso(start),
                "start_date_local": iso_local(start, activity.timezone),
                "distance": distance,
                "start_index": index,
                "end_index": index + moving,
                "total_elevation_gain": round(activity.total_elevation_gain * distance / (activity.distance or 1), 1),
                "average_speed": round(distance / moving, 2),
                "max_speed": round(activity.max_speed * rng.uniform(0.8, 1.0), 2),
                "average_cadence": activity.average_cadence,
                "device_watts": activity.device_watts,
                "average_watts": activity.average_watts and round(activity.average_watts * rng.uniform(0.9, 1.1), 1),
                "lap_index": number,
                "split": number,
            }
        )
        started += elapsed
        index += moving + 1
    return laps


def _best_efforts(activity: SimActivity) -> list[dict[str, object]]:
    if activity.type != "Run" or not activity.average_speed:
        return []
    rng = random.Random(f"{activity.pk}-best")
    efforts = []
    for number, (name, distance) in enumerate(_BEST_EFFORTS, start=1):
        if distance > activity.distance:
            break
        elapsed = int(distance / (activity.average_speed * rng.uniform(1.0, 1.12)))
        start = activity.start_date + timedelta(seconds=int(rng.uniform(0, max(activity.moving_time - elapsed, 0))))
        efforts.append(
            {
                "id": activity.pk * 100 + number,
                "resource_state": 2,
                "name": name,
                "activity": _ref(activity.pk),
                "athlete": _ref(activity.athlete_id),
                "elapsed_time": elapsed,
                "moving_time": elapsed,
                "start_date": iso(start),
                "start_date_local": iso_local(start, activity.timezone),
                "distance": distance,
                "start_index": 0,
                "end_index": elapsed,
                "pr_rank": None,
                "achievements": [],
            }
        )
    return efforts


def _pr_effort(stats: PrStats | None) -> dict[str, object] | None:
    if stats is None:
        return None
    return {
        "pr_activity_id": stats.pr_activity_id,
        "pr_elapsed_time": stats.pr_elapsed_time,
        "pr_date": stats.pr_date.isoformat(),
        "effort_count": stats.effort_count,
    }


def segment_summary(segment: SimSegment, *, pr: PrStats | None = None) -> dict[str, object]:
    return {
        "id": segment.pk,
        "resource_state": 2,
        "name": segment.name,
        "activity_type": segment.activity_type,
        "distance": segment.distance,
        "average_grade": segment.average_grade,
        "maximum_grade": segment.maximum_grade,
        "elevation_high": segment.elevation_high,
        "elevation_low": segment.elevation_low,
        "start_latlng": [segment.start_lat, segment.start_lng],
        "end_latlng": [segment.end_lat, segment.end_lng],
        "climb_category": segment.climb_category,
        "city": segment.city,
        "state": segment.state,
        "country": segment.country,
        "private": segment.private,
        "hazardous": segment.hazardous,
        "starred": False,
        "athlete_pr_effort": _pr_effort(pr),
    }


def segment_detailed(segment: SimSegment, *, pr: PrStats | None, with_stats: bool) -> dict[str, object]:
    data = {
        **segment_summary(segment, pr=pr),
        "resource_state": 3,
        "created_at": iso(segment.created_at),
        "updated_at": iso(segment.updated_at),
        "total_elevation_gain": round(max(segment.elevation_high - segment.elevation_low, 0), 1),
        "map": {"id": f"s{segment.pk}", "polyline": segment.polyline, "resource_state": 3},
        "effort_count": segment.effort_count,
        "athlete_count": segment.athlete_count,
        "star_count": segment.star_count,
    }
    if not with_stats:
        del data["athlete_pr_effort"]
        return data
    data["athlete_segment_stats"] = {
        "pr_elapsed_time": pr.pr_elapsed_time if pr else None,
        "pr_date": pr.pr_date.isoformat() if pr else None,
        "effort_count": pr.effort_count if pr else 0,
    }
    return data


def segment_effort(effort: SimSegmentEffort, *, tzname: str, pr: PrStats | None) -> dict[str, object]:
    return {
        "id": effort.pk,
        "resource_state": 2,
        "name": effort.name,
        "activity": _ref(effort.activity_id),
        "activity_id": effort.activity_id,
        "athlete": _ref(effort.athlete_id),
        "elapsed_time": effort.elapsed_time,
        "moving_time": effort.moving_time,
        "start_date": iso(effort.start_date),
        "start_date_local": iso_local(effort.start_date, tzname),
        "distance": effort.distance,
        "start_index": effort.start_index,
        "end_index": effort.end_index,
        "average_cadence": effort.average_cadence,
        "device_watts": effort.device_watts,
        "average_watts": effort.average_watts,
        "average_heartrate": effort.average_heartrate,
        "max_heartrate": effort.max_heartrate,
        "segment": segment_summary(effort.segment, pr=pr),
        "kom_rank": effort.kom_rank,
        "pr_rank": effort.pr_rank,
        "is_kom": effort.kom_rank == 1,
        "achievements": [],
        "hidden": effort.hidden,
    }


def activity_detailed(activity: SimActivity, *, efforts: list[SimSegmentEffort], prs: dict[int, PrStats]) -> dict[str, object]:
    data = activity_summary(activity)
    data["resource_state"] = 3
    rng = random.Random(f"{activity.pk}-map")
    route = geo.polyline_decode(activity.summary_polyline) if activity.summary_polyline else []
    data["map"] = {
        "id": f"a{activity.pk}",
        "polyline": geo.polyline_encode(geo.densify(route, rng)) if route else "",
        "resource_state": 3,
        "summary_polyline": activity.summary_polyline,
    }
    data.update(
        {
            "description": activity.description,
            "calories": activity.calories,
            "device_name": activity.device_name or None,
            "embed_token": hashlib.sha1(f"embed-{activity.pk}".encode()).hexdigest(),
            "segment_efforts": [segment_effort(e, tzname=activity.timezone, pr=prs.get(e.segment_id)) for e in efforts],
            "splits_metric": _splits(activity, 1000.0),
            "splits_standard": _splits(activity, 1609.34),
            "laps": _laps(activity),
            "best_efforts": _best_efforts(activity),
            "gear": _gear(activity.gear_id) if activity.gear_id else None,
            "partner_brand_tag": None,
            "photos": {"primary": None, "count": activity.photo_count},
            "highlighted_kudosers": [],
            "available_zones": [],
        }
    )
    return data


def upload(record: SimUpload, *, status: str) -> dict[str, object]:
    return {
        "id": record.pk,
        "id_str": str(record.pk),
        "external_id": record.external_id or None,
        "error": record.error or None,
        "status": status,
        "activity_id": record.activity_id,
    }


def token(record: SimToken, *, athlete: SimAthlete | None = None) -> dict[str, object]:
    """The answer of /oauth/token; the athlete comes only with a code exchange, as on Strava."""
    data: dict[str, object] = {
        "token_type": "Bearer",
        "access_token": record.access_token,
        "expires_at": int(record.access_expires_at.timestamp()),
        "expires_in": max(0, int((record.access_expires_at - datetime.now(UTC)).total_seconds())),
        "refresh_token": record.refresh_token,
    }
    if athlete is not None:
        data["athlete"] = athlete_summary(athlete)
    return data
