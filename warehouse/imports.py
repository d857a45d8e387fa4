"""The web import of Strava's export zip, kept in the file storage so that any worker can read it.

The page stores the archive and hands the task its storage name (never a local path: the worker
may run on another machine); the task opens it through the storage and deletes it when done.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from . import services
from .models import SyncRun
from .strava_export import ExportError


def export_store(*, athlete_id: int, archive: File) -> str:
    """Store an uploaded export zip; returns its storage name for the import task."""
    name = f"imports/{athlete_id}/{timezone.now():%Y%m%d}-{uuid.uuid4().hex[:8]}.zip"
    return default_storage.save(name, archive)


def export_import_stored(*, athlete_id: int, name: str,
                         trigger: str = SyncRun.Trigger.WEB) -> services.ImportResult:
    """Import a stored export zip (no API call), then delete it: its activities are stored."""
    try:
        stored = default_storage.open(name, "rb")
    except (OSError, SuspiciousFileOperation) as exc:
        # SuspiciousFileOperation: a name outside the storage (a local path queued by an older version).
        raise ExportError(f"the stored export {name} is missing") from exc
    try:
        # zipfile reads a seekable file object as well as a path: a bucket's file is one.
        with stored:
            return services.strava_export_import(athlete_id=athlete_id, path=stored, trigger=trigger)
    finally:
        default_storage.delete(name)
