"""Writes for segments: efforts from the warehouse's detailed activities, segment details, dispatch.

Efforts never cost a call: they arrive inside the detailed activity the warehouse already
fetched. A segment's details cost one `GET /segments/{id}`, taken at priority backfill, most
ridden first, once per segment (again only when a person asks). The rows are the queue of
record: a segment is claimed with a conditional update before its call, so two workers never
fetch the same one and a killed worker's claim simply expires.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Athlete
from stravasync.strava import quota
from stravasync.strava.client import StravaClient
from stravasync.strava.dispatch import permits_hand_out, ready_up_to
from stravasync.strava.errors import (
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
from warehouse.services.enrich import activity_claim, activity_enrich, activity_release

from . import selectors
from .models import Segment, SegmentEffort

logger = logging.getLogger(__name__)

# Parts of a DetailedSegment that describe the athlete whose token fetched it: the segment is
# shared by every athlete of the deployment, so these are not kept.
PER_ATHLETE_KEYS = ("athlete_segment_stats", "athlete_pr_effort", "starred", "starred_date", "pr_time", "pr_effort")
DETAIL_FIELDS = ("total_elevation_gain", "effort_count", "athlete_count", "star_count")
EFFORT_FIELDS = (
    "activity", "segment", "athlete", "name", "elapsed_time", "moving_time", "start_date", "start_date_local",
    "distance", "start_index", "end_index", "average_heartrate", "max_heartrate", "average_watts", "device_watts",
    "average_cadence", "pr_rank", "kom_rank", "hidden",
)
# After a 5xx or a network failure the segment rests this long before another try.
ERROR_REST = timedelta(minutes=5)


# --- efforts (no call) -----------------------------------------------------------------------------
def _text(value: Any, limit: int) -> str:
    return str(value or "")[:limit]


def _segment_fields(summary: dict[str, Any]) -> dict[str, Any]:
    """Our columns from a SummarySegment or DetailedSegment (missing keys keep their defaults)."""
    fields: dict[str, Any] = {
        "name": _text(summary.get("name"), 255),
        "activity_type": _text(summary.get("activity_type"), 16),
        "distance": float(summary.get("distance") or 0.0),
        "average_grade": summary.get("average_grade"),
        "maximum_grade": summary.get("maximum_grade"),
        "elevation_high": summary.get("elevation_high"),
        "elevation_low": summary.get("elevation_low"),
        "climb_category": int(summary.get("climb_category") or 0),
        "city": _text(summary.get("city"), 120),
        "state": _text(summary.get("state"), 120),
        "country": _text(summary.get("country"), 120),
        "start_latlng": summary.get("start_latlng") or None,
        "end_latlng": summary.get("end_latlng") or None,
        "private": bool(summary.get("private")),
        "hazardous": bool(summary.get("hazardous")),
    }
    for key in DETAIL_FIELDS:
        if key in summary:
            fields[key] = summary[key]
    return fields


def _when(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


def _effort(raw: dict[str, Any], *, activity: Activity, segment_pk: int) -> SegmentEffort | None:
    start = _when(raw.get("start_date"))
    if raw.get("id") is None or start is None:
        return None
    return SegmentEffort(
        strava_id=int(raw["id"]),
        activity_id=activity.pk,
        segment_id=segment_pk,
        athlete_id=activity.athlete_id,
        name=_text(raw.get("name"), 255),
        elapsed_time=int(raw.get("elapsed_time") or 0),
        moving_time=raw.get("moving_time"),
        start_date=start,
        start_date_local=_when(raw.get("start_date_local")),
        distance=float(raw.get("distance") or 0.0),
        start_index=raw.get("start_index"),
        end_index=raw.get("end_index"),
        average_heartrate=raw.get("average_heartrate"),
        max_heartrate=raw.get("max_heartrate"),
        average_watts=raw.get("average_watts"),
        device_watts=bool(raw.get("device_watts")),
        average_cadence=raw.get("average_cadence"),
        pr_rank=raw.get("pr_rank"),
        kom_rank=raw.get("kom_rank"),
        hidden=bool(raw.get("hidden")),
    )


def efforts_store(*, activity: Activity) -> int:
    """Store the segment efforts inside an activity's stored detail; no API call. Idempotent.

    Upserts efforts by Strava id, creates the segments they touch from their summaries
    (details already fetched are never overwritten), drops efforts Strava no longer lists,
    and marks the activity done. Returns the number of efforts stored.
    """
    detail = activity.detail
    if not isinstance(detail, dict):
        return 0
    raw_efforts = [
        e for e in detail.get("segment_efforts") or []
        if isinstance(e, dict) and isinstance(e.get("segment"), dict) and e["segment"].get("id") is not None
    ]
    summaries = {int(e["segment"]["id"]): e["segment"] for e in raw_efforts}
    now = timezone.now()
    with transaction.atomic():
        Segment.objects.bulk_create(
            [Segment(strava_id=sid, **_segment_fields(summary)) for sid, summary in summaries.items()],
            ignore_conflicts=True,
            batch_size=500,
        )
        segment_pks = dict(Segment.objects.filter(strava_id__in=summaries).values_list("strava_id", "pk"))
        efforts = [
            effort
            for raw in raw_efforts
            if (effort := _effort(raw, activity=activity, segment_pk=segment_pks[int(raw["segment"]["id"])])) is not None
        ]
        if efforts:
            SegmentEffort.objects.bulk_create(
                efforts, update_conflicts=True, unique_fields=["strava_id"], update_fields=list(EFFORT_FIELDS),
                batch_size=500,
            )
        SegmentEffort.objects.filter(activity_id=activity.pk).exclude(strava_id__in=[e.strava_id for e in efforts]).delete()
        Activity.objects.filter(pk=activity.pk).update(efforts_stored_at=now)
    activity.efforts_stored_at = now
    return len(efforts)


def efforts_store_received(sender: type[Activity], *, activity: Activity, **kwargs: Any) -> None:
    """Receiver of the warehouse's `activity_detail_stored`: the efforts came with the detail, no call."""
    efforts_store(activity=activity)


