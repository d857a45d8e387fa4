"""Activities from the athlete's own files: built from the file with no call, merged with Strava's copy later.

A file row has no `strava_id`. When Strava's copy of the same activity arrives (a listed page, a
fetched detail, an export row, an upload's answer) it fills that same row instead of a second
one: matched by the upload where we sent the file (Strava's upload id, or our external id
`stravasync-<upload pk>`), else by the recorded start within ±2 minutes and a compatible sport,
for the same athlete, among rows Strava has not claimed yet. The rollups count the row once.

The warehouse never imports the uploads app (it sits above): the uploads hand in what they read
(`FileActivity`) and the id of their row, which the activity keeps as `upload_pk`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from activityfiles import ActivitySummary
from activityfiles.sports import sports_compatible
from warehouse.models import Activity, local_day
from warehouse.routes import polyline_encode, thin
from warehouse.services.rollups import rollups_refresh

MATCH_WINDOW = timedelta(minutes=2)
EXTERNAL_ID = re.compile(r"^stravasync-(\d+)$")
# Shown (and rolled up) for a file that names no sport; it matches any sport Strava later gives.
UNNAMED_SPORT = "Workout"


@dataclass(frozen=True)
class FileActivity:
    """One activity file as the uploads read it (its columns: `file_columns`), with what they know of it at Strava.

    Columns, not the summary: a long recording's points are dropped as soon as it is read, so a
    chunk of files never holds more than one file's track.
    """

    upload_pk: int
    columns: dict[str, Any]
    strava_id: int | None = None  # the upload settled: Strava has it as this activity (done, or duplicate of it)
    strava_upload_id: int | None = None


@dataclass
class FilesResult:
    created: int = 0
    linked: int = 0  # the activity was already in the warehouse (Strava's copy, or another file of it)
    days: set[date] = field(default_factory=set)


def upload_pk_of(external_id: Any) -> int | None:
    """Our Upload's id from the external id we gave Strava (`stravasync-<pk>`), else None."""
    found = EXTERNAL_ID.match(str(external_id or ""))
    return int(found.group(1)) if found else None


def _round(value: float | None) -> int:
    return round(value) if value is not None and value > 0 else 0


def file_columns(summary: ActivitySummary, *, name: str) -> dict[str, Any]:
    """Our columns from a file's summary, in Strava's units (what Strava would build from the file).

    Raises ValueError for a file with no recorded start: nothing to show, count or match.
    """
    if summary.start_time is None:
        raise ValueError("the file has no recorded start")
    start = summary.start_time if summary.start_time.tzinfo else summary.start_time.replace(tzinfo=UTC)
    positions = [(p.lat, p.lng) for p in summary.points if p.lat is not None and p.lng is not None]
    altitudes = [p.altitude for p in summary.points if p.altitude is not None]
    distance = max(summary.distance or 0.0, 0.0)
    moving = _round(summary.moving_time)
    sport = summary.sport or UNNAMED_SPORT
    start_lat, start_lng = summary.start_latlng or (None, None)
    end_lat, end_lng = summary.end_latlng or (None, None)
    return {
        "name": name[:255], "sport_type": sport, "type": sport, "start_date": start, "start_date_local": None,
        "start_day": local_day(None, start), "distance": distance, "moving_time": moving,
        "elapsed_time": _round(summary.elapsed_time), "total_elevation_gain": max(summary.elevation_gain or 0.0, 0.0),
        "elev_high": max(altitudes) if altitudes else None, "elev_low": min(altitudes) if altitudes else None,
        "average_speed": distance / moving if moving else 0.0, "trainer": summary.trainer,
        "start_lat": start_lat, "start_lng": start_lng, "end_lat": end_lat, "end_lng": end_lng,
        "summary_polyline": polyline_encode(thin(positions)) if len(positions) >= 2 else "",
        "device_name": (summary.device_name or "")[:255],
    }


