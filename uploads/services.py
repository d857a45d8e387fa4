"""Writes for uploads: ingest, the state machine, dispatch, posting, confirming, batches.

The rows are the queue of record. Every step claims its row with a conditional update, so a
task that runs twice, or a worker killed half-way, loses nothing and posts nothing twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import Athlete
from stravasync.strava import quota
from stravasync.strava.client import StravaClient, duplicate_of
from stravasync.strava.dispatch import permits_hand_out
from stravasync.strava.errors import (
    BadRequest,
    Forbidden,
    NetworkError,
    NotFound,
    RateLimited,
    ReconnectNeeded,
    ServerError,
    StravaError,
    SubscriptionInactive,
    Unauthorized,
)
from stravasync.strava.quota import Grant, Kind, Priority
from warehouse.services import activities_upsert

from . import selectors
from .archives import ArchiveLimits, iter_zip_members
from .models import Upload, UploadBatch, UploadEvent
from .sniff import Verdict, classify_file, sniff_type

logger = logging.getLogger(__name__)
S = Upload.Status

# Which states may follow which: anything else is refused, so a late or repeated task
# cannot move a settled upload.
TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.JUNK, S.DUPLICATE, S.FAILED, S.QUEUED},
    S.QUEUED: {S.UPLOADING, S.JUNK, S.FAILED},
    S.UPLOADING: {S.PROCESSING, S.DONE, S.DUPLICATE, S.FAILED, S.QUEUED},
    S.PROCESSING: {S.DONE, S.DUPLICATE, S.FAILED, S.QUEUED},
    S.FAILED: {S.QUEUED, S.JUNK, S.RECEIVED},
    S.JUNK: {S.RECEIVED, S.QUEUED},
    S.DUPLICATE: {S.RECEIVED},
    S.DONE: set(),
}

STRAVA_READY = "Your activity is ready."
STRAVA_PROCESSING = "Your activity is still being processed."
STRAVA_DELETED = "The created activity has been deleted."
CHUNK = 1024 * 1024
# Two recordings starting this close together are the same activity to Strava.
DUPLICATE_START_TOLERANCE = 60
# Inside archives only these are looked at (their content still decides the type).
ARCHIVE_MEMBER_EXTENSIONS = (".fit", ".fit.gz", ".gpx", ".gpx.gz", ".tcx", ".tcx.gz", ".gz", ".zip")


# --- the state machine ---------------------------------------------------------------------
def upload_transition(*, upload_id: int, to: str, reason: str | None = None,
                      expect: Iterable[str] | None = None, **fields: object) -> bool:
    """Move one upload to `to` if its current state allows it; record the step. True if moved."""
    allowed_from = set(expect) if expect is not None else {s for s, nexts in TRANSITIONS.items() if to in nexts}
    now = timezone.now()
    with transaction.atomic():
        current = Upload.objects.select_for_update().filter(pk=upload_id).values_list("status", flat=True).first()
        if current is None or current not in allowed_from or to not in TRANSITIONS[current]:
            return False
        updates: dict[str, object] = {"status": to, "updated_at": now, **fields}
        if reason is not None:
            updates["reason"] = reason
        if to in Upload.FINAL:
            updates.setdefault("settled_at", now)
        Upload.objects.filter(pk=upload_id).update(**updates)
        UploadEvent.objects.create(upload_id=upload_id, from_status=current, to_status=to, reason=reason or "")
    if to in Upload.FINAL:
        batch_id = Upload.objects.filter(pk=upload_id).values_list("batch_id", flat=True).first()
        if batch_id:
            batch_refresh(batch_id=batch_id)
    return True


# --- storage -------------------------------------------------------------------------------
# Stored files go through Django's storage API (local disk, a shared volume or an S3-compatible
# bucket, as settings choose), never by path: the worker that posts a file may be on another
# machine than the one that received it.
def _storage() -> Storage:
    return Upload._meta.get_field("file").storage


def _spool(stream: IO[bytes], *, limit: int | None = None) -> tuple[Path, int, str, bool]:
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


def _keep(tmp: Path, *, athlete_id: int, sha256: str, data_type: str) -> str:
    """Store a spooled file under its content address; the same bytes are stored once."""
    suffix = f".{data_type}" if data_type else ".bin"
    name = f"uploads/{athlete_id}/{sha256[:2]}/{sha256}{suffix}"
    storage = _storage()
    if storage.exists(name):
        return name
    with open(tmp, "rb") as fh:
        # The storage may answer another name (a race with the same bytes): the row keeps that one.
        return storage.save(name, File(fh))


def _stored_verdict(name: str) -> Verdict:
    """Classify a stored file from a local temporary copy (the sniffer seeks in it)."""
    try:
        with _storage().open(name, "rb") as stream:
            tmp, _size, _sha, _too_big = _spool(stream)
    except OSError:
        return Verdict("failed", None, "the stored file is missing", None, None, None, None, None)
    try:
        return classify_file(tmp)
    finally:
        tmp.unlink(missing_ok=True)


# --- ingest ----------------------------------------------------------------------------------
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
    tmp, size, sha, too_big = _spool(stream, limit=settings.UPLOADS_ARCHIVE_MAX_BYTES)
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
    tmp, size, sha, _too_big = _spool(io.BytesIO(data))
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
    stored = "" if original else _keep(tmp, athlete_id=batch.athlete_id, sha256=sha, data_type=verdict.data_type or "")
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
    if not upload.file or not upload_transition(upload_id=upload.pk, to=S.RECEIVED, reason="re-classify"):
        return upload
    verdict = _stored_verdict(upload.file.name)
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


# --- batches -----------------------------------------------------------------------------------
def batch_refresh(*, batch_id: int) -> None:
    """Close the batch when every file has settled (its counts become the report's totals)."""
    rows = Upload.objects.filter(batch_id=batch_id).values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    open_files = sum(n for status, n in counts.items() if status not in Upload.FINAL)
    finished = timezone.now() if open_files == 0 and counts else None
    UploadBatch.objects.filter(pk=batch_id).update(counts=counts, finished_at=finished)


def _spend(upload_ids: Iterable[int], calls: int) -> None:
    """Book API calls on the upload (when it was one) and on the batches, shared by file count."""
    ids = list(upload_ids)
    if not ids or calls <= 0:
        return
    if len(ids) == 1:
        Upload.objects.filter(pk=ids[0]).update(api_calls=F("api_calls") + calls)
    per_batch: dict[int, int] = defaultdict(int)
    for batch_id in Upload.objects.filter(pk__in=ids).values_list("batch_id", flat=True):
        per_batch[batch_id] += 1
    shares = {batch_id: calls * n // len(ids) for batch_id, n in per_batch.items()}
    first = next(iter(shares))
    shares[first] += calls - sum(shares.values())
    for batch_id, share in shares.items():
        if share:
            UploadBatch.objects.filter(pk=batch_id).update(api_calls=F("api_calls") + share)


# --- reports -----------------------------------------------------------------------------------
def batch_report_store(*, batch: UploadBatch, folder: Path | None = None) -> list[str]:
    """Write the batch's after-action report (JSON and CSV); returns where each went.

    Into `folder` when a person names one, else into the file storage (`reports/`), which every
    machine of the deployment can read; never by path under the media folder.
    """
    documents = {
        f"batch-{batch.pk}.json": json.dumps(selectors.batch_report(batch=batch), indent=2),
        f"batch-{batch.pk}.csv": selectors.batch_report_csv(batch=batch),
    }
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for filename, text in documents.items():
            (folder / filename).write_text(text)
        return [str(folder / filename) for filename in documents]
    return [default_storage.save(f"reports/{filename}", ContentFile(text.encode()))
            for filename, text in documents.items()]


# --- dispatch ----------------------------------------------------------------------------------
def _ready_to_post(now: datetime):  # noqa: ANN202
    return Upload.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=S.QUEUED,
        athlete__needs_reconnect=False,
        athlete__token__isnull=False,
        # Without the write scope a POST can only be refused: the files wait for a reconnect.
        athlete__scopes__contains="activity:write",
    )


def uploads_requeue_stale(*, now: datetime | None = None) -> int:
    """Claims whose worker died go back to the queue (a repeated POST is answered "duplicate")."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.UPLOADS_CLAIM_TIMEOUT)
    stale = Upload.objects.filter(status=S.UPLOADING, claimed_at__lt=cutoff).values_list("pk", flat=True)
    return sum(
        upload_transition(upload_id=pk, to=S.QUEUED, expect=[S.UPLOADING], reason="worker lost; queued again")
        for pk in list(stale)
    )


def uploads_dispatch(*, inline: bool = False) -> int:
    """Take upload permits from the quota and hand exactly that many files to workers."""
    now = timezone.now()
    uploads_requeue_stale(now=now)
    ready = _ready_to_post(now)

    def claim(pk: int) -> int | None:
        return pk if upload_transition(upload_id=pk, to=S.UPLOADING, expect=[S.QUEUED], claimed_at=now) else None

    return permits_hand_out(
        ready=ready, wanted=min(ready.count(), settings.UPLOADS_DISPATCH_BATCH), kind=Kind.WRITE,
        priority=Priority.UPLOAD, fair_key="uploads", order_by=("id",), claim=claim,
        run=lambda pk, permit: upload_post(upload_id=pk, grant=permit),
        task="uploads.tasks.post_upload", label="uploads post", inline=inline,
    )


def _give_back(upload: Upload, *, retry_at: datetime, reason: str) -> None:
    upload_transition(upload_id=upload.pk, to=S.QUEUED, expect=[S.UPLOADING, S.PROCESSING],
                      reason=reason, next_attempt_at=retry_at)


def upload_post(*, upload_id: int, grant: dict | None = None) -> None:
    """POST one claimed upload to Strava. Idempotent: only an UPLOADING row is posted."""
    upload = Upload.objects.filter(pk=upload_id).first()
    permit = Grant(**grant) if grant else None
    if upload is None or upload.status != S.UPLOADING:
        if permit is not None:
            quota.release(permit, 1, kind=Kind.WRITE)
        return
    if not upload.file or not upload.file.storage.exists(upload.file.name):
        upload_transition(upload_id=upload.pk, to=S.FAILED, reason="the stored file is missing")
        return
    # Set before the call: if we die after Strava accepted it, the retry knows a POST may exist.
    Upload.objects.filter(pk=upload.pk).update(attempts=F("attempts") + 1, posted_at=timezone.now())
    client = StravaClient(athlete_id=upload.athlete_id, priority=Priority.UPLOAD, grant=permit)
    try:
        with upload.file.open("rb") as stream:
            payload = client.upload(stream=stream, filename=_strava_filename(upload), data_type=upload.data_type,
                                    external_id=upload.external_id)
    except StravaError as exc:
        _post_failed(upload, exc)
        return
    finally:
        _spend([upload.pk], client.calls)
    _apply_strava_upload(upload, payload, posting=True)


def _strava_filename(upload: Upload) -> str:
    return upload.display_name or f"{upload.pk}.{upload.data_type}"


def _post_failed(upload: Upload, exc: StravaError) -> None:
    now = timezone.now()
    if isinstance(exc, RateLimited):
        _give_back(upload, retry_at=exc.retry_at, reason="waiting for the Strava quota")
    elif isinstance(exc, SubscriptionInactive):
        _give_back(upload, retry_at=now + timedelta(seconds=settings.QUOTA_INACTIVE_PROBE_SECONDS),
                   reason="Strava API subscription inactive: paused")
    elif isinstance(exc, ReconnectNeeded):
        _give_back(upload, retry_at=now + timedelta(hours=1), reason="paused: the athlete must reconnect with Strava")
    elif isinstance(exc, Unauthorized) and exc.missing_scope:
        upload_transition(upload_id=upload.pk, to=S.FAILED,
                          reason=f"Strava refused: permission {exc.missing_scope} not granted; reconnect and allow uploads")
    elif isinstance(exc, ServerError | NetworkError | Unauthorized):
        attempts = Upload.objects.filter(pk=upload.pk).values_list("attempts", flat=True).first() or 0
        if attempts >= settings.UPLOADS_MAX_ATTEMPTS:
            upload_transition(upload_id=upload.pk, to=S.FAILED, reason=f"Strava kept failing: {exc.message}")
        else:
            delay = min(3600, 30 * 2 ** max(0, attempts - 1))
            _give_back(upload, retry_at=now + timedelta(seconds=delay), reason=f"will retry: {exc.message}")
    elif isinstance(exc, BadRequest | NotFound | Forbidden):
        upload_transition(upload_id=upload.pk, to=S.FAILED, reason=f"Strava refused the file: {exc.message}")
    else:
        upload_transition(upload_id=upload.pk, to=S.FAILED, reason=exc.message or type(exc).__name__)


def _apply_strava_upload(upload: Upload, payload: dict, *, posting: bool) -> None:
    """Settle (or advance) an upload from Strava's Upload object."""
    upload_id = payload.get("id")
    error = payload.get("error")
    status = payload.get("status") or ""
    if error:
        dup = duplicate_of(error)
        if dup is not None:
            upload_transition(upload_id=upload.pk, to=S.DUPLICATE, reason=error, duplicate_of_activity=dup,
                              strava_upload_id=upload_id)
        else:
            upload_transition(upload_id=upload.pk, to=S.FAILED, reason=error, strava_upload_id=upload_id)
    elif payload.get("activity_id"):
        upload_transition(upload_id=upload.pk, to=S.DONE, reason="", activity_id=payload["activity_id"],
                          strava_upload_id=upload_id)
    elif status == STRAVA_DELETED:
        upload_transition(upload_id=upload.pk, to=S.FAILED, reason=status, strava_upload_id=upload_id)
    elif posting:
        upload_transition(upload_id=upload.pk, to=S.PROCESSING, expect=[S.UPLOADING], reason="",
                          strava_upload_id=upload_id)
    else:
        # Still processing: ask again later, never faster than once a second.
        Upload.objects.filter(pk=upload.pk).update(next_attempt_at=timezone.now() + timedelta(seconds=2))


# --- confirm -------------------------------------------------------------------------------------
def uploads_confirm(*, now: datetime | None = None) -> int:
    """Settle uploads Strava is processing, at the lowest cost in calls; returns calls spent.

    Per athlete: one `GET /athlete/activities` around the files' start times settles up to 200
    uploads at once (matched by upload id or external id); only the uploads the list did not
    show (Strava refused them as duplicates or errors) are asked about one by one.
    """
    now = now or timezone.now()
    due = Upload.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=S.PROCESSING,
        posted_at__lte=now - timedelta(seconds=settings.UPLOADS_CONFIRM_DELAY),
    ).order_by("athlete_id", "start_time")
    by_athlete: dict[int, list[Upload]] = defaultdict(list)
    for upload in due[:2000]:
        by_athlete[upload.athlete_id].append(upload)
    calls = 0
    for athlete_id, uploads in by_athlete.items():
        try:
            calls += _confirm_athlete(athlete_id, uploads, now)
        except RateLimited:
            break
        except SubscriptionInactive:
            break
        except StravaError as exc:
            logger.warning("confirming uploads of athlete %s: %s", athlete_id, exc.message)
    return calls


