"""What a person does with a file after ingest (uploads.services.intake): retry, mark as junk,
classify again, delete; and the batch that gathers one drop of files."""

from __future__ import annotations

from accounts.models import Athlete
from warehouse.services.files import activities_of_upload_forget

from ..models import Upload, UploadBatch
from .states import S, batch_refresh, upload_transition
from .storage import stored_file_classify


def batch_create(*, athlete: Athlete, source: str, label: str = "", local_only: bool = False) -> UploadBatch:
    """A new drop of files; `local_only` ("keep here only"): they fill the warehouse and go nowhere."""
    return UploadBatch.objects.create(athlete=athlete, source=source, label=label[:500], local_only=local_only)


def upload_reclassify(*, upload: Upload) -> Upload:
    """Sweep a stored file again (after a classifier fix) and re-queue it if now eligible."""
    stored_name = upload.file.name  # what `if upload.file` tests: a FieldFile is truthy when it has a name
    if not stored_name or not upload_transition(upload_id=upload.pk, to=S.RECEIVED, reason="re-classify"):
        return upload
    verdict = stored_file_classify(stored_name)
    Upload.objects.filter(pk=upload.pk).update(
        data_type=verdict.data_type or "", file_type=(verdict.file_type or "")[:40], start_time=verdict.start_time,
        sport=(verdict.sport or "")[:40],
    )
    target = {"eligible": S.QUEUED, "junk": S.JUNK}.get(verdict.status, S.FAILED)
    upload_transition(upload_id=upload.pk, to=target, reason=verdict.reason)
    upload.refresh_from_db()
    return upload


def upload_mark_junk(*, upload: Upload, reason: str = "marked as junk by a person") -> bool:
    return upload_transition(upload_id=upload.pk, to=S.JUNK, expect=[S.FAILED, S.QUEUED], reason=reason)


def upload_delete(*, upload: Upload) -> bool:
    """Delete a settled (or waiting) upload and its stored file, unless another row shares it."""
    if upload.status in (S.UPLOADING, S.PROCESSING):
        return False
    batch_id, upload_pk = upload.batch_id, upload.pk
    upload.delete()  # its stored file goes with it (uploads.signals), unless another row shares it
    # The activity only this file made goes too; one Strava has stays, without the link.
    activities_of_upload_forget(upload_pk=upload_pk)
    batch_refresh(batch_id=batch_id)
    return True
