"""Intake: one file or archive, as a person gave it, becomes Upload rows (hashed, sniffed, swept).

Everything is read through one bounded spool (uploads.spool) within its limits; only a file that
passed them reaches the storage, and a refused one leaves a row with its reason and no bytes.
Archives are expanded member by member (uploads.archives) before a deadline. The work is
linear: rows are created in their first state at once and the batch is refreshed once, at the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import islice
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet

from activityfiles import sniff_type

from ..archives import ArchiveLimits, Member, iter_zip_members, tar_refusal
from ..models import Upload, UploadBatch
from ..names import file_name_problem, row_name
from ..spool import Spool, spool_clean
from .states import S, batch_refresh, uploads_create
from .storage import FileKeeper, spool_classify

# Inside archives only these are read (their content still decides the type); tar names are
# read too, so that they get a clear reason.
ARCHIVE_MEMBER_EXTENSIONS = (".fit", ".fit.gz", ".gpx", ".gpx.gz", ".tcx", ".tcx.gz", ".gz", ".zip", ".tgz", ".tar")
ROWS_PER_TRANSACTION = 200  # short write locks on SQLite; far fewer commits than one per row
SPOOL_CLEAN_EVERY = 600.0  # seconds between two looks for spools that killed requests left behind
_next_spool_clean = 0.0


def spool_dir() -> str | None:
    return settings.FILE_UPLOAD_TEMP_DIR or None


def ingest_deadline() -> float:
    """The time.monotonic() by which one request's ingest must have finished."""
    return time.monotonic() + settings.UPLOADS_INGEST_DEADLINE


def spools_clean() -> int:
    """Delete spool files that no live request holds (a killed request's leftovers)."""
    return spool_clean(spool_dir(), min_age=60.0)


def archive_limits() -> ArchiveLimits:
    return ArchiveLimits(
        max_total_bytes=settings.UPLOADS_ARCHIVE_MAX_BYTES,
        max_entries=settings.UPLOADS_ARCHIVE_MAX_ENTRIES,
        max_ratio=settings.UPLOADS_ARCHIVE_MAX_RATIO,
        max_member_bytes=settings.UPLOADS_MAX_FILE_BYTES,
    )


def _wanted(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_MEMBER_EXTENSIONS)


def upload_ingest(*, batch: UploadBatch, name: str, stream: IO[bytes], source_path: str = "",
                  deadline: float | None = None, refresh: bool = True) -> list[Upload]:
    """Take one file or archive as given by a person: spool, hash, sniff, sweep, store, queue.

    Archives (zip, nested zips) are expanded safely; each member becomes its own Upload, and a
    refused member, or the refused rest of an archive, a failed Upload with the reason.
    `deadline` (time.monotonic) is the request's; by default UPLOADS_INGEST_DEADLINE from now.
    A caller that ingests many files may pass refresh=False and call batch_refresh once after.
    """
    global _next_spool_clean
    if time.monotonic() >= _next_spool_clean:
        _next_spool_clean = time.monotonic() + SPOOL_CLEAN_EVERY
        spools_clean()
    intake = _Intake(batch, source_path)
    try:
        intake.take(name, stream, deadline if deadline is not None else ingest_deadline())
    finally:
        intake.close(refresh=refresh)
    return intake.created


