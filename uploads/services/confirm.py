"""Confirm: settle the uploads Strava is processing, at the lowest cost in calls."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from stravasync.strava.client import StravaClient
from stravasync.strava.errors import RateLimited, StravaError, SubscriptionInactive
from stravasync.strava.quota import Priority
from warehouse.services import activities_upsert, push_live

from ..models import Upload
from .post import upload_apply_strava, upload_give_back
from .states import S, calls_book, upload_transition

logger = logging.getLogger(__name__)

# Two recordings starting this close together are the same activity to Strava.
DUPLICATE_START_TOLERANCE = 60


def uploads_confirm(*, now: datetime | None = None) -> int:
    """Settle uploads Strava is processing, at the lowest cost in calls; returns calls spent.

    Per athlete: one `GET /athlete/activities` around the files' start times settles up to 200
    uploads at once (matched by upload id or external id); only the uploads the list did not
    show (Strava refused them as duplicates or errors) are asked about one by one.
    While webhooks are live, an upload is left to its `create` event for WEBHOOK_CONFIRM_GRACE_SECONDS.
    """
    now = now or timezone.now()
    delay = confirm_delay()
    due = Upload.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=S.PROCESSING,
        posted_at__lte=now - timedelta(seconds=delay),
    ).order_by("athlete_id", "start_time")
    by_athlete: dict[int, list[Upload]] = defaultdict(list)
    for upload in due[:2000]:
        by_athlete[upload.athlete_id].append(upload)
    calls = 0
    for athlete_id, uploads in by_athlete.items():
        try:
            calls += _confirm_athlete(athlete_id, uploads, now, delay)
        except RateLimited:
            break
        except SubscriptionInactive:
            break
        except StravaError as exc:
            logger.warning("confirming uploads of athlete %s: %s", athlete_id, exc.message)
    return calls


def confirm_delay() -> float:
    """Seconds after its post before an upload is worth a confirmer call.

    With webhooks live, the activity's `create` event settles the upload with no confirmer call
    (webhooks matches its upload_id / external_id), so a call spent earlier is wasted. After the
    grace the confirmer works as without webhooks: a file Strava refused (duplicate, error) sends no
    event, and a missed event must not strand an upload.
    """
    if push_live():
        return max(settings.UPLOADS_CONFIRM_DELAY, settings.WEBHOOK_CONFIRM_GRACE_SECONDS)
    return settings.UPLOADS_CONFIRM_DELAY


def _confirm_athlete(athlete_id: int, uploads: list[Upload], now: datetime, delay: float) -> int:
    # Files still to post, or posted too recently to be due, would need a list call of their
    # own if these were settled now: while they come, wait, so one call settles them all.
    more_coming = Upload.objects.filter(
        Q(status__in=[S.QUEUED, S.UPLOADING])
        | Q(status=S.PROCESSING, posted_at__gt=now - timedelta(seconds=delay)),
        athlete_id=athlete_id,
    ).exists()
    oldest = min(u.posted_at for u in uploads if u.posted_at)
    waited = (now - oldest).total_seconds()
    if more_coming and len(uploads) < 150 and waited < settings.UPLOADS_CONFIRM_MAX_WAIT:
        return 0
    client = StravaClient(athlete_id=athlete_id, priority=Priority.UPLOAD)
    try:
        listable = [u for u in uploads if u.start_time and not u.next_attempt_at]
        unsettled = [u for u in uploads if u not in listable]
        # One list call is cheaper than two status calls, and the only way to see whether a file
        # posted more than once (a timeout, a killed worker) already has the activity our earlier
        # POST created: it carries our external_id, where a status call says "duplicate of it".
        listing = len(listable) >= 2 or any(u.duplicate_of_activity or u.attempts > 1 for u in listable)
        if listing:
            unsettled += _confirm_by_listing(client, listable)
        else:
            unsettled += listable
        fallback_after = timedelta(seconds=settings.UPLOADS_CONFIRM_FALLBACK)
        for upload in unsettled:
            listed_once = listing and upload in listable
            if listed_once and upload.posted_at and now - upload.posted_at < fallback_after:
                # Not in the list yet: maybe still processing, or refused. Ask by id later.
                Upload.objects.filter(pk=upload.pk).update(next_attempt_at=upload.posted_at + fallback_after)
                continue
            if not upload.strava_upload_id:
                upload_give_back(upload, retry_at=now, reason="Strava upload id unknown; posting again")
                continue
            upload_apply_strava(upload, client.get_upload(upload.strava_upload_id), posting=False)
    finally:
        calls_book([u.pk for u in uploads], client.calls)
    return client.calls


def _confirm_by_listing(client: StravaClient, uploads: list[Upload]) -> list[Upload]:
    """List the athlete's activities around the files' start times; return those not found.

    Every upload must have a start time (the caller lists only those), and the client must
    be an athlete's: the listed pages are stored under that athlete.
    """
    athlete_id = client.athlete_id
    if athlete_id is None:
        raise ValueError("confirming uploads by listing needs a client for one athlete")
    timed = [(u, u.start_time) for u in uploads if u.start_time is not None]
    if len(timed) != len(uploads):
        raise ValueError("confirming uploads by listing needs uploads with a start time")
    # Keyed by what the activity JSON may hold, null included, so its ids are looked up as they are.
    by_upload_id: dict[int | None, Upload] = {u.strava_upload_id: u for u in uploads if u.strava_upload_id}
    by_external_id: dict[str | None, Upload] = {u.external_id: u for u in uploads}
    margin = timedelta(hours=12)
    after = int((min(start for _, start in timed) - margin).timestamp())
    before = int((max(start for _, start in timed) + margin).timestamp())
    settled: set[int] = set()
    listed: list[dict] = []
    page = 1
    while True:
        activities = client.list_activities(after=after, before=before, page=page, per_page=200)
        for activity in activities:
            upload = by_upload_id.get(activity.get("upload_id")) or by_external_id.get(activity.get("external_id"))
            if upload is not None and upload.pk not in settled:
                if upload_transition(upload_id=upload.pk, to=S.DONE, expect=[S.PROCESSING], reason="",
                                     activity_id=activity["id"], duplicate_of_activity=None):
                    settled.add(upload.pk)
        listed += activities
        if len(activities) < 200 or len(settled) == len(uploads):
            break
        page += 1
    # The pages are paid for: the warehouse keeps them (a bulk upsert, no extra call).
    activities_upsert(athlete_id=athlete_id, summaries=listed)
    # An upload missing from the list whose start time matches a listed activity is what
    # Strava will call a duplicate of it: settled now, without a status call.
    starts = [(_parse_start(a.get("start_date")), a["id"]) for a in listed if a.get("start_date")]
    tolerance = timedelta(seconds=DUPLICATE_START_TOLERANCE)
    for upload, upload_start in timed:
        if upload.pk in settled:
            continue
        match = next((aid for start, aid in starts if start and abs(start - upload_start) <= tolerance), None)
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
