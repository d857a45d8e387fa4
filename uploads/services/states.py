"""The upload state machine and the book of calls spent: every step claims its row, so a late or
repeated task cannot move a settled upload."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from warehouse.services.files import activity_file_on_strava

from ..models import Upload, UploadBatch, UploadEvent

S = Upload.Status

# Which states may follow which: anything else is refused, so a late or repeated task
# cannot move a settled upload.
TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.JUNK, S.DUPLICATE, S.FAILED, S.QUEUED, S.LOCAL},
    S.QUEUED: {S.UPLOADING, S.JUNK, S.FAILED},
    S.UPLOADING: {S.PROCESSING, S.DONE, S.DUPLICATE, S.FAILED, S.QUEUED},
    S.PROCESSING: {S.DONE, S.DUPLICATE, S.FAILED, S.QUEUED},
    S.FAILED: {S.QUEUED, S.JUNK, S.RECEIVED},
    S.JUNK: {S.RECEIVED, S.QUEUED},
    S.DUPLICATE: {S.RECEIVED},
    S.DONE: set(),
    # Kept here, not sent ("keep here only"): final, but a person may still send it later.
    S.LOCAL: {S.QUEUED},
}


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
        batch_id, athlete_id = Upload.objects.filter(pk=upload_id).values_list("batch_id", "athlete_id").first() or (None, None)
        if batch_id:
            batch_refresh(batch_id=batch_id)
        strava_id = fields.get("activity_id") if to == S.DONE else fields.get("duplicate_of_activity")
        if to in (S.DONE, S.DUPLICATE) and isinstance(strava_id, int) and athlete_id is not None:
            # Strava has the file's activity now: the warehouse row built from the file becomes it (no call).
            activity_file_on_strava(athlete_id=athlete_id, upload_pk=upload_id, strava_id=strava_id)
    return True


def uploads_create(rows: Sequence[tuple[Upload, str]]) -> list[Upload]:
    """New rows, each in its first state after "received" (set on the unsaved row), both steps recorded.

    `rows` pairs an unsaved Upload with a note for its "received" step. Nobody can see a row
    before it exists, so no claim is needed; they are inserted together, and the batch is not
    refreshed here (ingest does that once for everything it created, so ingest stays linear).
    """
    now = timezone.now()
    for upload, _note in rows:
        if upload.status not in TRANSITIONS[S.RECEIVED]:
            raise ValueError(f"a new upload cannot start as {upload.status}")
        if upload.status in Upload.FINAL:
            upload.settled_at = now
    created = Upload.objects.bulk_create([upload for upload, _note in rows])
    UploadEvent.objects.bulk_create([
        event
        for upload, note in zip(created, (note for _upload, note in rows), strict=True)
        for event in (
            UploadEvent(upload=upload, to_status=S.RECEIVED, reason=note),
            UploadEvent(upload=upload, from_status=S.RECEIVED, to_status=upload.status, reason=upload.reason),
        )
    ])
    return created


# --- batches -----------------------------------------------------------------------------------
def batch_refresh(*, batch_id: int) -> None:
    """Close the batch when every file has settled (its counts become the report's totals)."""
    rows = Upload.objects.filter(batch_id=batch_id).values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    open_files = sum(n for status, n in counts.items() if status not in Upload.FINAL)
    finished = timezone.now() if open_files == 0 and counts else None
    UploadBatch.objects.filter(pk=batch_id).update(counts=counts, finished_at=finished)


def calls_book(upload_ids: Iterable[int], calls: int) -> None:
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
