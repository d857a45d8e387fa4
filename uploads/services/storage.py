"""Stored files through Django's storage API; local copies for the sniffer go through uploads.spool."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage

from activityfiles import Verdict, classify_file

from ..models import Upload
from ..spool import Spool


# Stored files go through Django's storage API (local disk, a shared volume or an S3-compatible
# bucket, as settings choose), never by path: the worker that posts a file may be on another
# machine than the one that received it.
def file_storage() -> Storage:
    return Upload._meta.get_field("file").storage


def file_keep(tmp: Path, *, athlete_id: int, sha256: str, data_type: str) -> str:
    """Store a spooled file under its content address; the same bytes are stored once."""
    suffix = f".{data_type}" if data_type else ".bin"
    name = f"uploads/{athlete_id}/{sha256[:2]}/{sha256}{suffix}"
    storage = file_storage()
    if storage.exists(name):
        return name
    with open(tmp, "rb") as fh:
        # The storage may answer another name (a race with the same bytes): the row keeps that one.
        return storage.save(name, File(fh))


def stored_file_classify(name: str) -> Verdict:
    """Classify a stored file from a local temporary copy (the sniffer seeks in it)."""
    with Spool(settings.FILE_UPLOAD_TEMP_DIR or None) as spool:
        try:
            with file_storage().open(name, "rb") as stream:
                spool.fill(stream, cap=settings.UPLOADS_ARCHIVE_MAX_BYTES)  # it was accepted: within the limits
        except OSError:
            return Verdict("failed", None, "the stored file is missing", None, None, None, None, None)
        return classify_file(spool.path)
