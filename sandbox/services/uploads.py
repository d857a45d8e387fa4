"""Uploads: accepted at once, processed lazily into activities (or Strava's errors) after a delay."""

from __future__ import annotations

import gzip
import hashlib
import logging
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from activityfiles import Verdict, classify_bytes
from activityfiles.summary import ActivitySummary, read_activity
from sandbox import webhooks
from sandbox.errors import bad_request
from sandbox.models import (
    SimActivity,
    SimConfig,
    SimToken,
    SimUpload,
)
from sandbox.selectors import uploads_due
from sandbox.services.from_file import activity_from_file

log = logging.getLogger(__name__)

DATA_TYPES = ("fit", "fit.gz", "tcx", "tcx.gz", "gpx", "gpx.gz")
# Strava's upload errors (the duplicate one is built by `duplicate_error`).
ERROR_EMPTY = "The file is empty."
ERROR_MALFORMED = "Improperly formatted data."
ERROR_NO_TIME = "Time information is missing from file."
# The upload's optional `activity_type` (case-insensitive), as (type, sport_type); others are ignored.
ACTIVITY_TYPES = {
    name.lower(): (kind, name)
    for kind, names in {
        "Ride": ("Ride", "GravelRide", "MountainBikeRide", "EBikeRide"),
        "VirtualRide": ("VirtualRide",),
        "Run": ("Run", "TrailRun", "VirtualRun"),
        "Swim": ("Swim",),
        "Walk": ("Walk",),
        "Hike": ("Hike",),
        "Workout": ("Workout",),
        "NordicSki": ("NordicSki",),
        "AlpineSki": ("AlpineSki",),
        "Rowing": ("Rowing",),
    }.items()
    for name in names
}


def duplicate_error(filename: str, activity_id: int) -> str:
    return f"{filename} duplicate of activity {activity_id}"


def upload_create(
    *,
    token: SimToken,
    data: bytes,
    filename: str,
    data_type: str,
    name: str = "",
    description: str = "",
    trainer: bool | None = None,
    commute: bool | None = None,
    external_id: str = "",
    activity_type: str = "",
) -> SimUpload:
    """Accept a file for processing after SANDBOX_UPLOAD_DELAY; the same bytes again are a duplicate at once."""
    if data_type not in DATA_TYPES:
        raise bad_request("Upload", "data_type")
    now = timezone.now()
    sha256 = hashlib.sha256(data).hexdigest()
    upload = SimUpload(
        athlete_id=token.athlete_id,
        client_id=token.client_id,
        filename=filename[:255],
        data_type=data_type,
        sha256=sha256,
        size=len(data),
        data=data,
        name=name[:255],
        description=description,
        trainer=trainer,
        commute=commute,
        external_id=(external_id or filename)[:255],
        activity_type=activity_type.strip().lower() if activity_type.strip().lower() in ACTIVITY_TYPES else "",
        created_at=now,
        process_after=now + timedelta(seconds=settings.SANDBOX_UPLOAD_DELAY),
    )
    earlier = SimUpload.objects.filter(
        athlete_id=token.athlete_id, sha256=sha256, state=SimUpload.State.READY, activity_id__isnull=False
    ).values("activity_id")
    original = SimActivity.objects.filter(pk__in=earlier).order_by("id").values_list("pk", flat=True).first()
    if original is not None:
        upload.state, upload.error = SimUpload.State.ERROR, duplicate_error(filename, original)
        upload.data, upload.processed_at = b"", now
    upload.save()
    return upload


def _classify(data: bytes) -> Verdict | None:
    """The neutral file readers' verdict; None means the file could not be read."""
    try:
        return classify_bytes(data)
    except Exception:  # a reader bug must not wedge the simulator: the upload fails instead
        log.exception("sandbox: the classifier raised")
        return None


@dataclass(frozen=True)
class _Outcome:
    error: str = ""
    summary: ActivitySummary | None = None


def _upload_read(upload: SimUpload) -> _Outcome:
    """What Strava makes of the file: its error, or the whole recording read from it."""
    if SimConfig.load().fail_uploads:
        return _Outcome(error=ERROR_MALFORMED)
    data = bytes(upload.data)
    if upload.data_type.endswith(".gz") and data:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return _Outcome(error=ERROR_MALFORMED)
    if not data.strip():
        return _Outcome(error=ERROR_EMPTY)
    verdict = _classify(data)
    if verdict is None or verdict.status != "eligible":
        return _Outcome(error=ERROR_MALFORMED)
    summary = read_activity(data)
    if summary is None:
        return _Outcome(error=ERROR_MALFORMED)
    if summary.start_time is None:
        return _Outcome(error=ERROR_NO_TIME)
    return _Outcome(summary=summary)


def _upload_process(upload_id: int) -> None:
    with transaction.atomic():
        upload = (
            SimUpload.objects.select_for_update(of=("self",))
            .select_related("athlete")
            .filter(pk=upload_id, state=SimUpload.State.PROCESSING)
            .first()
        )
        if upload is None:  # another request processed it first
            return
        outcome = _upload_read(upload)
        activity = None
        summary = outcome.summary
        if not outcome.error and summary is not None and summary.start_time is not None:
            # Strava's duplicate: the same athlete and the same recorded start.
            start = summary.start_time.astimezone(UTC).replace(microsecond=0)
            existing = (
                SimActivity.objects.filter(athlete_id=upload.athlete_id, start_date=start).values_list("pk", flat=True).first()
            )
            if existing is not None:
                outcome = _Outcome(error=duplicate_error(upload.filename, existing))
            else:
                chosen = ACTIVITY_TYPES.get(upload.activity_type)  # the upload's type beats the file's
                activity = activity_from_file(upload, summary, sport_type=chosen[1] if chosen else None)
        upload.state = SimUpload.State.ERROR if activity is None else SimUpload.State.READY
        upload.error = outcome.error
        upload.activity_id = activity.pk if activity else None
        upload.data, upload.processed_at = b"", timezone.now()
        upload.save()
        if activity is not None:
            webhooks.event_send(
                client_id=upload.client_id,
                object_type="activity",
                object_id=activity.pk,
                aspect_type="create",
                owner_id=upload.athlete_id,
            )


def uploads_process_due(*, athlete_id: int, now: datetime | None = None) -> int:
    """Process, oldest first, the athlete's uploads whose delay has passed (lazily, when they are read)."""
    due = list(uploads_due(athlete_id=athlete_id, now=now).values_list("pk", flat=True))
    for upload_id in due:
        _upload_process(upload_id)
    return len(due)


def sim_activity_delete(*, activity_id: int) -> bool:
    """Delete an activity as its owner would on strava.com; its upload then reads 'deleted'."""
    activity = SimActivity.objects.filter(pk=activity_id).first()
    if activity is None:
        return False
    client_ids = set(
        SimToken.objects.filter(athlete_id=activity.athlete_id, revoked_at__isnull=True).values_list("client_id", flat=True)
    )
    with transaction.atomic():
        activity.delete()
        for client_id in client_ids:
            webhooks.event_send(
                client_id=client_id,
                object_type="activity",
                object_id=activity_id,
                aspect_type="delete",
                owner_id=activity.athlete_id,
            )
    return True
