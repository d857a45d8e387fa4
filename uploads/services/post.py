"""Dispatch and post: hand out upload permits, POST each claimed file once, settle from Strava's answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from stravasync.strava import quota
from stravasync.strava.client import StravaClient, duplicate_of
from stravasync.strava.dispatch import permits_hand_out, ready_up_to
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
from warehouse.models import Activity

from ..models import Upload
from .states import S, calls_book, upload_transition

STRAVA_READY = "Your activity is ready."
STRAVA_PROCESSING = "Your activity is still being processed."
STRAVA_DELETED = "The created activity has been deleted."


def _ready_to_post(now: datetime):
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
        ready=ready, wanted=ready_up_to(ready, settings.UPLOADS_DISPATCH_BATCH), kind=Kind.WRITE,
        priority=Priority.UPLOAD, fair_key="uploads", order_by=("id",), claim=claim,
        run=lambda pk, permit: upload_post(upload_id=pk, grant=permit),
        task="uploads.tasks.post_upload", label="uploads post", inline=inline,
    )


def upload_give_back(upload: Upload, *, retry_at: datetime, reason: str) -> None:
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
    stored_name = upload.file.name  # what `if upload.file` tests: a FieldFile is truthy when it has a name
    if not stored_name or not upload.file.storage.exists(stored_name):
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
        calls_book([upload.pk], client.calls)
    # `upload` was read before this call's POST was counted; the client retries a POST that timed
    # out or failed, and the lost one may have landed: either way the answer may be about our own.
    upload_apply_strava(upload, payload, posting=True, posted_before=upload.attempts > 0 or client.calls > 1)


def _strava_filename(upload: Upload) -> str:
    return upload.display_name or f"{upload.pk}.{upload.data_type}"


def _post_failed(upload: Upload, exc: StravaError) -> None:
    now = timezone.now()
    if isinstance(exc, RateLimited):
        upload_give_back(upload, retry_at=exc.retry_at, reason="waiting for the Strava quota")
    elif isinstance(exc, SubscriptionInactive):
        upload_give_back(upload, retry_at=now + timedelta(seconds=settings.QUOTA_INACTIVE_PROBE_SECONDS),
                   reason="Strava API subscription inactive: paused")
    elif isinstance(exc, ReconnectNeeded):
        upload_give_back(upload, retry_at=now + timedelta(hours=1), reason="paused: the athlete must reconnect with Strava")
    elif isinstance(exc, Unauthorized) and exc.missing_scope:
        upload_transition(upload_id=upload.pk, to=S.FAILED,
                          reason=f"Strava refused: permission {exc.missing_scope} not granted; reconnect and allow uploads")
    elif isinstance(exc, ServerError | NetworkError | Unauthorized):
        attempts = Upload.objects.filter(pk=upload.pk).values_list("attempts", flat=True).first() or 0
        if attempts >= settings.UPLOADS_MAX_ATTEMPTS:
            upload_transition(upload_id=upload.pk, to=S.FAILED, reason=f"Strava kept failing: {exc.message}")
        else:
            delay = min(3600, 30 * 2 ** max(0, attempts - 1))
            upload_give_back(upload, retry_at=now + timedelta(seconds=delay), reason=f"will retry: {exc.message}")
    elif isinstance(exc, BadRequest | NotFound | Forbidden):
        upload_transition(upload_id=upload.pk, to=S.FAILED, reason=f"Strava refused the file: {exc.message}")
    else:
        upload_transition(upload_id=upload.pk, to=S.FAILED, reason=exc.message or type(exc).__name__)


def upload_apply_strava(upload: Upload, payload: dict, *, posting: bool, posted_before: bool | None = None) -> None:
    """Settle (or advance) an upload from Strava's Upload object.

    `posted_before`: another POST of this file may have reached Strava besides the one answered
    (by default: more than one upload attempt, or more than one call booked on the row).
    """
    if posted_before is None:
        posted_before = upload.attempts > 1 or upload.api_calls > 1
    upload_id = payload.get("id")
    error = payload.get("error")
    status = payload.get("status") or ""
    if error:
        dup = duplicate_of(error)
        if dup is not None:
            _settle_duplicate_answer(upload, activity_id=dup, error=error, strava_upload_id=upload_id, posting=posting,
                                     posted_before=posted_before)
        else:
            upload_transition(upload_id=upload.pk, to=S.FAILED, reason=error, strava_upload_id=upload_id)
    elif payload.get("activity_id"):
        upload_transition(upload_id=upload.pk, to=S.DONE, reason="", activity_id=payload["activity_id"],
                          strava_upload_id=upload_id)
    elif status == STRAVA_DELETED:
        upload_transition(upload_id=upload.pk, to=S.FAILED, reason=status, strava_upload_id=upload_id)
    elif posting:
        # A "not before" left from an earlier give-back would keep the upload out of the list call.
        upload_transition(upload_id=upload.pk, to=S.PROCESSING, expect=[S.UPLOADING], reason="",
                          strava_upload_id=upload_id, next_attempt_at=None)
    else:
        # Still processing: ask again later, never faster than once a second.
        Upload.objects.filter(pk=upload.pk).update(next_attempt_at=timezone.now() + timedelta(seconds=2))


def _settle_duplicate_answer(upload: Upload, *, activity_id: int, error: str, strava_upload_id: int | None,
                             posting: bool, posted_before: bool) -> None:
    """Strava says "duplicate of activity N": N may be the activity our own earlier POST created.

    A POST whose answer never came (a timeout the client retried, a killed worker) may still have
    created the activity; a later POST, or the upload it answered, is then "duplicate" of that very
    activity, which carries this row's external_id. The warehouse may know N already; if not, the
    confirmer's next list call (one per 200 uploads) shows N's external_id, so the check costs no
    call of its own. A status answer that names the same N again after that is taken as it is.
    """
    known = Activity.objects.filter(athlete_id=upload.athlete_id, strava_id=activity_id).values_list(
        "external_id", flat=True).first()
    if known == upload.external_id:
        upload_transition(upload_id=upload.pk, to=S.DONE, reason="", activity_id=activity_id,
                          duplicate_of_activity=None, strava_upload_id=strava_upload_id)
        return
    ask_the_list = known is None and posted_before
    reason = f"{error}; an earlier POST of ours may have created it: the activity list will tell"
    if ask_the_list and posting:
        upload_transition(upload_id=upload.pk, to=S.PROCESSING, expect=[S.UPLOADING], duplicate_of_activity=activity_id,
                          strava_upload_id=strava_upload_id, reason=reason, next_attempt_at=None)
    elif ask_the_list and upload.duplicate_of_activity != activity_id:
        # Listable again (no next attempt), and the duplicate_of_activity makes the next round list.
        Upload.objects.filter(pk=upload.pk, status=S.PROCESSING).update(
            duplicate_of_activity=activity_id, strava_upload_id=strava_upload_id, next_attempt_at=None, reason=reason,
            updated_at=timezone.now())
    else:
        upload_transition(upload_id=upload.pk, to=S.DUPLICATE, reason=error, duplicate_of_activity=activity_id,
                          strava_upload_id=strava_upload_id)


def uploads_pending_calls() -> int:
    """Calls the upload backlog still needs (one POST per queued file), for ETAs."""
    return Upload.objects.filter(status__in=[S.QUEUED, S.UPLOADING]).count()
