"""Writes for the warehouse: upsert in bulk, pull and backfill, enrich, rollups, dispatch, export import.

Every Strava call goes through StravaClient, hence through the quota. The rows are the queue of
record: a pull saves its position after every page (in the same transaction as the page's
rows), so a stop anywhere resumes there without fetching a page twice; an activity without
details is the enrich backlog itself.
"""

from __future__ import annotations

import logging
import math
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import DateField, DateTimeField, F, JSONField, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Athlete
from stravasync.strava import quota
from stravasync.strava.client import StravaClient
from stravasync.strava.dispatch import permits_hand_out
from stravasync.strava.errors import (
    NotFound,
    RateLimited,
    ReconnectNeeded,
    StravaError,
    SubscriptionInactive,
    Unauthorized,
)
from stravasync.strava.quota import Grant, Kind, Priority

from . import strava_export
from .models import Activity, Rollup, SyncRun, SyncState, local_day
from .routes import polyline_decode, polyline_encode, route_from_file, thin

logger = logging.getLogger(__name__)

PER_PAGE = 200  # Strava's maximum page size: the fewest calls for a history
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
DETAIL_COLUMNS = ("description", "calories", "gear_name")
# Columns whose change means the recording itself changed (cropped, corrected): details again.
RECORDING_COLUMNS = ("distance", "elapsed_time", "start_date")
ROLLUP_COLUMNS = ("start_day", "sport_type", "distance", "moving_time", "elapsed_time", "total_elevation_gain")


# --- Strava JSON -> columns -----------------------------------------------------------------------
def _when(value: Any) -> datetime | None:  # noqa: ANN401
    return parse_datetime(value) if isinstance(value, str) and value else None


def _int(value: Any, default: int | None = None) -> int | None:  # noqa: ANN401
    try:
        return default if value is None else int(round(float(value)))
    except (TypeError, ValueError):
        return default


def _float(value: Any, default: float | None = None) -> float | None:  # noqa: ANN401
    try:
        return default if value is None else float(value)
    except (TypeError, ValueError):
        return default


def _latlng(value: Any) -> tuple[float | None, float | None]:  # noqa: ANN401
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
    gear = data.get("gear") if isinstance(data.get("gear"), dict) else {}
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
    days: set[date] = field(default_factory=set)  # local days whose rollups changed
    newest: datetime | None = None
    oldest: datetime | None = None

    def add(self, other: UpsertResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
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
    table, columns = quote(Activity._meta.db_table), ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in (Activity._meta.get_field(n).column for n in update))
    # Only the model's own table and column names, quoted; every value travels as a parameter.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({quote('strava_id')}) DO UPDATE SET {updates}"  # noqa: S608
    params = []
    for row in rows:
        values = {**defaults, **row}
        params.append([f.get_db_prep_save(values[f.attname], connection) if f is not None and values[f.attname] is not None
                       else values[field.attname] for f, field in zip(adapt, fields, strict=True)])
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


# --- rollups --------------------------------------------------------------------------------------
def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def rollups_refresh(*, athlete_id: int, days: Iterable[date] | None = None) -> int:
    """Recompute the weekly and monthly totals that contain `days` (all of them when None).

    The rollups are derived data: recomputed from the activities of the periods touched, so
    they cannot drift; stats then read a few hundred rows instead of every activity.
    """
    day_set = set(days) if days is not None else None
    if day_set is not None and not day_set:
        return 0
    activities = Activity.objects.filter(athlete_id=athlete_id)
    weeks: set[date] | None = None
    months: set[date] | None = None
    if day_set is not None:
        weeks = {_week(d) for d in day_set}
        months = {_month(d) for d in day_set}
        activities = activities.filter(start_day__gte=min(min(weeks), min(months)),
                                       start_day__lt=max(max(weeks) + timedelta(days=7), _next_month(max(months))))
    totals: dict[tuple[str, date, str], list[float]] = defaultdict(lambda: [0, 0.0, 0, 0, 0.0])
    for day, sport, distance, moving, elapsed, gain in activities.values_list(*ROLLUP_COLUMNS).iterator(chunk_size=5000):
        for period, start, wanted in (("week", _week(day), weeks), ("month", _month(day), months)):
            if wanted is not None and start not in wanted:
                continue
            row = totals[(period, start, sport)]
            row[0] += 1
            row[1] += distance or 0.0
            row[2] += moving or 0
            row[3] += elapsed or 0
            row[4] += gain or 0.0
    rows = [
        Rollup(athlete_id=athlete_id, period=period, start=start, sport_type=sport, count=int(v[0]), distance=v[1],
               moving_time=int(v[2]), elapsed_time=int(v[3]), elevation_gain=v[4])
        for (period, start, sport), v in totals.items()
    ]
    with transaction.atomic():
        stale = Rollup.objects.filter(athlete_id=athlete_id)
        if weeks is not None and months is not None:
            stale = stale.filter(Q(period="week", start__in=weeks) | Q(period="month", start__in=months))
        stale.delete()
        Rollup.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# --- runs and state -------------------------------------------------------------------------------
