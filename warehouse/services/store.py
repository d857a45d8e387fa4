"""Strava JSON -> columns, the bulk upsert, rollups, and a fetched detail stored.

Never a query per row: one SELECT for the ids already known and one INSERT ... ON CONFLICT
DO UPDATE per chunk; rollups are recomputed from the activities of the periods touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connections, router, transaction
from django.db.models import DateField, DateTimeField, Field, ForeignObjectRel, JSONField
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from warehouse.models import Activity, local_day
from warehouse.routes import polyline_decode, polyline_encode, thin
from warehouse.services.files import file_row_claim, file_rows_match
from warehouse.services.rollups import ROLLUP_COLUMNS, rollups_refresh
from warehouse.signals import activity_detail_stored

logger = logging.getLogger(__name__)

UPSERT_CHUNK = 1000

# The SummaryActivity fields kept as columns: a listing overwrites them (names, types and
# privacy change on Strava). Detail-only columns (description, calories, gear name) are kept.
SUMMARY_COLUMNS = (
    "name", "sport_type", "type", "start_date", "start_date_local", "start_day", "timezone", "distance",
    "moving_time", "elapsed_time", "total_elevation_gain", "elev_high", "elev_low", "average_speed", "max_speed",
    "average_cadence", "average_watts", "weighted_average_watts", "max_watts", "kilojoules", "device_watts",
    "has_heartrate", "average_heartrate", "max_heartrate", "achievement_count", "kudos_count", "comment_count",
    "athlete_count", "photo_count", "gear_id", "external_id", "upload_id", "private", "visibility", "trainer",
    "commute", "manual", "flagged", "workout_type", "start_lat", "start_lng", "end_lat", "end_lng", "summary_polyline",
)
# Columns whose change means the recording itself changed (cropped, corrected): details again.
RECORDING_COLUMNS = ("distance", "elapsed_time", "start_date")


# --- Strava JSON -> columns -----------------------------------------------------------------------
def _when(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return default if value is None else int(round(float(value)))
    except (TypeError, ValueError):
        return default


def _float(value: Any, default: float | None = None) -> float | None:
    try:
        return default if value is None else float(value)
    except (TypeError, ValueError):
        return default


def _latlng(value: Any) -> tuple[float | None, float | None]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return _float(value[0]), _float(value[1])
    return None, None


def summary_columns(data: dict[str, Any]) -> dict[str, Any]:
    """Our columns from a SummaryActivity (or the summary part of a DetailedActivity)."""
    start = _when(data.get("start_date"))
    if start is None:
        raise ValueError(f"activity {data.get('id')} has no start_date")
    local = _when(data.get("start_date_local"))
    start_lat, start_lng = _latlng(data.get("start_latlng"))
    end_lat, end_lng = _latlng(data.get("end_latlng"))
    sport = str(data.get("sport_type") or data.get("type") or "")[:40]
    return {
        "name": str(data.get("name") or "")[:255],
        "sport_type": sport,
        "type": str(data.get("type") or sport)[:40],
        "start_date": start,
        "start_date_local": local,
        "start_day": local_day(local, start),
        "timezone": str(data.get("timezone") or "")[:64],
        "distance": _float(data.get("distance"), 0.0),
        "moving_time": _int(data.get("moving_time"), 0),
        "elapsed_time": _int(data.get("elapsed_time"), 0),
        "total_elevation_gain": _float(data.get("total_elevation_gain"), 0.0),
        "elev_high": _float(data.get("elev_high")),
        "elev_low": _float(data.get("elev_low")),
        "average_speed": _float(data.get("average_speed"), 0.0),
        "max_speed": _float(data.get("max_speed"), 0.0),
        "average_cadence": _float(data.get("average_cadence")),
        "average_watts": _float(data.get("average_watts")),
        "weighted_average_watts": _int(data.get("weighted_average_watts")),
        "max_watts": _int(data.get("max_watts")),
        "kilojoules": _float(data.get("kilojoules")),
        "device_watts": bool(data.get("device_watts")),
        "has_heartrate": bool(data.get("has_heartrate")),
        "average_heartrate": _float(data.get("average_heartrate")),
        "max_heartrate": _float(data.get("max_heartrate")),
        "achievement_count": _int(data.get("achievement_count"), 0),
        "kudos_count": _int(data.get("kudos_count"), 0),
        "comment_count": _int(data.get("comment_count"), 0),
        "athlete_count": _int(data.get("athlete_count"), 1),
        "photo_count": _int(data.get("total_photo_count", data.get("photo_count")), 0),
        "gear_id": str(data.get("gear_id") or "")[:32],
        "external_id": str(data.get("external_id") or "")[:255],
        "upload_id": _int(data.get("upload_id")),
        "private": bool(data.get("private")),
        "visibility": str(data.get("visibility") or "")[:20],
        "trainer": bool(data.get("trainer")),
        "commute": bool(data.get("commute")),
        "manual": bool(data.get("manual")),
        "flagged": bool(data.get("flagged")),
        "workout_type": _int(data.get("workout_type")),
        "start_lat": start_lat,
        "start_lng": start_lng,
        "end_lat": end_lat,
        "end_lng": end_lng,
        "summary_polyline": str((data.get("map") or {}).get("summary_polyline") or ""),
    }


def detail_columns(data: dict[str, Any]) -> dict[str, Any]:
    """Summary columns plus what only a DetailedActivity carries."""
    columns = summary_columns(data)
    gear = data.get("gear")
    if not isinstance(gear, dict):
        gear = {}
    columns.update(
        description=str(data.get("description") or ""),
        calories=_float(data.get("calories")),
        gear_name=str(gear.get("name") or "")[:255],
    )
    if not columns["summary_polyline"]:
        full = str((data.get("map") or {}).get("polyline") or "")
        if full:
            columns["summary_polyline"] = polyline_encode(thin(polyline_decode(full)))
    return columns


# --- upsert ---------------------------------------------------------------------------------------
@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # another athlete's activity id: never moved between athletes
    merged: int = 0  # Strava's copy of an activity the warehouse had from a file: filled into that row
    days: set[date] = field(default_factory=set)  # local days whose rollups changed
    newest: datetime | None = None
    oldest: datetime | None = None

    def add(self, other: UpsertResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.merged += other.merged
        self.days |= other.days
        for moment in (other.newest, other.oldest):
            if moment is not None:
                self.newest = max(self.newest or moment, moment)
                self.oldest = min(self.oldest or moment, moment)


def activities_upsert(*, athlete_id: int, summaries: Iterable[dict[str, Any]], rollups: bool = True) -> UpsertResult:
    """Store listed SummaryActivities in bulk: new ones created, changed ones overwritten, the rest untouched.

    One SELECT for the ids already known and one INSERT ... ON CONFLICT DO UPDATE per chunk,
    never a query per row. Details already fetched are kept, unless the recording itself
    changed (distance, duration, start), which puts the activity back in the enrich backlog.
    """
    result = UpsertResult()
    batch: list[dict[str, Any]] = []
    # One transaction: the rows and their rollups change together (and SQLite commits once, not per row).
    with transaction.atomic():
        for summary in summaries:
            if isinstance(summary, dict) and summary.get("id") is not None:
                batch.append(summary)
            if len(batch) >= UPSERT_CHUNK:
                result.add(_upsert_chunk(athlete_id, batch))
                batch = []
        if batch:
            result.add(_upsert_chunk(athlete_id, batch))
        if rollups and result.days:
            rollups_refresh(athlete_id=athlete_id, days=result.days)
    return result


def _upsert_chunk(athlete_id: int, summaries: list[dict[str, Any]]) -> UpsertResult:
    result = UpsertResult()
    incoming: dict[int, dict[str, Any]] = {}
    for summary in summaries:
        try:
            incoming[int(summary["id"])] = {**summary_columns(summary), "summary": summary}
        except (TypeError, ValueError) as exc:
            logger.warning("activity summary skipped: %s", exc)
            result.skipped += 1
    existing = {
        row["strava_id"]: row
        for row in Activity.objects.filter(strava_id__in=list(incoming)).values(
            "strava_id", "athlete_id", "summary", *ROLLUP_COLUMNS, *RECORDING_COLUMNS
        )
    }
    now = timezone.now()
    # New to the warehouse, but maybe known from the athlete's own file: that row becomes this activity.
    from_files = file_rows_match(athlete_id=athlete_id,
                                 incoming={sid: c for sid, c in incoming.items() if sid not in existing})
    writes: list[dict[str, Any]] = []
    recorded_again: list[int] = []
    for strava_id, columns in incoming.items():
        old = existing.get(strava_id)
        start = columns["start_date"]
        result.newest = max(result.newest or start, start)
        result.oldest = min(result.oldest or start, start)
        if old is not None and old["athlete_id"] != athlete_id:
            logger.warning("activity %s belongs to another athlete; not moved", strava_id)
            result.skipped += 1
            continue
        if old is not None and old["summary"] == columns["summary"]:
            result.unchanged += 1
            continue
        file_row = from_files.get(strava_id)
        if file_row is not None and file_row_claim(file_row, strava_id=strava_id, columns=columns, updated_at=now,
                                                   detail_fetched_at=None, enrich_not_before=None):
            result.merged += 1
            result.days |= {file_row.start_day, columns["start_day"]}
            continue
        if old is None:
            result.created += 1
        else:
            result.updated += 1
            result.days.add(old["start_day"])
            if old["summary"] is not None and any(old[c] != columns[c] for c in RECORDING_COLUMNS):
                recorded_again.append(strava_id)
        result.days.add(columns["start_day"])
        writes.append({"strava_id": strava_id, "athlete_id": athlete_id, "created_at": now, "updated_at": now, **columns})
    if writes:
        _write_upsert(writes, update=[*SUMMARY_COLUMNS, "summary", "updated_at"])
    if recorded_again:
        Activity.objects.filter(strava_id__in=recorded_again).update(detail_fetched_at=None, enrich_not_before=None)
    return result


def _column(field: Field[Any, Any] | ForeignObjectRel) -> str:
    """A field's own column; Django calls a field concrete when it has one, so concrete fields always do."""
    column = field.column if isinstance(field, Field) else None
    if column is None:
        raise ValueError(f"Activity.{field.name} has no column of its own")
    return column