# --- files in ------------------------------------------------------------------------------------------------
def activities_from_files(*, athlete_id: int, files: Sequence[FileActivity]) -> FilesResult:
    """One warehouse activity per file, or the file linked to the row that already is its activity; no call.

    Idempotent: a file already linked (by its upload) is left as it is. The rollups of the days
    touched are refreshed once, in the same transaction.
    """

    result = FilesResult()
    now = timezone.now()
    with transaction.atomic():
        for item in files:
            columns = item.columns
            row = _same_activity(athlete_id, item, columns)
            if row is not None:
                if _link(row, item, columns, now):
                    result.days.add(row.start_day)
                result.linked += 1
                continue
            strava_id = item.strava_id
            if strava_id is not None and Activity.objects.filter(strava_id=strava_id).exists():
                strava_id = None  # another athlete's id (never moved between athletes): the file stands alone
            Activity.objects.create(
                athlete_id=athlete_id, source=Activity.Source.FILE, upload_pk=item.upload_pk, strava_id=strava_id,
                upload_id=item.strava_upload_id,
                # A file row owes no detail call; one Strava already has is owed its one.
                detail_fetched_at=None if strava_id else now, **columns,
            )
            result.created += 1
            result.days.add(columns["start_day"])
        if result.days:
            rollups_refresh(athlete_id=athlete_id, days=result.days)
    return result


def _same_activity(athlete_id: int, item: FileActivity, columns: dict[str, Any]) -> Activity | None:
    """The row that already is this file's activity: by Strava's id, by the upload, else by start and sport."""
    mine = Activity.objects.filter(athlete_id=athlete_id)
    if item.strava_id is not None:
        row = mine.filter(strava_id=item.strava_id).first()
        if row is not None:
            return row
    row = mine.filter(upload_pk=item.upload_pk).first()
    if row is not None:
        return row
    start = columns["start_date"]
    near = mine.filter(start_date__gte=start - MATCH_WINDOW, start_date__lte=start + MATCH_WINDOW)
    if item.strava_id is not None:  # never a row Strava holds as another activity
        near = near.filter(strava_id__isnull=True)
    fits = [a for a in near if sports_compatible(a.sport_type, columns["sport_type"])]
    return min(fits, key=lambda a: abs(a.start_date - start), default=None)


def _link(row: Activity, item: FileActivity, columns: dict[str, Any], now: datetime) -> bool:
    """Give the row what the file adds and it lacks (its upload, device, route, Strava id); True if saved."""
    fields: dict[str, Any] = {}
    if row.upload_pk is None:
        fields["upload_pk"] = item.upload_pk
    if not row.device_name and columns["device_name"]:
        fields["device_name"] = columns["device_name"]
    if not row.summary_polyline and columns["summary_polyline"]:
        fields["summary_polyline"] = columns["summary_polyline"]
    if item.strava_id is not None and row.strava_id is None and not Activity.objects.filter(strava_id=item.strava_id).exists():
        fields.update(strava_id=item.strava_id, detail_fetched_at=None, enrich_not_before=None)
    if not fields:
        return False
    Activity.objects.filter(pk=row.pk).update(**fields, updated_at=now)
    return True


def activity_file_on_strava(*, athlete_id: int, upload_pk: int, strava_id: int) -> bool:
    """An upload settled: Strava has its file as activity `strava_id`. The file's row becomes that activity.

    If the warehouse already holds `strava_id` as a row of its own (a pull came first), the file's
    row folds into it (what only the file knew is kept) and goes: one row per activity.
    Returns True if a row changed. No call: the next enrich fills Strava's fields.
    """

    with transaction.atomic():
        row = Activity.objects.select_for_update().filter(athlete_id=athlete_id, upload_pk=upload_pk,
                                                          strava_id__isnull=True).first()
        if row is None:
            return False  # not read yet (the reading will carry the Strava id), or already linked
        other = Activity.objects.filter(strava_id=strava_id).first()
        now = timezone.now()
        if other is None:
            Activity.objects.filter(pk=row.pk).update(strava_id=strava_id, detail_fetched_at=None,
                                                      enrich_not_before=None, updated_at=now)
            return True
        if other.athlete_id != athlete_id:
            return False
        fields: dict[str, Any] = {}
        if other.upload_pk is None:
            fields["upload_pk"] = upload_pk
        if not other.device_name and row.device_name:
            fields["device_name"] = row.device_name
        if not other.summary_polyline and row.summary_polyline:
            fields["summary_polyline"] = row.summary_polyline
        days = {row.start_day, other.start_day}
        row.delete()
        if fields:
            Activity.objects.filter(pk=other.pk).update(**fields, updated_at=now)
        rollups_refresh(athlete_id=athlete_id, days=days)
    return True