class _Intake:
    """The rows one call creates, inserted in groups; the batch learns of them once, in close()."""

    def __init__(self, batch: UploadBatch, source_path: str) -> None:
        self.batch, self.source_path = batch, source_path
        self.created: list[Upload] = []
        self.pending: list[tuple[Upload, str]] = []
        self.mine: dict[str, Upload] = {}  # files this call queued, by sha256: later copies are duplicates
        self.known: set[bytes] | None = None  # sha256 of the athlete's earlier originals, for archives
        self.keeper = FileKeeper(workers=settings.UPLOADS_STORE_THREADS)
        self.stored: dict[int, str] = {}  # id() of a pending row -> its file's key in the keeper

    def take(self, name: str, stream: IO[bytes], deadline: float) -> None:
        problem = file_name_problem(name)
        if problem:
            self.refuse(name, problem)
        else:
            self.read(name, stream, deadline)
        self.flush()

    def read(self, name: str, stream: IO[bytes], deadline: float) -> None:
        def cap_for(head: bytes) -> int:
            return settings.UPLOADS_ARCHIVE_MAX_BYTES if sniff_type(head) == "zip" else settings.UPLOADS_MAX_FILE_BYTES

        with Spool(spool_dir(), in_memory=settings.FILE_UPLOAD_MAX_MEMORY_SIZE) as spool:
            if spool.fill(stream, cap=cap_for):
                self.refuse(name, f"refused: larger than {cap_for(spool.head)} bytes", size=spool.size)
            elif sniff_type(spool.head) == "zip":
                with spool.open() as archive:
                    self.archive(name, archive, deadline)
            else:
                self.file(name, spool)

    def archive(self, name: str, source: BinaryIO, deadline: float) -> None:
        # One query for the athlete's earlier files instead of one per member: most members are new.
        self.known = {bytes.fromhex(sha) for sha in self._originals().values_list("sha256", flat=True) if sha}
        before = len(self.created)
        members: Iterator[Member] = iter_zip_members(
            source, limits=archive_limits(), prefix=f"{name}/", spool_dir=spool_dir(), deadline=deadline, wanted=_wanted,
        )
        while True:
            kept = len(self.created)
            try:
                with transaction.atomic():
                    seen = 0
                    for member in islice(members, ROWS_PER_TRANSACTION):
                        seen += 1
                        if member.spool is None:
                            self.refuse(member.name, member.refusal or "refused: unreadable entry")
                        else:
                            self.file(member.name, member.spool)
                    self.flush()
            except BaseException:
                del self.created[kept:]  # rolled back with their transaction
                self.pending.clear()
                self.stored.clear()
                raise
            if seen < ROWS_PER_TRANSACTION:
                break
        if len(self.created) + len(self.pending) == before:
            self.refuse(name, "empty archive: no activity files inside")

    def file(self, name: str, spool: Spool) -> None:
        tar = tar_refusal(spool.head)
        if tar:
            self.refuse(name, tar, size=spool.size, sha256=spool.sha256)
            return
        verdict = spool_classify(spool)
        sha = spool.sha256
        fields: dict[str, Any] = {
            "size": spool.size, "sha256": sha, "data_type": verdict.data_type or "",
            "file_type": (verdict.file_type or "")[:40], "start_time": verdict.start_time,
            "sport": (verdict.sport or "")[:40],
        }
        original = self.original_of(sha)
        if original is not None:
            self.add(
                name, S.DUPLICATE, file=original.file.name, duplicate_of_upload=original,
                duplicate_of_activity=original.activity_id or original.duplicate_of_activity,
                reason=f"same file as {original.display_name} (uploaded {original.created_at:%Y-%m-%d}); no call spent",
                **fields,
            )
            return
        # Accepted within every limit: only now do its bytes reach the storage.
        key = self.keeper.keep(spool, athlete_id=self.batch.athlete_id, sha256=sha, data_type=verdict.data_type or "")
        to = {"eligible": S.QUEUED, "junk": S.JUNK}.get(verdict.status, S.FAILED)
        reason = verdict.reason
        if to == S.QUEUED and self.batch.local_only:
            to, reason = S.LOCAL, "kept here only: in your activities and stats, not sent to Strava"
        upload = self.add(name, to, reason=reason, **fields)
        self.stored[id(upload)] = key
        if to in (S.QUEUED, S.LOCAL):
            self.mine.setdefault(sha, upload)

    def _originals(self) -> QuerySet[Upload]:
        # Only a copy of a file we send (or sent) is a duplicate; a copy of junk or of a broken
        # file is simply swept again and gets its own verdict.
        return (Upload.objects.filter(athlete_id=self.batch.athlete_id, duplicate_of_upload__isnull=True)
                .exclude(status__in=[S.JUNK, S.FAILED, S.RECEIVED]))

    def original_of(self, sha: str) -> Upload | None:
        mine = self.mine.get(sha)
        if mine is not None:
            if any(upload is mine for upload, _note in self.pending):
                self.flush()  # the copy's row points at it: it must exist first
            return mine
        if self.known is not None and bytes.fromhex(sha) not in self.known:
            return None
        return self._originals().filter(sha256=sha).order_by("id").first()

    def refuse(self, name: str, reason: str, *, size: int = 0, sha256: str = "") -> None:
        """A row for what was refused: its reason, never its bytes."""
        self.add(name, S.FAILED, reason=reason, size=size, sha256=sha256)

    def add(self, name: str, to: str, *, reason: str = "", **fields: Any) -> Upload:
        short, full = row_name(name)
        upload = Upload(status=to, reason=reason, batch=self.batch, athlete_id=self.batch.athlete_id,
                        original_name=short, source_path=self.source_path, **fields)
        self.pending.append((upload, f"full name: {full}" if full else ""))
        return upload

    def flush(self) -> None:
        for upload, _note in self.pending:
            key = self.stored.pop(id(upload), None)
            if key is not None:
                upload.file.name = self.keeper.name(key)  # a row only for a file that is written
        if self.pending:
            self.created += uploads_create(self.pending)
            self.pending = []

    def close(self, *, refresh: bool) -> None:
        self.keeper.close()
        if self.created:
            UploadBatch.objects.filter(pk=self.batch.pk).update(file_count=F("file_count") + len(self.created))
            if refresh:
                batch_refresh(batch_id=self.batch.pk)
