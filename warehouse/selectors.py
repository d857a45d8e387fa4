"""Reads for the warehouse: the activity list, one activity, stats from the rollups, exports, sync status.

Everything a page shows goes through the signed-in athlete; nothing here crosses athletes.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import Athlete
from stravasync.spreadsheets import csv_row
from stravasync.strava import quota
from stravasync.strava.quota import Kind, Priority

from .models import Activity, Rollup, SyncRun, SyncState

# What the list page sorts by (value -> order_by); every choice has an index starting with athlete.
SORTS = {
    "-start_date": ("-start_date", "-id"),
    "start_date": ("start_date", "id"),
    "-distance": ("-distance", "-id"),
    "distance": ("distance", "id"),
    "-moving_time": ("-moving_time", "-id"),
    "moving_time": ("moving_time", "id"),
    "-total_elevation_gain": ("-total_elevation_gain", "-id"),
    "total_elevation_gain": ("total_elevation_gain", "id"),
}
LIST_COLUMNS = ("id", "strava_id", "athlete_id", "name", "sport_type", "start_date", "start_date_local", "distance",
                "moving_time", "elapsed_time", "total_elevation_gain", "average_speed", "average_heartrate",
                "average_watts", "private", "commute", "trainer", "manual", "detail_fetched_at", "kudos_count")
EXPORT_COLUMNS = (
    "strava_id", "start_date", "start_date_local", "timezone", "name", "sport_type", "distance", "moving_time",
    "elapsed_time", "total_elevation_gain", "average_speed", "max_speed", "average_heartrate", "max_heartrate",
    "average_watts", "weighted_average_watts", "max_watts", "kilojoules", "calories", "average_cadence",
    "kudos_count", "achievement_count", "commute", "trainer", "manual", "private", "gear_id", "gear_name",
    "external_id", "upload_id", "source", "device_name", "start_lat", "start_lng", "end_lat", "end_lng", "description",
    "summary_polyline",
)
# The sync status counts an athlete's enrich backlog up to this many (beyond: "more than", no finish time).
BACKLOG_COUNTED_UP_TO = 10_000
METRICS = {
    "distance": ("Distance", "km"),
    "moving_time": ("Moving time", "h"),
    "elevation_gain": ("Elevation gain", "m"),
    "count": ("Activities", ""),
}


# --- the enrich backlog (shared with the segments app) -------------------------------------------------
def activities_without_details(*, athlete: Athlete | None = None) -> QuerySet[Activity]:
    """Activities still owed their one detail call, newest first."""
    activities = Activity.objects.filter(detail_fetched_at__isnull=True)
    if athlete is not None:
        activities = activities.filter(athlete=athlete)
    return activities.order_by("-start_date", "-id")


def activities_to_enrich(*, athlete_id: int | None = None, strava_ids: list[int] | None = None,
                         after: datetime | None = None, before: datetime | None = None,
                         force: bool = False) -> QuerySet[Activity]:
    """What `enrich` should fetch: named ids, a date range, or the backlog; newest first."""
    activities = Activity.objects.all() if force or strava_ids else Activity.objects.filter(detail_fetched_at__isnull=True)
    if athlete_id is not None:
        activities = activities.filter(athlete_id=athlete_id)
    if strava_ids:
        activities = activities.filter(strava_id__in=strava_ids)
        if not force:
            activities = activities.filter(detail_fetched_at__isnull=True)
    if after is not None:
        activities = activities.filter(start_date__gte=after)
    if before is not None:
        activities = activities.filter(start_date__lt=before)
    return activities.order_by("-start_date", "-id")


def enrich_idle_reason(*, athlete: Athlete | None = None, strava_ids: list[int] | None = None,
                       after: datetime | None = None, before: datetime | None = None, force: bool = False) -> str:
    """Why `enrich` fetched nothing, in words for whoever ran it ("" when no reason is visible)."""
    everything = Activity.objects.filter(athlete=athlete) if athlete is not None else Activity.objects.all()
    if not everything.exists():
        return "nothing to enrich: no activities in the warehouse yet (run pull first)"
    chosen = activities_to_enrich(athlete_id=athlete.pk if athlete else None, strava_ids=strava_ids, after=after,
                                  before=before, force=True)
    if not chosen.exists():
        return "nothing to enrich: no activity in the warehouse matches the ids or dates given"
    waiting = activities_to_enrich(athlete_id=athlete.pk if athlete else None, strava_ids=strava_ids, after=after,
                                   before=before, force=force)
    if not waiting.exists():
        return (f"nothing left to enrich: all {chosen.count()} chosen activities have their details "
                "(--force fetches them again)")
    claimed = waiting.filter(enrich_claimed_until__gt=timezone.now()).count()
    if claimed:
        return f"{claimed} of them are being fetched by the task cluster right now"
    return ""


# --- the list ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActivityFilters:
    sport: str = ""
    after: date | None = None  # local day, inclusive
    before: date | None = None  # local day, inclusive
    q: str = ""
    sort: str = "-start_date"

    @property
    def filtered(self) -> bool:
        return bool(self.sport or self.after or self.before or self.q)

    def as_query(self) -> dict[str, str]:
        """The filters as GET parameters (for pagination and export links)."""
        params = {"sport": self.sport, "after": self.after.isoformat() if self.after else "",
                  "before": self.before.isoformat() if self.before else "", "q": self.q, "sort": self.sort}
        return {k: v for k, v in params.items() if v and not (k == "sort" and v == "-start_date")}


def activities_for(*, athlete: Athlete, filters: ActivityFilters | None = None) -> QuerySet[Activity]:
    """The athlete's activities, filtered and sorted by what the index covers; JSON columns left out."""
    filters = filters or ActivityFilters()
    activities = Activity.objects.filter(athlete=athlete)
    if filters.sport:
        activities = activities.filter(sport_type=filters.sport)
    if filters.after:
        activities = activities.filter(start_day__gte=filters.after)
    if filters.before:
        activities = activities.filter(start_day__lte=filters.before)
    if filters.q:
        activities = activities.filter(name__icontains=filters.q)
    return activities.order_by(*SORTS.get(filters.sort, SORTS["-start_date"]))