def activities_of_upload_forget(*, upload_pk: int) -> int:
    """The person deleted the file: a row only it made goes; a row Strava has only forgets the link."""

    with transaction.atomic():
        rows = list(Activity.objects.filter(upload_pk=upload_pk).values("pk", "athlete_id", "strava_id", "start_day"))
        gone = [r for r in rows if r["strava_id"] is None]
        Activity.objects.filter(pk__in=[r["pk"] for r in gone]).delete()
        Activity.objects.filter(pk__in=[r["pk"] for r in rows if r["strava_id"] is not None]).update(upload_pk=None)
        for row in gone:
            rollups_refresh(athlete_id=row["athlete_id"], days={row["start_day"]})
    return len(gone)


# --- Strava's copy in -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileRow:
    pk: int
    start_date: datetime
    start_day: date
    sport_type: str
    summary_polyline: str


def file_rows_match(*, athlete_id: int, incoming: Mapping[int, Mapping[str, Any]]) -> dict[int, FileRow]:
    """For Strava activities new to the warehouse (strava id -> columns), the file rows that are them.

    One query per call: the athlete's file rows not yet on Strava that were uploaded as one of these
    (upload id, external id) or start within the window of one. By the upload first; then each
    activity takes the closest start of a compatible sport, no row twice.
    """
    if not incoming:
        return {}
    starts = [c["start_date"] for c in incoming.values()]
    upload_ids = {c["upload_id"] for c in incoming.values() if c.get("upload_id")}
    ours = {pk for pk in (upload_pk_of(c.get("external_id")) for c in incoming.values()) if pk is not None}
    where = Q(start_date__gte=min(starts) - MATCH_WINDOW, start_date__lte=max(starts) + MATCH_WINDOW)
    if upload_ids:
        where |= Q(upload_id__in=upload_ids)
    if ours:
        where |= Q(upload_pk__in=ours)
    rows = list(Activity.objects.filter(where, athlete_id=athlete_id, strava_id__isnull=True)
                .values_list("pk", "start_date", "start_day", "sport_type", "summary_polyline", "upload_id", "upload_pk"))
    if not rows:
        return {}
    # Keyed by what an activity's JSON may hold, None included, so that a miss is just a miss.
    by_upload_id: dict[Any, tuple[Any, ...]] = {r[5]: r for r in rows if r[5]}
    by_upload_pk: dict[Any, tuple[Any, ...]] = {r[6]: r for r in rows if r[6]}
    taken: set[int] = set()
    found: dict[int, FileRow] = {}

    def take(strava_id: int, r: tuple[Any, ...]) -> None:
        taken.add(r[0])
        found[strava_id] = FileRow(pk=r[0], start_date=r[1], start_day=r[2], sport_type=r[3], summary_polyline=r[4])

    for strava_id, columns in incoming.items():
        r = by_upload_id.get(columns.get("upload_id")) or by_upload_pk.get(upload_pk_of(columns.get("external_id")))
        if r is not None and r[0] not in taken:
            take(strava_id, r)
    timed = sorted(rows, key=lambda r: r[1])
    keys = [r[1] for r in timed]
    for strava_id, columns in sorted(incoming.items(), key=lambda kv: kv[1]["start_date"]):
        if strava_id in found:
            continue
        start = columns["start_date"]
        lo, hi = bisect.bisect_left(keys, start - MATCH_WINDOW), bisect.bisect_right(keys, start + MATCH_WINDOW)
        fits = [r for r in timed[lo:hi] if r[0] not in taken and sports_compatible(r[3], columns.get("sport_type"))]
        if fits:
            take(strava_id, min(fits, key=lambda r: abs(r[1] - start)))
    return found


def file_row_claim(row: FileRow, *, strava_id: int, columns: dict[str, Any], **fields: Any) -> bool:
    """Fill Strava's columns into a matched file row; False if another writer claimed it first."""
    values = {**columns, **fields}
    if not values.get("summary_polyline") and row.summary_polyline:
        values["summary_polyline"] = row.summary_polyline  # Strava shows no map (indoor, privacy): the file's stays
    return Activity.objects.filter(pk=row.pk, strava_id__isnull=True).update(strava_id=strava_id, **values) == 1
