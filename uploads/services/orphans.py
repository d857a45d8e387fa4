"""Stored files no row references (a crash between storing and the row, a purge cut short): found through the storage API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.core.files.storage import default_storage

from stravasync.storage import storage_files

from ..models import Upload, UploadBatch
from .storage import file_storage

# A file younger than this may belong to an ingest that has stored it and not yet written its row.
GRACE = timedelta(hours=1)
_REPORT = re.compile(r"^reports/batch-(\d+)(?:_[A-Za-z0-9]+)?\.(?:json|csv)$")


def _old(storage_modified: datetime, now: datetime) -> bool:
    return storage_modified < now - GRACE


def stored_upload_orphans(*, now: datetime) -> Iterator[tuple[str, str]]:
    """(name, why) for every file under uploads/ no Upload points at, and every report of a batch that is gone."""
    storage = file_storage()
    referenced = set(Upload.objects.exclude(file="").values_list("file", flat=True))
    for name in storage_files(storage, "uploads"):
        if name not in referenced and _old(storage.get_modified_time(name), now):
            yield name, "no upload points at it"
    batches = set(UploadBatch.objects.values_list("pk", flat=True))
    for name in storage_files(default_storage, "reports"):
        match = _REPORT.match(name)
        if match and int(match[1]) in batches:
            continue
        if _old(default_storage.get_modified_time(name), now):
            yield name, "its batch is gone" if match else "not a batch report"