def activities_total(*, athlete: Athlete, filters: ActivityFilters | None = None) -> int:
    """How many activities the filters select: from the monthly rollups when at most a sport is chosen
    (counting a million rows took a quarter of a second a page), else counted."""
    filters = filters or ActivityFilters()
    if filters.after or filters.before or filters.q:
        return activities_for(athlete=athlete, filters=filters).count()
    rollups = Rollup.objects.filter(athlete=athlete, period=Rollup.Period.MONTH)
    if filters.sport:
        rollups = rollups.filter(sport_type=filters.sport)
    return int(rollups.aggregate(n=Sum("count"))["n"] or 0)


def activity_list_page(*, athlete: Athlete, filters: ActivityFilters, page: int, per_page: int = 50) -> dict[str, Any]:
    """One page of the list and the total, with only the columns the table shows."""
    activities = activities_for(athlete=athlete, filters=filters)
    total = activities_total(athlete=athlete, filters=filters)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    start, end = (page - 1) * per_page, min(page * per_page, total)
    if start > total - end:
        # Nearer the end: read the index from the other end and turn the rows round, so that the last
        # page skips nothing (an OFFSET of a million rows took half a second).
        rows = list(activities.reverse().only(*LIST_COLUMNS)[total - end : total - start])[::-1]
    else:
        rows = list(activities.only(*LIST_COLUMNS)[start:end])
    return {"activities": rows, "total": total, "page": page, "pages": pages, "per_page": per_page,
            "has_previous": page > 1, "has_next": page < pages}


def activity_for(*, athlete: Athlete, strava_id: int) -> Activity | None:
    return Activity.objects.filter(athlete=athlete, strava_id=strava_id).first()


def file_activity_for(*, athlete: Athlete, pk: int) -> Activity | None:
    """An activity known only from the athlete's file (no Strava id yet), by our id."""
    return Activity.objects.filter(athlete=athlete, pk=pk, strava_id__isnull=True).first()


