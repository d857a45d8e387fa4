"""A person's second opinion on a settled file: Retry where another try can end otherwise, "Upload
anyway" for junk. The verdict being overruled stays in the upload's history (UploadEvent)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Athlete

from ..models import Upload
from .states import S, upload_transition

# A POST was made: Strava refused the file, or the call failed in transit (see Upload.reached_strava).
REACHED_STRAVA = Q(attempts__gt=0) | Q(posted_at__isnull=False) | Q(strava_upload_id__isnull=False)


def uploads_retryable(*, athlete: Athlete) -> QuerySet[Upload]:
    """The athlete's failed files that another try could change: refused by Strava or lost on the way."""
    return Upload.objects.filter(REACHED_STRAVA, athlete=athlete, status=S.FAILED).exclude(file="")


def upload_retry(*, upload: Upload) -> bool:
    """Queue a file that failed at Strava (or on the way) again; False for files that failed before any call."""
    upload.refresh_from_db()
    if not upload.can_retry:
        return False
    return upload_transition(upload_id=upload.pk, to=S.QUEUED, expect=[S.FAILED], next_attempt_at=None, attempts=0,
                             reason=f"retry requested (it had failed: {upload.reason or 'no reason given'})")


def upload_anyway(*, upload: Upload) -> bool:
    """Queue a file classified as junk because a person says it is an activity after all."""
    upload.refresh_from_db()
    if not upload.can_upload_anyway:
        return False
    return upload_transition(upload_id=upload.pk, to=S.QUEUED, expect=[S.JUNK], next_attempt_at=None, attempts=0,
                             reason=f"upload anyway requested (classified as junk: {upload.reason or 'no reason given'})")


def uploads_retry_failed(*, athlete: Athlete) -> int:
    return sum(upload_retry(upload=u) for u in uploads_retryable(athlete=athlete))