def efforts_store_pending(*, athlete: Athlete | None = None, limit: int | None = None) -> int:
    """Finish activities whose details are stored but whose efforts are not (no call). Returns activities done."""
    pending = selectors.activities_pending_efforts(athlete=athlete).values_list("pk", flat=True)
    ids = list(pending[:limit] if limit is not None else pending)
    # One by one, not through an open cursor: each store changes the rows the query selects.
    done = 0
    for activity in Activity.objects.filter(pk__in=ids).iterator(chunk_size=20):
        efforts_store(activity=activity)
        done += 1
    return done


def activity_backfill(*, activity_id: int) -> bool:
    """Fetch one activity's details for the backfill: one call at priority backfill, efforts included.

    Takes the warehouse's enrich lease first, so a dispatcher worker never fetches the same
    activity at the same time. True if the call was made; errors are raised (the warehouse has
    recorded them on the activity) so that the caller can wait for the quota or stop.
    """
    if not activity_claim(activity_id=activity_id, seconds=settings.SEGMENTS_CLAIM_TIMEOUT):
        return False
    try:
        return activity_enrich(activity_id=activity_id, priority=Priority.BACKFILL)
    finally:
        activity_release(activity_id=activity_id)


# --- segment details (one call each) -------------------------------------------------------------
def segment_claim(*, segment_id: int, now: datetime | None = None, refresh: bool = False) -> str | None:
    """Take the lease on one segment's detail call; returns the claim token, or None if not ours to fetch."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    wanted = Q(details_requested_at__isnull=False) if refresh else Q(details_fetched_at__isnull=True, details_unavailable="")
    claimed = (
        Segment.objects.filter(wanted, pk=segment_id)
        .filter(Q(details_claimed_until__isnull=True) | Q(details_claimed_until__lte=now))
        .update(details_claim=token, details_claimed_until=now + timedelta(seconds=settings.SEGMENTS_CLAIM_TIMEOUT))
    )
    return token if claimed == 1 else None


def _unclaim(segment_id: int, token: str, *, rest_until: datetime | None = None) -> None:
    """Give the segment back unchanged; `rest_until` keeps it out of the backlog for a while."""
    Segment.objects.filter(pk=segment_id, details_claim=token).update(details_claim="", details_claimed_until=rest_until)


def _candidates(segment: Segment, athlete_id: int | None) -> list[int]:
    """Whose token to use: the asking athlete, else the connected athletes who rode it."""
    if athlete_id is not None:
        return [athlete_id]
    riders = selectors.fetchers().filter(segment_efforts__segment=segment).distinct().order_by("pk")
    # Strava serves segments to the "read" scope (read_all includes it).
    return [rider.pk for rider in riders if rider.has_scope("read")]


def _store_details(segment_id: int, token: str, payload: dict[str, Any]) -> bool:
    details = {k: v for k, v in payload.items() if k not in PER_ATHLETE_KEYS}
    fields = _segment_fields(details)
    return bool(
        Segment.objects.filter(pk=segment_id, details_claim=token).update(
            **fields, details=details, details_fetched_at=timezone.now(), details_requested_at=None,
            details_unavailable="", details_claim="", details_claimed_until=None, updated_at=timezone.now(),
        )
    )


def segment_details_fetch(
    *,
    segment_id: int,
    priority: Priority | int = Priority.BACKFILL,
    grant: dict | None = None,
    claim: str | None = None,
    athlete_id: int | None = None,
) -> str:
    """Fetch one segment's details with one call and store them. Returns what happened.

    "fetched", "unavailable" (Strava said 404), "skipped" (nothing to do, or someone else's
    claim), "failed" (it rests and is tried later). A refused permit (`RateLimited`) or a
    lapsed subscription (`SubscriptionInactive`) gives the segment back unchanged and is raised
    so that the caller can wait.
    """
    permit = Grant(**grant) if grant else None
    segment = Segment.objects.filter(pk=segment_id).first()
    refresh = segment is not None and segment.details_requested_at is not None
    token = claim or (segment_claim(segment_id=segment_id, refresh=refresh) if segment is not None else None)
    if segment is None or token is None or not Segment.objects.filter(pk=segment_id, details_claim=token).exists():
        if permit is not None:
            quota.release(permit, 1, kind=Kind.READ)
        return "skipped"
    candidates = _candidates(segment, athlete_id)
    if not candidates:
        if permit is not None:
            quota.release(permit, 1, kind=Kind.READ)
        _unclaim(segment_id, token, rest_until=timezone.now() + ERROR_REST)
        return "skipped"
    last_error: StravaError | None = None
    for candidate in candidates[:3]:
        client = StravaClient(athlete_id=candidate, priority=priority, grant=permit)
        permit = None  # a permit serves one call only
        try:
            payload = client.get_segment(segment.strava_id)
        except (RateLimited, SubscriptionInactive):
            _unclaim(segment_id, token)
            raise
        except NotFound as exc:
            Segment.objects.filter(pk=segment_id, details_claim=token).update(
                details_unavailable=(exc.message or "not found")[:300], details_requested_at=None,
                details_claim="", details_claimed_until=None,
            )
            return "unavailable"
        except (ReconnectNeeded, Unauthorized) as exc:
            last_error = exc  # this athlete's token cannot read it: try another rider's
            continue
        except (ServerError, NetworkError, StravaError) as exc:
            last_error = exc
            break
        return "fetched" if _store_details(segment_id, token, payload) else "skipped"
    logger.warning("segment %s details not fetched: %s", segment.strava_id, last_error)
    _unclaim(segment_id, token, rest_until=timezone.now() + ERROR_REST)
    return "failed"


def segment_refresh_request(*, segment: Segment, athlete: Athlete) -> None:
    """A person asks for fresh details: fetched at once at interactive priority, or by the dispatcher later."""
    from django_q.tasks import async_task

    Segment.objects.filter(pk=segment.pk).update(details_requested_at=timezone.now(), details_unavailable="")
    # On commit: the task must find the request it was enqueued for.
    transaction.on_commit(partial(async_task, "segments.tasks.refresh_segment", segment.pk, athlete.pk,
                                  task_name=f"refresh segment {segment.pk}", group="segments"))


def segment_refresh(*, segment_id: int, athlete_id: int | None = None) -> str:
    """Run a requested refresh now; if the quota says no, the dispatcher picks the request up later."""
    try:
        return segment_details_fetch(segment_id=segment_id, priority=Priority.INTERACTIVE, athlete_id=athlete_id)
    except (RateLimited, SubscriptionInactive):
        return "waiting"


# --- the dispatcher step ---------------------------------------------------------------------------
def fetch_claimed(*, segment_id: int, grant: dict | None, claim: str, priority: Priority | int) -> str:
    """A worker's half of the dispatch: fetch a segment already claimed; give it back if the quota says no."""
    try:
        return segment_details_fetch(segment_id=segment_id, priority=priority, grant=grant, claim=claim)
    except (RateLimited, SubscriptionInactive):
        return "waiting"