def _confirm_athlete(athlete_id: int, uploads: list[Upload], now: datetime) -> int:
    still_posting = Upload.objects.filter(athlete_id=athlete_id, status__in=[S.QUEUED, S.UPLOADING]).exists()
    oldest = min(u.posted_at for u in uploads if u.posted_at)
    waited = (now - oldest).total_seconds()
    if still_posting and len(uploads) < 150 and waited < settings.UPLOADS_CONFIRM_MAX_WAIT:
        return 0  # more are coming: one list call later will settle them together
    client = StravaClient(athlete_id=athlete_id, priority=Priority.UPLOAD)
    try:
        listable = [u for u in uploads if u.start_time and not u.next_attempt_at]
        unsettled = [u for u in uploads if u not in listable]
        if len(listable) >= 2:
            unsettled += _confirm_by_listing(client, listable)
        else:
            unsettled += listable
        fallback_after = timedelta(seconds=settings.UPLOADS_CONFIRM_FALLBACK)
        for upload in unsettled:
            listed_once = len(listable) >= 2 and upload in listable
            if listed_once and upload.posted_at and now - upload.posted_at < fallback_after:
                # Not in the list yet: maybe still processing, or refused. Ask by id later.
                Upload.objects.filter(pk=upload.pk).update(next_attempt_at=upload.posted_at + fallback_after)
                continue
            if not upload.strava_upload_id:
                _give_back(upload, retry_at=now, reason="Strava upload id unknown; posting again")
                continue
            _apply_strava_upload(upload, client.get_upload(upload.strava_upload_id), posting=False)
    finally:
        _spend([u.pk for u in uploads], client.calls)
    return client.calls


