"""Import of Strava's bulk-export zip (`activities.csv` + files): the warehouse seeded with zero API calls.

A zip given on the web is kept in the file storage and the task gets its storage name, never a
local path: the worker may run on another machine. The task deletes it when done.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import Athlete
from stravasync.storage import storage_files
from stravasync.zipread import UNREADABLE, MemberRefused, ReadBudget, member_open, member_read
from warehouse import strava_export
from warehouse.models import Activity, SyncRun, SyncState
from warehouse.routes import polyline_encode, route_from_file, thin
from warehouse.services.files import file_row_claim, file_rows_match
from warehouse.services.rollups import rollups_refresh
from warehouse.services.runs import sync_run, sync_run_finish, sync_state_for
from warehouse.services.store import UPSERT_CHUNK


# --- a zip given on the web -----------------------------------------------------------------------------
def export_import_request(*, athlete_id: int, archive: File) -> str:
    """Store an uploaded export zip and queue its import (once the request's transaction commits).

    Returns the storage name the task receives.
    """
    name = default_storage.save(f"imports/{athlete_id}/{timezone.now():%Y%m%d}-{uuid.uuid4().hex[:8]}.zip", archive)
    transaction.on_commit(partial(async_task, "warehouse.tasks.import_export", athlete_id, name,
                                  task_name=f"import export {athlete_id}", group="warehouse"))
    return name


def export_import_stored(*, athlete_id: int, name: str, trigger: str = SyncRun.Trigger.WEB) -> ImportResult:
    """Import a stored export zip (no API call), then delete it: its activities are stored.

    The run is opened first, so that even a missing file leaves a row, with its reason, on the import page.
    """
    try:
        with sync_run(kind=SyncRun.Kind.IMPORT, athlete_id=athlete_id, trigger=trigger,
                      notes={"file": Path(name).name}, finish=False) as run:
            try:
                stored = default_storage.open(name, "rb")
            except (OSError, SuspiciousFileOperation) as exc:
                # SuspiciousFileOperation: a name outside the storage (a local path queued by an older version).
                raise strava_export.ExportError(f"the stored export {name} is missing") from exc
            # zipfile reads a seekable file object as well as a path: a bucket's file is one.
            with stored:
                return _import(athlete_id=athlete_id, source=stored, run=run)
    finally:
        try:
            default_storage.delete(name)
        except (OSError, SuspiciousFileOperation):
            pass  # gone already, or never ours to delete


def export_zip_orphans(*, now: datetime) -> Iterator[tuple[str, str]]:
    """(name, why) for stored export zips no task will read: a day old (the task deletes its zip), or of an athlete gone."""
    athletes = set(Athlete.objects.values_list("pk", flat=True))
    for name in storage_files(default_storage, "imports"):
        owner = name.split("/")[1] if name.count("/") >= 2 else ""
        if not owner.isdigit() or int(owner) not in athletes:
            yield name, "its athlete is gone"
        elif default_storage.get_modified_time(name) < now - timedelta(days=1):
            yield name, "older than a day: its import task is not coming"


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
    merged: int = 0  # activities the warehouse had from the athlete's files: the export filled those rows
    errors: list[str] = field(default_factory=list)
    files_refused: list[str] = field(default_factory=list)  # activity files past a limit: no route from them
    columns: strava_export.ColumnMap | None = None
    unknown_sports: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None

    def notes(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "filled": self.filled, "unchanged": self.unchanged, "skipped": self.skipped,
            "routes": self.routes, "manual_complete": self.manual_complete, "merged": self.merged, "errors": self.errors[:50],
            "files_refused": self.files_refused[:50],
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
    return min(candidates, key=lambda i: i.filename.count("/"))


def _manual_detail(strava_id: int, columns: dict[str, Any]) -> dict[str, Any]:
    """A manual activity has no recording: no route, splits or efforts. The export already holds
    everything its DetailedActivity would add (description, calories), so no call is owed for it."""
    return {"id": strava_id, "source": "strava-export", "manual": True, "name": columns["name"],
            "description": columns["description"], "calories": columns["calories"], "segment_efforts": [],
            "splits_metric": [], "laps": []}


def strava_export_import(
    *,
    athlete_id: int,
    path: str | Path | IO[bytes],  # a local path, or an opened stored file (export_import_stored)
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
    source = path if isinstance(path, str | Path) else path.name  # an opened file: the name it was opened by
    with sync_run(kind=SyncRun.Kind.IMPORT, athlete_id=athlete_id, trigger=trigger,
                  notes={"file": Path(source).name}, finish=False) as run:
        return _import(athlete_id=athlete_id, source=path, run=run, routes=routes, on_progress=on_progress)


def _import(*, athlete_id: int, source: str | Path | IO[bytes], run: SyncRun, routes: bool = True,
            on_progress: Callable[[str, int, int], None] | None = None) -> ImportResult:
    """The import inside its run; an ExportError (said plainly) finishes the run with the reason."""
    result = ImportResult(run_id=run.pk)
    budget = ReadBudget(settings.UPLOADS_ARCHIVE_MAX_BYTES)
    try:
        with zipfile.ZipFile(source) as archive:
            member = _activities_member(archive)
            with member_open(archive, member, max_bytes=settings.WAREHOUSE_EXPORT_CSV_MAX_BYTES,
                             max_ratio=settings.UPLOADS_ARCHIVE_MAX_RATIO, budget=budget,
                             label="activities.csv") as stream:
                parsed = _read_rows(stream, result)
            root = member.filename[: -len("activities.csv")]
            for start in range(0, len(parsed), UPSERT_CHUNK):
                chunk = parsed[start : start + UPSERT_CHUNK]
                if routes:
                    _routes_from_files(archive, root, chunk, result, budget)
                _import_chunk(athlete_id, chunk, result)
                if on_progress is not None:
                    on_progress("rows", min(start + UPSERT_CHUNK, len(parsed)), len(parsed))
    except (strava_export.ExportError, MemberRefused, *UNREADABLE) as exc:
        if isinstance(exc, zipfile.BadZipFile):
            message = f"not a zip file: {exc}"
        elif isinstance(exc, strava_export.ExportError | MemberRefused):
            message = str(exc)
        else:
            message = f"the zip cannot be read (damaged, or a compression we do not know): {exc}"
        SyncRun.objects.filter(pk=run.pk).update(created=result.created, updated=result.filled,
                                                 notes={**run.notes, **result.notes()})
        raise strava_export.ExportError(message or type(exc).__name__) from exc
    rollups_refresh(athlete_id=athlete_id)
    _mark_history_known(athlete_id)
    SyncRun.objects.filter(pk=run.pk).update(created=result.created, updated=result.filled)
    sync_run_finish(run, notes=result.notes())
    return result


def _read_rows(stream: IO[bytes], result: ImportResult) -> list[strava_export.ExportActivity]:
    header, rows = strava_export.read_csv(stream)
    result.columns = strava_export.map_columns(header)
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
    return parsed


def _routes_from_files(archive: zipfile.ZipFile, root: str, chunk: list[strava_export.ExportActivity],
                       result: ImportResult, budget: ReadBudget) -> None:
    """Routes from the activity files, each read through a bounded stream: a file past a limit is reported and skipped."""
    for item in chunk:
        if not item.filename:
            continue
        try:
            info = archive.getinfo(f"{root}{item.filename}")
        except KeyError:
            continue
        try:
            data = member_read(archive, info, max_bytes=settings.WAREHOUSE_EXPORT_FILE_MAX_BYTES,
                               max_ratio=settings.UPLOADS_ARCHIVE_MAX_RATIO, budget=budget, label=item.filename)
        except MemberRefused as exc:
            result.files_refused.append(f"{exc}: its route is not read")
            if budget.bytes_left < 0:
                raise
            continue
        except UNREADABLE as exc:  # one damaged member: its route is lost, not the import
            result.files_refused.append(f"{item.filename}: unreadable in the zip ({exc})")
            continue
        points = route_from_file(item.filename, data)
        del data
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
    # Activities new to the warehouse that it holds from the athlete's own files: the export fills those rows.
    from_files = file_rows_match(athlete_id=athlete_id, incoming={
        item.strava_id: item.columns for item in chunk if item.strava_id not in existing})
    for item in chunk:
        columns = {**item.columns, "start_day": item.columns["start_date"].date()}
        old = existing.get(item.strava_id)
        file_row = from_files.get(item.strava_id) if old is None else None
        if file_row is not None and file_row_claim(
            file_row, strava_id=item.strava_id, columns=columns, export_row=item.row, updated_at=now,
            detail=_manual_detail(item.strava_id, columns) if columns["manual"] else None,
            detail_fetched_at=now if columns["manual"] else None, enrich_not_before=None,
        ):
            result.merged += 1
            continue
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
