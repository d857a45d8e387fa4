"""Files first: every accepted activity file becomes a warehouse activity, read from the stored file with no call.

The Upload rows are the queue of record: an activity file (Upload.ACTIVITY_FILE, not a copy of
another) with `warehoused_at` null is owed its read. The dispatcher's step claims a few files at a
time under a lease and hands them to a worker task: the full read (every record of the file, up
to a few seconds for a long ride) never runs inside a web request, a drop of 10,000 files is
spread over the workers, and one file's bytes and track at a time are in memory. A worker that
vanished leaves its files to the next claim when its lease ends. The reading does not wait for
Strava: with the quota spent, the athlete not connected or Strava "Inactive", the stats still
show every file.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from activityfiles import read_activity
from warehouse.services.files import FileActivity, activities_from_files, file_columns

from ..models import Upload

logger = logging.getLogger(__name__)
S = Upload.Status


def _backlog() -> QuerySet[Upload]:
    return Upload.objects.filter(warehoused_at__isnull=True, status__in=Upload.ACTIVITY_FILE)


def uploads_warehouse_pending(*, batch_id: int | None = None) -> int:
    """Files still owed their read into the warehouse (of one batch, or all)."""
    backlog = _backlog()
    return (backlog.filter(batch_id=batch_id) if batch_id is not None else backlog).count()


def uploads_warehouse_claim(*, limit: int, batch_id: int | None = None,
                            now: datetime | None = None) -> tuple[list[int], datetime]:
    """Claim up to `limit` files owed their read, oldest first; returns their ids and the lease that marks them ours."""
    now = now or timezone.now()
    free = _backlog().filter(Q(warehouse_claimed_until__isnull=True) | Q(warehouse_claimed_until__lt=now))
    if batch_id is not None:
        free = free.filter(batch_id=batch_id)
    ids = list(free.order_by("id").values_list("pk", flat=True)[:limit])
    # The lease's exact value (to the microsecond) tells our claim from another dispatcher's.
    lease = now + timedelta(seconds=settings.UPLOADS_WAREHOUSE_LEASE)
    if ids:
        free.filter(pk__in=ids).update(warehouse_claimed_until=lease)
        ids = list(Upload.objects.filter(pk__in=ids, warehouse_claimed_until=lease).values_list("pk", flat=True))
    return ids, lease


def uploads_warehouse_dispatch(*, inline: bool = False, batch_id: int | None = None) -> int:
    """The dispatcher's step: hand workers the files owed their read, a chunk a task, a few tasks at once.

    No Strava permit is involved. Returns how many files were handed out (or read, `inline`).
    """
    now = timezone.now()
    chunk = max(1, settings.UPLOADS_WAREHOUSE_CHUNK)
    busy = _backlog().filter(warehouse_claimed_until__gt=now).count()
    tasks = settings.UPLOADS_WAREHOUSE_TASKS - -(-busy // chunk) if not inline else 1
    handed = 0
    for _ in range(max(0, tasks)):
        ids, lease = uploads_warehouse_claim(limit=chunk, batch_id=batch_id, now=now)
        if not ids:
            break
        handed += len(ids)
        if inline:
            uploads_warehouse(upload_ids=ids, lease=lease)
        else:
            from django_q.tasks import async_task

            transaction.on_commit(partial(async_task, "uploads.tasks.warehouse_files", ids, lease.isoformat(),
                                          task_name=f"warehouse {len(ids)} files", group="uploads"))
    return handed


def uploads_warehouse(*, upload_ids: Sequence[int], lease: datetime | str | None = None) -> int:
    """Read claimed files into the warehouse, one at a time in memory; returns the activities handed in.

    Only files still owed and (with `lease`) still under this claim are read: a task that runs
    twice, or late after its lease passed to another worker, reads nothing twice.
    """
    if isinstance(lease, str):
        lease = parse_datetime(lease)
    uploads = _backlog().filter(pk__in=list(upload_ids)).order_by("id")
    if lease is not None:
        uploads = uploads.filter(warehouse_claimed_until=lease)
    items: dict[int, list[FileActivity]] = defaultdict(list)
    read: list[int] = []
    for upload in uploads:
        read.append(upload.pk)
        item = _file_activity(upload)
        if item is not None:
            items[upload.athlete_id].append(item)
    for athlete_id, files in items.items():
        activities_from_files(athlete_id=athlete_id, files=files)
    Upload.objects.filter(pk__in=read).update(warehoused_at=timezone.now(), warehouse_claimed_until=None)
    return sum(len(files) for files in items.values())


def _file_activity(upload: Upload) -> FileActivity | None:
    """What the warehouse needs of one file; None for a copy of another file, or a file with nothing to show."""
    if upload.duplicate_of_upload_id is not None:
        return None  # the same bytes as another upload: that one carries the activity
    stored = upload.file.name
    if not stored:
        return None
    try:
        with upload.file.storage.open(stored, "rb") as stream:
            data = stream.read(settings.UPLOADS_MAX_FILE_BYTES + 1)
    except OSError as exc:
        logger.warning("upload %s: the stored file cannot be read for the warehouse: %s", upload.pk, exc)
        return None
    summary = read_activity(data)
    del data
    if summary is None or summary.start_time is None:
        return None
    strava_id = upload.activity_id if upload.status == S.DONE else (
        upload.duplicate_of_activity if upload.status == S.DUPLICATE else None)
    return FileActivity(upload_pk=upload.pk, columns=file_columns(summary, name=upload.display_name),
                        strava_id=strava_id, strava_upload_id=upload.strava_upload_id)