def _confirm_by_listing(client: StravaClient, uploads: list[Upload]) -> list[Upload]:
    """List the athlete's activities around the files' start times; return those not found."""
    by_upload_id = {u.strava_upload_id: u for u in uploads if u.strava_upload_id}
    by_external_id = {u.external_id: u for u in uploads}
    margin = timedelta(hours=12)
    after = int((min(u.start_time for u in uploads) - margin).timestamp())
    before = int((max(u.start_time for u in uploads) + margin).timestamp())
    settled: set[int] = set()
    listed: list[dict] = []
    page = 1
    while True:
        activities = client.list_activities(after=after, before=before, page=page, per_page=200)
        for activity in activities:
            upload = by_upload_id.get(activity.get("upload_id")) or by_external_id.get(activity.get("external_id"))
            if upload is not None and upload.pk not in settled:
                if upload_transition(upload_id=upload.pk, to=S.DONE, expect=[S.PROCESSING], reason="",
                                     activity_id=activity["id"]):
                    settled.add(upload.pk)
        listed += activities
        if len(activities) < 200 or len(settled) == len(uploads):
            break
        page += 1
    # The pages are paid for: the warehouse keeps them (a bulk upsert, no extra call).
    activities_upsert(athlete_id=client.athlete_id, summaries=listed)
    # An upload missing from the list whose start time matches a listed activity is what
    # Strava will call a duplicate of it: settled now, without a status call.
    starts = [(_parse_start(a.get("start_date")), a["id"]) for a in listed if a.get("start_date")]
    tolerance = timedelta(seconds=DUPLICATE_START_TOLERANCE)
    for upload in uploads:
        if upload.pk in settled:
            continue
        match = next((aid for start, aid in starts if start and abs(start - upload.start_time) <= tolerance), None)
        if match is not None and upload_transition(
            upload_id=upload.pk, to=S.DUPLICATE, expect=[S.PROCESSING], duplicate_of_activity=match,
            reason=f"Strava already has an activity starting at the same time (activity {match})",
        ):
            settled.add(upload.pk)
    return [u for u in uploads if u.pk not in settled]


def _parse_start(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def uploads_pending_calls() -> int:
    """Calls the upload backlog still needs (one POST per queued file), for ETAs."""
    return Upload.objects.filter(status__in=[S.QUEUED, S.UPLOADING]).count()


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