def sync_state_for(*, athlete_id: int) -> SyncState:
    state, _ = SyncState.objects.get_or_create(athlete_id=athlete_id)
    return state


def sync_run_open(*, kind: str, athlete_id: int | None, trigger: str, notes: dict | None = None) -> SyncRun:
    """A run for the audit log; the dispatcher keeps one open per athlete and kind across its tasks."""
    if trigger == SyncRun.Trigger.DISPATCHER:
        run = SyncRun.objects.filter(kind=kind, athlete_id=athlete_id, trigger=trigger, finished_at__isnull=True).first()
        if run is not None:
            return run
    return SyncRun.objects.create(kind=kind, athlete_id=athlete_id, trigger=trigger, notes=notes or {})


def sync_run_book(run: SyncRun, *, calls: int = 0, pages: int = 0, created: int = 0, updated: int = 0,
                  error: str | None = None) -> None:
    updates: dict[str, Any] = {
        "calls": F("calls") + calls, "pages": F("pages") + pages, "created": F("created") + created,
        "updated": F("updated") + updated,
    }
    if error is not None:
        updates["error"] = error[:2000]
    SyncRun.objects.filter(pk=run.pk).update(**updates)


def sync_run_finish(run: SyncRun, *, error: str | None = None, notes: dict | None = None) -> SyncRun:
    updates: dict[str, Any] = {"finished_at": timezone.now()}
    if error is not None:
        updates["error"] = error[:2000]
    if notes:
        updates["notes"] = {**run.notes, **notes}
    SyncRun.objects.filter(pk=run.pk).update(**updates)
    run.refresh_from_db()
    return run


def next_pull_slot(*, athlete_id: int, now: datetime) -> datetime:
    """The athlete's next sweep slot: a fixed phase per athlete, so a sweep never comes as one burst.

    Phases are spread by the golden ratio (any number of athletes lands evenly over the
    interval); the slot is at least half an interval away.
    """
    interval = max(60, int(settings.WAREHOUSE_PULL_INTERVAL))
    phase = ((athlete_id * 0.6180339887498949) % 1.0) * interval
    ts = now.timestamp()
    slot = math.floor(ts / interval) * interval + phase
    while slot <= ts + interval / 2:
        slot += interval
    return datetime.fromtimestamp(slot, tz=now.tzinfo)


def _rest_until(exc: StravaError, *, attempts: int, now: datetime) -> tuple[datetime, str]:
    """How long a failed call's work waits, and what to say about it."""
    if isinstance(exc, RateLimited):
        return exc.retry_at, "waiting for the Strava quota"
    if isinstance(exc, SubscriptionInactive):
        return now + timedelta(seconds=settings.QUOTA_INACTIVE_PROBE_SECONDS), "Strava API subscription inactive: paused"
    if isinstance(exc, ReconnectNeeded):
        return now + timedelta(days=1), "the athlete must connect with Strava again"
    if isinstance(exc, Unauthorized) and exc.missing_scope:
        return now + timedelta(days=1), f"permission {exc.missing_scope} not granted: reconnect and allow it"
    if isinstance(exc, NotFound):
        return now + timedelta(days=30), "Strava no longer shows it (deleted, or private without activity:read_all)"
    delay = min(86_400, 60 * 2 ** min(attempts, 10))
    return now + timedelta(seconds=delay), f"will retry: {exc.message or type(exc).__name__}"


def _permit(grant: dict | Grant | None) -> Grant | None:
    if grant is None or isinstance(grant, Grant):
        return grant
    return Grant(**grant)


# --- pull and backfill -------------------------------------------------------------------------------
@dataclass
class PullResult:
    calls: int = 0
    pages: int = 0
    created: int = 0
    updated: int = 0
    done: bool = False  # nothing more to fetch now (backfill finished, incremental not due)
    backfill_done: bool = False
    run_id: int | None = None


PageCallback = Callable[[str, int, UpsertResult], None]


