"""Stored files through Django's storage API, with a bounded local spool for hashing and sniffing."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage

from activityfiles import Verdict, classify_file

from ..models import Upload

CHUNK = 1024 * 1024


# Stored files go through Django's storage API (local disk, a shared volume or an S3-compatible
# bucket, as settings choose), never by path: the worker that posts a file may be on another
# machine than the one that received it.
def file_storage() -> Storage:
    return Upload._meta.get_field("file").storage


def file_spool(stream: IO[bytes], *, limit: int | None = None) -> tuple[Path, int, str, bool]:
    """Copy a stream to a local temporary file in chunks, hashing it: never whole in memory.

    Local on purpose: the sniffer seeks in it; only the file we keep goes to storage.
    """
    digest = hashlib.sha256()
    size = 0
    too_big = False
    fd, name = tempfile.mkstemp(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="stravasync-")
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if limit is not None and size > limit:
                too_big = True
                break
            digest.update(chunk)
            out.write(chunk)
    return Path(name), size, digest.hexdigest(), too_big


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
    try:
        with file_storage().open(name, "rb") as stream:
            tmp, _size, _sha, _too_big = file_spool(stream)
    except OSError:
        return Verdict("failed", None, "the stored file is missing", None, None, None, None, None)
    try:
        return classify_file(tmp)
    finally:
        tmp.unlink(missing_ok=True)