def _claim_for_task(pk: int, *, now: datetime, refresh: bool, priority: Priority) -> tuple[int, str, int] | None:
    """The dispatcher's claim: the fetch_segment task's arguments (segment, claim token, priority), or None."""
    token = segment_claim(segment_id=pk, now=now, refresh=refresh)
    return (pk, token, int(priority)) if token else None


def segments_dispatch(*, inline: bool = False) -> int:
    """Dispatcher step: store pending efforts (free), then take permits for segment details and hand them out.

    Requested refreshes go first at interactive priority; the backfill takes backfill permits,
    most-ridden segments first. Returns the work handed out (activities stored + segments).
    """
    done = efforts_store_pending(limit=settings.SEGMENTS_EFFORTS_BATCH)
    now = timezone.now()
    for priority, backlog, refresh in (
        (Priority.INTERACTIVE, selectors.segments_refresh_requested(now=now), True),
        (Priority.BACKFILL, selectors.segments_needing_details(now=now), False),
    ):
        done += permits_hand_out(
            ready=backlog, wanted=ready_up_to(backlog, settings.SEGMENTS_DISPATCH_BATCH),
            kind=Kind.READ, priority=priority, fair_key=None, order_by=(),  # shared segments: no athlete to take turns
            claim=partial(_claim_for_task, now=now, refresh=refresh, priority=priority),
            run=lambda args, permit: fetch_claimed(segment_id=args[0], claim=args[1], priority=args[2], grant=permit),
            task="segments.tasks.fetch_segment", label="segments details", inline=inline,
        )
    return done