def _pull_step(state: SyncState, *, now: datetime, incremental_done: bool, pull_now: bool) -> str | None:
    if state.pull_page > 0:
        return "incremental"  # finish the incremental pull in progress first
    if not state.backfill_done:
        return "backfill"
    if incremental_done:
        return None
    if pull_now or state.next_pull_at is None or state.next_pull_at <= now:
        return "incremental"
    return None


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def activities_pull(
    *,
    athlete_id: int,
    full: bool = False,
    max_calls: int | None = None,
    pull_now: bool = False,
    priority: Priority = Priority.PULL,
    grant: dict | Grant | None = None,
    trigger: str = SyncRun.Trigger.COMMAND,
    run: SyncRun | None = None,
    on_page: PageCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PullResult:
    """Bring the athlete's activities up to date: finish any backfill, then pull what is new.

    * A fresh athlete's backfill walks back from now, `before=<oldest start seen + 1 s>`, 200 a
      page; its first page also sets the watermark, so a whole history costs ceil(n/200) + 1
      calls. The one-second overlap re-lists one activity a page (one extra call per ~40,000
      activities) so that two activities sharing a second across a page boundary are never lost.
    * The incremental pull asks `after=<watermark>` page by page; the watermark moves only
      when the last page is in.
    * Position is saved with each page's rows, in one transaction: a stop anywhere resumes
      where it was and no page is fetched twice.
    `max_calls` bounds the calls (the dispatcher gives one permit per task); `pull_now` pulls
    new activities even if the athlete's sweep slot has not come; `full` walks the history again.
    StravaErrors are recorded on the SyncState and the run, then raised. A `run` given by the
    caller (a command that waits for the quota and calls again) is booked but left open.
    """
    state = sync_state_for(athlete_id=athlete_id)
    if full:
        SyncState.objects.filter(pk=state.pk).update(backfill_cursor=None, backfill_done=False, backfill_done_at=None)
        state.refresh_from_db()
    own_run = run is None
    if run is None:
        run = sync_run_open(kind=SyncRun.Kind.PULL, athlete_id=athlete_id, trigger=trigger,
                            notes={"full": True} if full else None)
    client = StravaClient(athlete_id=athlete_id, priority=priority, grant=_permit(grant))
    result = PullResult(run_id=run.pk)
    incremental_done = False
    booked = 0
    try:
        while True:
            now = timezone.now()
            step = _pull_step(state, now=now, incremental_done=incremental_done, pull_now=pull_now)
            if step is None:
                result.done = True
                break
            if (max_calls is not None and client.calls >= max_calls) or (should_stop and should_stop()):
                break
            calls_before = client.calls
            if step == "backfill":
                listed, upserted, fresh = _backfill_page(client, state, now)
                incremental_done = incremental_done or fresh
            else:
                listed, upserted, finished = _incremental_page(client, state, now)
                incremental_done = incremental_done or finished
            result.pages += 1
            result.created += upserted.created
            result.updated += upserted.updated
            sync_run_book(run, calls=client.calls - calls_before, pages=1, created=upserted.created,
                          updated=upserted.updated)
            booked = client.calls
            if on_page is not None:
                on_page(step, listed, upserted)
    except StravaError as exc:
        _pull_failed(state, run, exc, calls=client.calls - booked)
        raise
    finally:
        result.calls = client.calls
        if grant is not None and client.calls == 0:
            permit = _permit(grant)
            if permit is not None:
                quota.release(permit, 1, kind=Kind.READ)  # the dispatcher's permit was not needed
    result.backfill_done = state.backfill_done
    if own_run and (result.done or trigger != SyncRun.Trigger.DISPATCHER):
        sync_run_finish(run)
    return result


def _pull_failed(state: SyncState, run: SyncRun, exc: StravaError, *, calls: int) -> None:
    now = timezone.now()
    rest, reason = _rest_until(exc, attempts=1, now=now)
    message = f"{type(exc).__name__}: {exc.message}" if exc.message else type(exc).__name__
    SyncState.objects.filter(pk=state.pk).update(not_before=rest, last_error=f"{reason} ({message})"[:2000],
                                                 last_error_at=now)
    sync_run_book(run, calls=calls, error=f"{reason} ({message})")


def _save_page(state: SyncState, athlete_id: int, items: list[dict], now: datetime, **fields: Any) -> UpsertResult:  # noqa: ANN401
    with transaction.atomic():
        upserted = activities_upsert(athlete_id=athlete_id, summaries=items)
        fields.update(last_success_at=now, last_error="", last_error_at=None, not_before=None)
        SyncState.objects.filter(pk=state.pk).update(**fields)
    for name, value in fields.items():
        setattr(state, name, value)
    return upserted


def _backfill_page(client: StravaClient, state: SyncState, now: datetime) -> tuple[int, UpsertResult, bool]:
    """One page of the walk back; returns (listed, upserted, whether this was a fresh walk's first page)."""
    fresh = state.backfill_cursor is None
    # One second of overlap: activities sharing the cursor's second are listed again rather
    # than lost if a page ended between them (the upsert makes the repeat harmless).
    before = _epoch(state.backfill_cursor) + 1 if state.backfill_cursor else None
    items = client.list_activities(before=before, page=1, per_page=PER_PAGE)
    starts = [s for s in (_when(i.get("start_date")) for i in items) if s is not None]
    fields: dict[str, Any] = {}
    if fresh:
        # The first page of a walk from now is also this slot's incremental pull.
        if starts:
            fields["watermark"] = max([*starts, *([state.watermark] if state.watermark else [])])
        fields["next_pull_at"] = next_pull_slot(athlete_id=state.athlete_id, now=now)
    if len(items) < PER_PAGE or not starts:
        fields.update(backfill_done=True, backfill_done_at=now, backfill_cursor=None)
    else:
        oldest = min(starts)
        if state.backfill_cursor is not None and oldest >= state.backfill_cursor:
            oldest = state.backfill_cursor - timedelta(seconds=1)  # a whole page in one second: step past it
        fields["backfill_cursor"] = oldest
    return len(items), _save_page(state, client.athlete_id or state.athlete_id, items, now, **fields), fresh


def _incremental_page(client: StravaClient, state: SyncState, now: datetime) -> tuple[int, UpsertResult, bool]:
    """One page of `after=<watermark>`; returns (listed, upserted, whether the pull is complete)."""
    page = state.pull_page or 1
    after = _epoch(state.watermark) if state.watermark else 0
    items = client.list_activities(after=after, page=page, per_page=PER_PAGE)
    starts = [s for s in (_when(i.get("start_date")) for i in items) if s is not None]
    newest = max([*starts, *[m for m in (state.pull_newest, state.watermark) if m is not None]], default=None)
    if len(items) < PER_PAGE:
        fields: dict[str, Any] = {"watermark": newest, "pull_page": 0, "pull_newest": None,
                                  "next_pull_at": next_pull_slot(athlete_id=state.athlete_id, now=now)}
        finished = True
    else:
        fields = {"pull_page": page + 1, "pull_newest": newest}
        finished = False
    return len(items), _save_page(state, client.athlete_id or state.athlete_id, items, now, **fields), finished


# --- enrich ---------------------------------------------------------------------------------------
def _activity(activity_id: int) -> Activity | None:
    """By our primary key; a Strava id is accepted too (they never overlap: Strava's exceed 10^9)."""
    return Activity.objects.filter(pk=activity_id).first() or Activity.objects.filter(strava_id=activity_id).first()


def activity_enrich(
    *,
    activity_id: int,
    priority: Priority = Priority.ENRICH,
    grant: dict | Grant | None = None,
    force: bool = False,
    run: SyncRun | None = None,
) -> bool:
    """Fetch the activity's details once (`GET /activities/{id}?include_all_efforts=true`) and store them.

    The same payload carries every segment effort: when the segments app is installed its
    `efforts_store` reads them from `detail`, so efforts never cost a second call. Returns True
    if a call was made. StravaErrors are recorded on the activity and the run, then raised,
    so the caller can reschedule. A permit handed in but not spent is given back.
    """
    activity = _activity(activity_id)
    permit = _permit(grant)
    if activity is None or (activity.detail_fetched_at is not None and not force):
        if permit is not None:
            quota.release(permit, 1, kind=Kind.READ)
        return False
    own_run = run is None
    if run is None:
        run = sync_run_open(kind=SyncRun.Kind.ENRICH, athlete_id=activity.athlete_id, trigger=SyncRun.Trigger.TASK)
    client = StravaClient(athlete_id=activity.athlete_id, priority=priority, grant=permit)
    try:
        detail = client.get_activity(activity.strava_id, include_all_efforts=True)
    except StravaError as exc:
        _enrich_failed(activity, exc, run=run, calls=client.calls)
        if own_run:
            sync_run_finish(run)
        raise
    changed = activity_store_detail(activity=activity, detail=detail)
    sync_run_book(run, calls=client.calls, pages=1, updated=1 if changed else 0)
    if own_run:
        sync_run_finish(run)
    return True


def activity_store_detail(*, activity: Activity, detail: dict[str, Any]) -> bool:
    """Keep a DetailedActivity: its JSON, the columns it brings up to date, and (through the segments
    app) its efforts. True if columns changed."""
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
    _store_efforts(activity)
    return changed


def _store_efforts(activity: Activity) -> None:
    """Hand the stored detail to the segments app (no call). A failure there never costs the fetch:
    the detail is kept and the segments app can store the efforts again from it."""
    if not apps.is_installed("segments"):
        return
    try:
        import_module("segments.services").efforts_store(activity=activity)
    except Exception:  # noqa: BLE001 - the call is paid for; the efforts can be stored again later
        logger.exception("segments could not store the efforts of activity %s", activity.strava_id)


def _enrich_failed(activity: Activity, exc: StravaError, *, run: SyncRun, calls: int) -> None:
    now = timezone.now()
    waiting = isinstance(exc, RateLimited | SubscriptionInactive)
    attempts = activity.enrich_attempts + (0 if waiting else 1)
    rest, reason = _rest_until(exc, attempts=attempts, now=now)
    Activity.objects.filter(pk=activity.pk).update(
        enrich_not_before=rest, enrich_error=reason[:300], enrich_attempts=attempts, enrich_claimed_until=None
    )
    sync_run_book(run, calls=calls, error=f"activity {activity.strava_id}: {reason}")


def activities_enrich(
    *,
    athlete_id: int | None = None,
    limit: int | None = None,
    strava_ids: list[int] | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    force: bool = False,
    priority: Priority = Priority.ENRICH,
    trigger: str = SyncRun.Trigger.COMMAND,
    on_activity: Callable[[Activity, bool], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[int, int, SyncRun | None]:
    """Enrich the activities without details, newest first, or the ones named: (fetched, failed, run).

    Stops at the first "not before" from the quota (RateLimited / SubscriptionInactive are raised
    after the run is closed), so a caller can wait and call again: it resumes where it stopped.
    """
    from .selectors import activities_to_enrich

    targets = activities_to_enrich(athlete_id=athlete_id, strava_ids=strava_ids, after=after, before=before, force=force)
    if limit is not None:
        targets = targets[:limit]
    # Ids first: the loop writes to the rows it walks, and SQLite cursors do not like that.
    ids = list(targets.values_list("pk", flat=True))
    runs: dict[int, SyncRun] = {}
    fetched = failed = 0
    try:
        for activity in _in_chunks(ids):
            if should_stop and should_stop():
                break
            run = runs.get(activity.athlete_id)
            if run is None:
                run = runs[activity.athlete_id] = sync_run_open(kind=SyncRun.Kind.ENRICH, athlete_id=activity.athlete_id,
                                                                trigger=trigger)
            if not _enrich_claim(activity.pk, timezone.now(), force=force):
                continue  # a dispatcher's worker is fetching it right now: never two calls for one activity
            try:
                done = activity_enrich(activity_id=activity.pk, priority=priority, force=force, run=run)
            except (RateLimited, SubscriptionInactive):
                raise
            except StravaError:
                failed += 1
                done = False
            finally:
                Activity.objects.filter(pk=activity.pk).update(enrich_claimed_until=None)
            fetched += int(done)
            if on_activity is not None:
                on_activity(activity, done)
    finally:
        for run in runs.values():
            sync_run_finish(run)
    last = next(iter(runs.values()), None) if len(runs) == 1 else None
    return fetched, failed, last


def _in_chunks(ids: list[int], size: int = 200) -> Iterable[Activity]:
    for start in range(0, len(ids), size):
        by_pk = Activity.objects.in_bulk(ids[start : start + size])
        yield from (by_pk[pk] for pk in ids[start : start + size] if pk in by_pk)


# --- the dispatcher's steps ---------------------------------------------------------------------------
def connected_athletes() -> QuerySet[Athlete]:
    """Athletes whose activities we may read now."""
    return Athlete.objects.filter(
        token__isnull=False, needs_reconnect=False, disconnected_at__isnull=True, scopes__contains="activity:read"
    )


def sync_states_ensure() -> int:
    """A SyncState for every connected athlete: a newly connected one is due for its first pull at once."""
    missing = list(connected_athletes().filter(sync_state__isnull=True).values_list("pk", flat=True))
    SyncState.objects.bulk_create([SyncState(athlete_id=pk) for pk in missing], ignore_conflicts=True)
    return len(missing)


def _pulls_due(now: datetime) -> QuerySet[SyncState]:
    return SyncState.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        Q(backfill_done=False) | Q(pull_page__gt=0) | Q(next_pull_at__isnull=True) | Q(next_pull_at__lte=now),
        athlete__in=connected_athletes(),
    )


def _enrich_ready(now: datetime) -> QuerySet[Activity]:
    return Activity.objects.filter(
        Q(enrich_not_before__isnull=True) | Q(enrich_not_before__lte=now),
        Q(enrich_claimed_until__isnull=True) | Q(enrich_claimed_until__lt=now),
        detail_fetched_at__isnull=True,
        athlete__in=connected_athletes(),
    )


def _enrich_claim(pk: int, now: datetime, *, force: bool = False) -> bool:
    """Take the activity's enrich lease (a conditional UPDATE): True for exactly one taker."""
    free = Activity.objects.filter(Q(enrich_claimed_until__isnull=True) | Q(enrich_claimed_until__lt=now), pk=pk)
    if not force:
        free = free.filter(detail_fetched_at__isnull=True)
    return free.update(enrich_claimed_until=now + timedelta(seconds=settings.WAREHOUSE_CLAIM_TIMEOUT)) == 1


def pulls_dispatch(*, inline: bool = False) -> int:
    """Dispatcher step: take pull permits for the athletes due, claim each, hand one page to a worker."""
    now = timezone.now()
    sync_states_ensure()
    due = _pulls_due(now)
    lease = now + timedelta(seconds=settings.WAREHOUSE_CLAIM_TIMEOUT)

    def claim(pk: int) -> int | None:
        free = SyncState.objects.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=pk)
        if free.update(claimed_until=lease) != 1:
            return None
        return SyncState.objects.filter(pk=pk).values_list("athlete_id", flat=True).first()

    return permits_hand_out(
        ready=due, wanted=len(due.values_list("pk", flat=True)[: settings.WAREHOUSE_PULL_BATCH]), kind=Kind.READ,
        priority=Priority.PULL, fair_key="warehouse-pull", order_by=("id",), claim=claim,
        run=lambda athlete_id, permit: pull_claimed(athlete_id=athlete_id, grant=permit),
        task="warehouse.tasks.pull_page", label="warehouse pull athlete", inline=inline,
    )


def pull_claimed(*, athlete_id: int, grant: dict | None = None) -> PullResult | None:
    """A worker's half: one page of the athlete's pull with the dispatcher's permit, then the claim goes."""
    try:
        return activities_pull(athlete_id=athlete_id, max_calls=1, grant=grant, trigger=SyncRun.Trigger.DISPATCHER)
    except StravaError:
        return None  # recorded on the SyncState, which now rests until it may try again
    finally:
        SyncState.objects.filter(athlete_id=athlete_id).update(claimed_until=None)


def enrich_dispatch(*, inline: bool = False) -> int:
    """Dispatcher step: take enrich permits, claim that many activities (newest first, athletes in turn)."""
    now = timezone.now()
    ready = _enrich_ready(now)
    return permits_hand_out(
        ready=ready, wanted=len(ready.values_list("pk", flat=True)[: settings.WAREHOUSE_ENRICH_BATCH]),
        kind=Kind.READ, priority=Priority.ENRICH, fair_key="warehouse-enrich", order_by=("-start_date", "-id"),
        claim=lambda pk: pk if _enrich_claim(pk, now) else None,
        run=lambda pk, permit: enrich_claimed(activity_id=pk, grant=permit),
        task="warehouse.tasks.enrich_activity", label="warehouse enrich activity", inline=inline,
    )


def enrich_claimed(*, activity_id: int, grant: dict | None = None) -> bool:
    """A worker's half: enrich one claimed activity with the dispatcher's permit; book it on the athlete's run."""
    athlete_id = Activity.objects.filter(pk=activity_id).values_list("athlete_id", flat=True).first()
    if athlete_id is None:
        if grant:
            quota.release(Grant(**grant), 1, kind=Kind.READ)
        return False
    run = sync_run_open(kind=SyncRun.Kind.ENRICH, athlete_id=athlete_id, trigger=SyncRun.Trigger.DISPATCHER)
    try:
        return activity_enrich(activity_id=activity_id, grant=grant, run=run)
    except StravaError:
        return False  # recorded on the activity, which rests until it may try again
    finally:
        Activity.objects.filter(pk=activity_id).update(enrich_claimed_until=None)
        # The run ends with the athlete's backlog (claimed ones still count: their tasks are running).
        owed = Activity.objects.filter(Q(enrich_not_before__isnull=True) | Q(enrich_not_before__lte=timezone.now()),
                                       athlete_id=athlete_id, detail_fetched_at__isnull=True)
        if not owed.exists():
            sync_run_finish(run)


def pull_pending_calls() -> int:
    """Calls the pull backlog needs now (a floor: an unfinished backfill's length is unknown)."""
    return _pulls_due(timezone.now()).count() + connected_athletes().filter(sync_state__isnull=True).count()


def enrich_pending_calls() -> int:
    """One call per activity still without details, for connected athletes."""
    return Activity.objects.filter(detail_fetched_at__isnull=True, athlete__in=connected_athletes()).count()


# --- Strava's bulk export -----------------------------------------------------------------------------
@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    filled: int = 0
    unchanged: int = 0
    skipped: int = 0
    routes: int = 0
    manual_complete: int = 0  # manual activities: the export is their whole detail, no call needed
    errors: list[str] = field(default_factory=list)
    columns: strava_export.ColumnMap | None = None
    unknown_sports: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None

    def notes(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "filled": self.filled, "unchanged": self.unchanged, "skipped": self.skipped,
            "routes": self.routes, "manual_complete": self.manual_complete, "errors": self.errors[:50],
            "language": self.columns.language if self.columns else "",
            "columns_by_position": self.columns.by_position if self.columns else [],
            "columns_unknown": self.columns.unknown if self.columns else [],
            "unknown_sports": self.unknown_sports,
        }


# Columns an import may fill on an activity that already exists (only where ours is empty).
FILLABLE = ("name", "description", "calories", "gear_name", "export_file", "average_heartrate", "max_heartrate",
            "average_watts", "weighted_average_watts", "max_watts", "average_cadence", "elev_high", "elev_low",
            "summary_polyline", "kilojoules")


def _activities_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    candidates = [i for i in archive.infolist() if i.filename.rsplit("/", 1)[-1] == "activities.csv" and not i.is_dir()]
    if not candidates:
        raise strava_export.ExportError("no activities.csv in this zip: is it Strava's \"Download your data\" archive?")
    member = min(candidates, key=lambda i: i.filename.count("/"))
    if member.file_size > settings.UPLOADS_ARCHIVE_MAX_BYTES:
        raise strava_export.ExportError(f"activities.csv is larger than {settings.UPLOADS_ARCHIVE_MAX_BYTES} bytes")
    return member


def _manual_detail(strava_id: int, columns: dict[str, Any]) -> dict[str, Any]:
    """A manual activity has no recording: no route, splits or efforts. The export already holds
    everything its DetailedActivity would add (description, calories), so no call is owed for it."""
    return {"id": strava_id, "source": "strava-export", "manual": True, "name": columns["name"],
            "description": columns["description"], "calories": columns["calories"], "segment_efforts": [],
            "splits_metric": [], "laps": []}


def strava_export_import(
    *,
    athlete_id: int,
    path: str | Path | IO[bytes],  # a local path, or an opened stored file (warehouse.imports)
    routes: bool = True,
    trigger: str = SyncRun.Trigger.COMMAND,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> ImportResult:
    """Create or fill the athlete's activities from Strava's export zip: zero API calls.

    New activities are created from activities.csv (read by position; German headers too);
    activities we already have only get their empty columns filled. Routes come from the
    activity files. Manual activities are complete from the export; every other one stays in
    the enrich backlog, whose one call per activity then fetches only what the export lacks
    (segment efforts, splits). The backfill is marked done: the export holds the history.
    """
    result = ImportResult()
    run = sync_run_open(kind=SyncRun.Kind.IMPORT, athlete_id=athlete_id, trigger=trigger,
                        notes={"file": Path(getattr(path, "name", path)).name})
    result.run_id = run.pk
    try:
        with zipfile.ZipFile(path) as archive:
            member = _activities_member(archive)
            header, rows = strava_export.read_csv(archive.read(member))
            result.columns = strava_export.map_columns(header)
            root = member.filename[: -len("activities.csv")]
            parsed: list[strava_export.ExportActivity] = []
            for number, row in enumerate(rows, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                result.rows += 1
                try:
                    item = strava_export.row_activity(row, result.columns, header=header)
                except ValueError as exc:
                    result.skipped += 1
                    result.errors.append(f"line {number}: {exc}")
                    continue
                if not item.sport_known:
                    result.unknown_sports[item.columns["sport_type"]] = result.unknown_sports.get(item.columns["sport_type"], 0) + 1
                parsed.append(item)
            for start in range(0, len(parsed), UPSERT_CHUNK):
                chunk = parsed[start : start + UPSERT_CHUNK]
                if routes:
                    _routes_from_files(archive, root, chunk, result)
                _import_chunk(athlete_id, chunk, result)
                if on_progress is not None:
                    on_progress("rows", min(start + UPSERT_CHUNK, len(parsed)), len(parsed))
    except (zipfile.BadZipFile, strava_export.ExportError, OSError) as exc:
        message = str(exc) if not isinstance(exc, zipfile.BadZipFile) else f"not a zip file: {exc}"
        sync_run_finish(run, error=message, notes=result.notes())
        raise strava_export.ExportError(message) from exc
    rollups_refresh(athlete_id=athlete_id)
    _mark_history_known(athlete_id)
    SyncRun.objects.filter(pk=run.pk).update(created=result.created, updated=result.filled)
    sync_run_finish(run, notes=result.notes())
    return result


def _routes_from_files(archive: zipfile.ZipFile, root: str, chunk: list[strava_export.ExportActivity],
                       result: ImportResult) -> None:
    names = set(archive.namelist())
    for item in chunk:
        member = f"{root}{item.filename}" if item.filename else ""
        if not member or member not in names:
            continue
        info = archive.getinfo(member)
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > settings.UPLOADS_MAX_FILE_BYTES or ratio > settings.UPLOADS_ARCHIVE_MAX_RATIO:
            result.errors.append(f"{item.filename}: refused (too large or too compressed)")
            continue
        points = route_from_file(item.filename, archive.read(member))
        if len(points) >= 2:
            item.columns["summary_polyline"] = polyline_encode(thin(points))
            item.columns["start_lat"], item.columns["start_lng"] = (round(v, 6) for v in points[0])
            item.columns["end_lat"], item.columns["end_lng"] = (round(v, 6) for v in points[-1])
            result.routes += 1


def _import_chunk(athlete_id: int, chunk: list[strava_export.ExportActivity], result: ImportResult) -> None:
    now = timezone.now()
    ids = [item.strava_id for item in chunk]
    existing = {
        a.strava_id: a
        for a in Activity.objects.filter(strava_id__in=ids).only("strava_id", "athlete_id", "export_row", *FILLABLE)
    }
    create: list[Activity] = []
    fill: list[Activity] = []
    for item in chunk:
        columns = {**item.columns, "start_day": item.columns["start_date"].date()}
        old = existing.get(item.strava_id)
        if old is None:
            activity = Activity(strava_id=item.strava_id, athlete_id=athlete_id, source=Activity.Source.EXPORT,
                                export_row=item.row, created_at=now, updated_at=now, **columns)
            if columns["manual"]:
                activity.detail = _manual_detail(item.strava_id, columns)
                activity.detail_fetched_at = now
                result.manual_complete += 1
            create.append(activity)
            continue
        if old.athlete_id != athlete_id:
            result.skipped += 1
            result.errors.append(f"activity {item.strava_id} belongs to another athlete: not imported")
            continue
        changed = False
        for name in FILLABLE:
            if getattr(old, name) in (None, "") and columns.get(name) not in (None, ""):
                setattr(old, name, columns[name])
                changed = True
        if old.export_row is None:
            old.export_row = item.row
            changed = True
        if changed:
            old.updated_at = now
            fill.append(old)
        else:
            result.unchanged += 1
    with transaction.atomic():
        Activity.objects.bulk_create(create, batch_size=500, ignore_conflicts=True)
        if fill:
            Activity.objects.bulk_update(fill, [*FILLABLE, "export_row", "updated_at"], batch_size=200)
    result.created += len(create)
    result.filled += len(fill)


def _mark_history_known(athlete_id: int) -> None:
    """After an export: the history up to its newest activity is known; pulls ask only for what is newer."""
    newest = Activity.objects.filter(athlete_id=athlete_id).order_by("-start_date").values_list("start_date", flat=True).first()
    state = sync_state_for(athlete_id=athlete_id)
    fields: dict[str, Any] = {"backfill_done": True, "backfill_cursor": None}
    if not state.backfill_done:
        fields["backfill_done_at"] = timezone.now()
    if newest is not None and (state.watermark is None or newest > state.watermark):
        fields["watermark"] = newest
    SyncState.objects.filter(pk=state.pk).update(**fields)