def _write_upsert(rows: list[dict[str, Any]], *, update: list[str]) -> None:
    """INSERT ... ON CONFLICT (strava_id) DO UPDATE, sent with executemany (SQLite and PostgreSQL alike).

    bulk_create(update_conflicts=True) writes the same statement but prepares every value of
    every field through the ORM and, on SQLite, splits a page into 13-row statements (999
    parameters); this is five to ten times faster, and only JSON and dates need adapting.
    """
    connection = connections[router.db_for_write(Activity)]
    fields = [f for f in Activity._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    adapt = [f if isinstance(f, JSONField | DateTimeField | DateField) else None for f in fields]
    quote = connection.ops.quote_name
    table, columns = quote(Activity._meta.db_table), ", ".join(quote(_column(f)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in (_column(Activity._meta.get_field(n)) for n in update))
    # Only the model's own table and column names, quoted; every value travels as a parameter.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({quote('strava_id')}) DO UPDATE SET {updates}"  # noqa: S608
    params = []
    for row in rows:
        values = {**defaults, **row}
        params.append([f.get_db_prep_save(values[f.attname], connection) if f is not None and values[f.attname] is not None
                       else values[field.attname] for f, field in zip(adapt, fields, strict=True)])
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)




def activity_store_detail(*, activity: Activity, detail: dict[str, Any]) -> bool:
    """Keep a DetailedActivity: its JSON and the columns it brings up to date, then announce it
    (`activity_detail_stored`: the segments app stores its efforts). True if columns changed."""
    try:
        columns = detail_columns(detail)
    except ValueError:
        columns = {}
    old_day = activity.start_day
    changed = any(getattr(activity, name) != value for name, value in columns.items())
    now = timezone.now()
    fields = {**columns, "detail": detail, "detail_fetched_at": now, "enrich_error": "", "enrich_not_before": None,
              "enrich_attempts": 0, "enrich_claimed_until": None, "updated_at": now}
    with transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(**fields)
        for name, value in fields.items():
            setattr(activity, name, value)
        if changed:
            rollups_refresh(athlete_id=activity.athlete_id, days={old_day, activity.start_day})
    # Robust: a subscriber's failure never costs the fetch (django.dispatch logs it); the detail is
    # kept, and the segments app can store the efforts from it again later, with no call.
    activity_detail_stored.send_robust(sender=Activity, activity=activity)
    return changed