def activity_hrefs(*, athlete_id: int | None, strava_ids: Sequence[int | None]) -> dict[int, str]:
    """Where a person reads each activity: Strava's page with real Strava.

    In sandbox mode the ids are the simulator's, which mean nothing (or someone else's ride) at
    strava.com: there the link goes to our own activity page, and only for activities we have.
    """
    wanted = {i for i in strava_ids if i}
    if not settings.SANDBOX_MODE:
        return {i: f"{settings.STRAVA_WEB_URL}/activities/{i}" for i in wanted}
    if athlete_id is None or not wanted:
        return {}
    stored = Activity.objects.filter(athlete_id=athlete_id, strava_id__in=wanted).values_list("strava_id", flat=True)
    return {i: reverse("warehouse:activity", args=[i]) for i in stored if i is not None}


def sports_for(*, athlete: Athlete) -> list[str]:
    """The athlete's sports, most practised first (from the rollups: no scan of the activities)."""
    rows = (Rollup.objects.filter(athlete=athlete, period=Rollup.Period.MONTH).values("sport_type")
            .annotate(n=Sum("count")).order_by("-n", "sport_type"))
    return [row["sport_type"] for row in rows if row["sport_type"]]


# --- stats (from the rollups) -------------------------------------------------------------------------
class RollupRow(TypedDict):
    """One rollup as `.values()` of these fields gives it (the stats read no other columns)."""

    start: date
    sport_type: str
    count: int
    distance: float
    moving_time: int
    elapsed_time: int
    elevation_gain: float


def _metric_value(row: Mapping[str, Any], metric: str) -> float:
    if metric == "distance":
        return row["distance"] / 1000.0
    if metric == "moving_time":
        return row["moving_time"] / 3600.0
    if metric == "elevation_gain":
        return row["elevation_gain"]
    return float(row["count"])


def stats_years(*, athlete: Athlete) -> list[int]:
    starts = Rollup.objects.filter(athlete=athlete, period=Rollup.Period.MONTH).values_list("start", flat=True).distinct()
    return sorted({d.year for d in starts}, reverse=True)


def _rows(athlete: Athlete, period: str, start: date, end: date) -> list[RollupRow]:
    return list(
        Rollup.objects.filter(athlete=athlete, period=period, start__gte=start, start__lt=end)
        .values("start", "sport_type", "count", "distance", "moving_time", "elapsed_time", "elevation_gain")
        .order_by("start", "sport_type")
    )


def _table(rows: Sequence[Mapping[str, Any]], labels: list[date], sports: list[str]) -> list[dict[str, Any]]:
    """One row per period: totals per sport and overall, every metric."""
    by_key = {(r["start"], r["sport_type"]): r for r in rows}
    table = []
    for label in labels:
        cells = {}
        total = {"count": 0, "distance": 0.0, "moving_time": 0, "elevation_gain": 0.0}
        for sport in sports:
            row = by_key.get((label, sport))
            if row is not None:
                cells[sport] = row
                for key in total:
                    total[key] += row[key]
        table.append({"start": label, "sports": cells, "total": total})
    return table


def stats_weekly(*, athlete: Athlete, year: int) -> dict[str, Any]:
    """Weekly totals per sport for the weeks that start in `year` (Monday weeks)."""
    first = date(year, 1, 1)
    first_monday = first + timedelta(days=(7 - first.weekday()) % 7)
    weeks = []
    day = first_monday
    while day.year == year:
        weeks.append(day)
        day += timedelta(days=7)
    rows = _rows(athlete, Rollup.Period.WEEK, first_monday, day)
    sports = _sports_in(rows)
    return {"labels": weeks, "sports": sports, "rows": rows, "table": _table(rows, weeks, sports)}


def stats_monthly(*, athlete: Athlete, year: int) -> dict[str, Any]:
    months = [date(year, m, 1) for m in range(1, 13)]
    rows = _rows(athlete, Rollup.Period.MONTH, months[0], date(year + 1, 1, 1))
    sports = _sports_in(rows)
    return {"labels": months, "sports": sports, "rows": rows, "table": _table(rows, months, sports)}


