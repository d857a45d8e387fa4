"""Ingest (store, hash, sniff, sweep junk and copies) and what a person does with a file after:
retry, mark as junk, classify again, delete."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db.models import F

from accounts.models import Athlete
from activityfiles import Verdict, classify_file, sniff_type

from ..archives import ArchiveLimits, iter_zip_members
from ..models import Upload, UploadBatch, UploadEvent
from .states import S, batch_refresh, upload_transition
from .storage import file_keep, file_spool, stored_file_classify

# Inside archives only these are looked at (their content still decides the type).
ARCHIVE_MEMBER_EXTENSIONS = (".fit", ".fit.gz", ".gpx", ".gpx.gz", ".tcx", ".tcx.gz", ".gz", ".zip")


def batch_create(*, athlete: Athlete, source: str, label: str = "") -> UploadBatch:
    return UploadBatch.objects.create(athlete=athlete, source=source, label=label[:500])


def _archive_limits() -> ArchiveLimits:
    return ArchiveLimits(
        max_total_bytes=settings.UPLOADS_ARCHIVE_MAX_BYTES,
        max_entries=settings.UPLOADS_ARCHIVE_MAX_ENTRIES,
        max_ratio=settings.UPLOADS_ARCHIVE_MAX_RATIO,
    )


def upload_ingest(*, batch: UploadBatch, name: str, stream: IO[bytes], source_path: str = "") -> list[Upload]:
    """Take one file or archive as given by a person: store, hash, sniff, sweep, queue.

    Archives (zip, nested zips) are expanded safely; each member becomes its own Upload, and a
    refused member (path escape, bomb) becomes a failed Upload with the reason.
    """
    tmp, size, sha, too_big = file_spool(stream, limit=settings.UPLOADS_ARCHIVE_MAX_BYTES)
    try:
        with open(tmp, "rb") as fh:
            head = fh.read(512)
        if too_big:
            return [_record_refusal(batch, name, f"refused: larger than {settings.UPLOADS_ARCHIVE_MAX_BYTES} bytes",
                                    source_path=source_path, size=size)]
        if sniff_type(head) == "zip":
            return _ingest_archive(batch, name, tmp, source_path=source_path)
        return [_ingest_file(batch, name, tmp, size, sha, source_path=source_path)]
    finally:
        tmp.unlink(missing_ok=True)


def _ingest_archive(batch: UploadBatch, name: str, path: Path, *, source_path: str) -> list[Upload]:
    created = []
    for member in iter_zip_members(str(path), limits=_archive_limits(), prefix=f"{name}/"):
        if not member.name.lower().endswith(ARCHIVE_MEMBER_EXTENSIONS):
            continue  # exports carry JSON, CSV, images...: not activity files, not worth a row each
        if member.refusal or member.data is None:
            created.append(_record_refusal(batch, member.name, member.refusal or "refused: unreadable entry",
                                           source_path=source_path))
            continue
        created.append(upload_ingest_bytes(batch=batch, name=member.name, data=member.data, source_path=source_path))
    if not created:
        created.append(_record_refusal(batch, name, "empty archive: no files inside", source_path=source_path))
    return created


def upload_ingest_bytes(*, batch: UploadBatch, name: str, data: bytes, source_path: str = "") -> Upload:
    tmp, size, sha, _too_big = file_spool(io.BytesIO(data))
    try:
        return _ingest_file(batch, name, tmp, size, sha, source_path=source_path)
    finally:
        tmp.unlink(missing_ok=True)


def _record_refusal(batch: UploadBatch, name: str, reason: str, *, source_path: str = "", size: int = 0) -> Upload:
    upload = Upload.objects.create(batch=batch, athlete_id=batch.athlete_id, original_name=name[:1000],
                                   source_path=source_path, size=size, sha256="")
    UploadEvent.objects.create(upload=upload, to_status=S.RECEIVED)
    _count_file(batch)
    upload_transition(upload_id=upload.pk, to=S.FAILED, reason=reason)
    upload.refresh_from_db()
    return upload


def _count_file(batch: UploadBatch) -> None:
    UploadBatch.objects.filter(pk=batch.pk).update(file_count=F("file_count") + 1, finished_at=None)


def _ingest_file(batch: UploadBatch, name: str, tmp: Path, size: int, sha: str, *, source_path: str) -> Upload:
    if size > settings.UPLOADS_MAX_FILE_BYTES:
        verdict = Verdict("failed", None, f"refused: larger than {settings.UPLOADS_MAX_FILE_BYTES} bytes",
                          None, None, None, None, None)
    else:
        verdict = classify_file(tmp)
    # Only a copy of a file we send (or sent) is a duplicate; a copy of junk or of a broken
    # file is simply swept again and gets its own verdict.
    original = (
        Upload.objects.filter(athlete_id=batch.athlete_id, sha256=sha, duplicate_of_upload__isnull=True)
        .exclude(status__in=[S.JUNK, S.FAILED, S.RECEIVED]).order_by("id").first()
    )
    stored = "" if original else file_keep(tmp, athlete_id=batch.athlete_id, sha256=sha, data_type=verdict.data_type or "")
    upload = Upload.objects.create(
        batch=batch, athlete_id=batch.athlete_id, original_name=name[:1000], source_path=source_path,
        file=original.file.name if original else stored, size=size, sha256=sha,
        data_type=verdict.data_type or "", file_type=(verdict.file_type or "")[:40],
        start_time=verdict.start_time, sport=(verdict.sport or "")[:40],
    )
    UploadEvent.objects.create(upload=upload, to_status=S.RECEIVED)
    _count_file(batch)
    if original is not None:
        upload_transition(
            upload_id=upload.pk, to=S.DUPLICATE, duplicate_of_upload=original,
            duplicate_of_activity=original.activity_id or original.duplicate_of_activity,
            reason=f"same file as {original.display_name} (uploaded {original.created_at:%Y-%m-%d}); no call spent",
        )
    elif verdict.status == "eligible":
        upload_transition(upload_id=upload.pk, to=S.QUEUED, reason="")
    elif verdict.status == "junk":
        upload_transition(upload_id=upload.pk, to=S.JUNK, reason=verdict.reason)
    else:
        upload_transition(upload_id=upload.pk, to=S.FAILED, reason=verdict.reason)
    upload.refresh_from_db()
    return upload


def upload_reclassify(*, upload: Upload) -> Upload:
    """Sweep a stored file again (after a classifier fix) and re-queue it if now eligible."""
    stored_name = upload.file.name  # what `if upload.file` tests: a FieldFile is truthy when it has a name
    if not stored_name or not upload_transition(upload_id=upload.pk, to=S.RECEIVED, reason="re-classify"):
        return upload
    verdict = stored_file_classify(stored_name)
    Upload.objects.filter(pk=upload.pk).update(
        data_type=verdict.data_type or "", file_type=(verdict.file_type or "")[:40], start_time=verdict.start_time
    )
    target = {"eligible": S.QUEUED, "junk": S.JUNK}.get(verdict.status, S.FAILED)
    upload_transition(upload_id=upload.pk, to=target, reason=verdict.reason)
    upload.refresh_from_db()
    return upload


def upload_retry(*, upload: Upload) -> bool:
    """A person asks to try a failed (or swept-out) file again."""
    if not upload.file:
        return False
    return upload_transition(upload_id=upload.pk, to=S.QUEUED, expect=[S.FAILED, S.JUNK],
                             reason="retry requested", next_attempt_at=None, attempts=0)


def upload_mark_junk(*, upload: Upload, reason: str = "marked as junk by a person") -> bool:
    return upload_transition(upload_id=upload.pk, to=S.JUNK, expect=[S.FAILED, S.QUEUED], reason=reason)


def uploads_retry_failed(*, athlete: Athlete) -> int:
    failed = Upload.objects.filter(athlete=athlete, status=S.FAILED).exclude(file="")
    return sum(upload_retry(upload=u) for u in failed)


def upload_delete(*, upload: Upload) -> bool:
    """Delete a settled (or waiting) upload and its stored file, unless another row shares it."""
    if upload.status in (S.UPLOADING, S.PROCESSING):
        return False
    batch_id = upload.batch_id
    upload.delete()  # its stored file goes with it (uploads.signals), unless another row shares it
    batch_refresh(batch_id=batch_id)
    return True
