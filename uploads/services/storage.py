"""Stored files through Django's storage API; local copies for the sniffer go through uploads.spool."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from activityfiles import Verdict, classify_bytes, classify_file

from ..models import Upload
from ..spool import Spool


# Stored files go through Django's storage API (local disk, a shared volume or an S3-compatible
# bucket, as settings choose), never by path: the worker that posts a file may be on another
# machine than the one that received it.
def file_storage() -> Storage:
    return Upload._meta.get_field("file").storage


def _stored_name(*, athlete_id: int, sha256: str, data_type: str) -> str:
    suffix = f".{data_type}" if data_type else ".bin"
    return f"uploads/{athlete_id}/{sha256[:2]}/{sha256}{suffix}"


def _store(name: str, content: File) -> str:
    storage = file_storage()
    if storage.exists(name):
        return name
    # The storage may answer another name (a race with the same bytes): the row keeps that one.
    return storage.save(name, content)


def file_keep(spool: Spool, *, athlete_id: int, sha256: str, data_type: str) -> str:
    """Store a spooled file under its content address; the same bytes are stored once."""
    with spool.open() as fh:
        return _store(_stored_name(athlete_id=athlete_id, sha256=sha256, data_type=data_type), File(fh))


class FileKeeper:
    """Stores the accepted files of one ingest, small ones a few at a time in the background.

    Each stored file costs the storage a round trip (a file created on a busy disk, a PUT to a
    bucket); overlapping a few of them keeps ingest linear and quick (the storage must be
    thread-safe: the file system and django-storages' are). At most `in_flight` small files
    (copies of what their Spool held in memory) wait; a large one is stored at once, before its
    spool goes. ``name(...)`` answers the stored name once it is written. workers=0: all at once.
    """

    def __init__(self, *, workers: int = 4, in_flight: int = 16) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="file-keeper") if workers > 0 else None
        self._in_flight = in_flight
        self._waiting: deque[Future[str]] = deque()
        self._by_name: dict[str, Future[str] | str] = {}

    def keep(self, spool: Spool, *, athlete_id: int, sha256: str, data_type: str) -> str:
        """Start storing; returns the key to ask name() for (the name the file is meant to get)."""
        name = _stored_name(athlete_id=athlete_id, sha256=sha256, data_type=data_type)
        if name in self._by_name:
            return name
        data = spool.data
        if data is None or self._pool is None:
            self._by_name[name] = file_keep(spool, athlete_id=athlete_id, sha256=sha256, data_type=data_type)
            return name
        while len(self._waiting) >= self._in_flight:
            self._waiting.popleft().result()
        future = self._pool.submit(_store, name, ContentFile(data))
        self._waiting.append(future)
        self._by_name[name] = future
        return name

    def name(self, key: str) -> str:
        """The stored name (waits for that file to be written; raises what writing it raised)."""
        stored = self._by_name[key]
        return stored if isinstance(stored, str) else stored.result()

    def close(self) -> None:
        """Wait for every file still being written."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def spool_classify(spool: Spool) -> Verdict:
    """The sweep's verdict on a spooled file, from memory when it is small."""
    data = spool.data
    return classify_bytes(data) if data is not None else classify_file(spool.path)


def stored_file_classify(name: str) -> Verdict:
    """Classify a stored file from a local temporary copy (the sniffer seeks in it)."""
    with Spool(settings.FILE_UPLOAD_TEMP_DIR or None) as spool:
        try:
            with file_storage().open(name, "rb") as stream:
                spool.fill(stream, cap=settings.UPLOADS_ARCHIVE_MAX_BYTES)  # it was accepted: within the limits
        except OSError:
            return Verdict("failed", None, "the stored file is missing", None, None, None, None, None)
        return classify_file(spool.path)