def stats_years_compared(*, athlete: Athlete, metric: str = "distance") -> dict[str, Any]:
    """Year over year: totals per year and sport, and each year's running total month by month."""
    rows = list(
        Rollup.objects.filter(athlete=athlete, period=Rollup.Period.MONTH)
        .values("start", "sport_type", "count", "distance", "moving_time", "elapsed_time", "elevation_gain")
    )
    per_year: dict[int, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    monthly: dict[int, list[float]] = defaultdict(lambda: [0.0] * 12)
    for row in rows:
        year = row["start"].year
        for key in ("count", "distance", "moving_time", "elevation_gain"):
            per_year[year][row["sport_type"]][key] += row[key]
            per_year[year]["__all__"][key] += row[key]
        monthly[year][row["start"].month - 1] += _metric_value(row, metric)
    cumulative = {}
    today = timezone.now().date()
    for year, values in monthly.items():
        running, total = [], 0.0
        # The current year's line stops at this month: the months to come are not zeros.
        for value in values[: today.month if year == today.year else 12]:
            total += value
            running.append(round(total, 1))
        cumulative[year] = running
    years = sorted(per_year, reverse=True)
    sports = sorted({s for y in per_year.values() for s in y if s != "__all__"})
    table = [{"year": y, "total": per_year[y]["__all__"], "sports": {s: per_year[y][s] for s in sports if s in per_year[y]}}
             for y in years]
    return {"years": years, "sports": sports, "table": table, "cumulative": cumulative}


def _sports_in(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row["sport_type"]] += row["count"]
    return sorted(totals, key=lambda s: (-totals[s], s))


def chart_series(stats: dict[str, Any], metric: str) -> list[tuple[str, list[float]]]:
    """(sport, value per label) for a stacked bar chart of one metric."""
    index = {label: i for i, label in enumerate(stats["labels"])}
    series = {sport: [0.0] * len(index) for sport in stats["sports"]}
    for row in stats["rows"]:
        if row["start"] in index:
            series[row["sport_type"]][index[row["start"]]] += _metric_value(row, metric)
    return list(series.items())


# --- exports --------------------------------------------------------------------------------------
def _export_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def export_rows(*, activities: QuerySet[Activity]) -> Iterator[dict[str, Any]]:
    for row in activities.values(*EXPORT_COLUMNS).iterator(chunk_size=2000):
        row["start_date_local"] = row["start_date_local"].replace(tzinfo=None).isoformat() if row["start_date_local"] else None
        yield {key: _export_value(value) for key, value in row.items()}


def export_csv_lines(*, activities: QuerySet[Activity]) -> Iterator[str]:
    """The CSV a streaming response sends, a line at a time (100,000 activities never sit in memory)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    yield out.getvalue()
    for row in export_rows(activities=activities):
        out.seek(0)
        out.truncate()
        writer.writerow(csv_row(row[c] for c in EXPORT_COLUMNS))
        yield out.getvalue()


def export_json_chunks(*, activities: QuerySet[Activity]) -> Iterator[str]:
    """A JSON array, streamed."""
    yield "["
    first = True
    for row in export_rows(activities=activities):
        yield ("" if first else ",\n") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "]\n"


# --- sync status ------------------------------------------------------------------------------------
def sync_status(*, athlete: Athlete, total: int | None = None) -> dict[str, Any]:
    """What the pages say about the athlete's sync: last success, backfill, the enrich backlog and its ETA.

    `total`: the athlete's activity count when the caller has just counted it (saves a count).
    """
    state = SyncState.objects.filter(athlete=athlete).first()
    # Counted only up to a bound: an athlete who just connected a long history has hundreds of thousands.
    backlog = Activity.objects.filter(athlete=athlete, detail_fetched_at__isnull=True).order_by()[
        : BACKLOG_COUNTED_UP_TO + 1].count()
    last_runs = list(SyncRun.objects.filter(athlete=athlete).order_by("-started_at")[:5])
    return {
        "state": state,
        "total": activities_total(athlete=athlete) if total is None else total,
        "enrich_backlog": backlog if backlog <= BACKLOG_COUNTED_UP_TO else f"more than {BACKLOG_COUNTED_UP_TO:,}",
        "enrich_eta": (quota.estimate_finish(backlog, kind=Kind.READ, priority=Priority.ENRICH)
                       if 0 < backlog <= BACKLOG_COUNTED_UP_TO else None),
        "last_runs": last_runs,
    }


def sync_runs_recent(*, athlete: Athlete, limit: int = 50) -> list[SyncRun]:
    """The athlete's audit log, newest first: their own runs only."""
    return list(SyncRun.objects.filter(athlete=athlete).order_by("-started_at", "-pk")[:limit])
