"""Reads of the simulator's tables."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from sandbox.models import (
    SimActivity,
    SimAthlete,
    SimPushSubscription,
    SimSegment,
    SimSegmentEffort,
    SimToken,
    SimUpload,
)
from sandbox.serializers import UPLOAD_DELETED, UPLOAD_ERROR, UPLOAD_PROCESSING, UPLOAD_READY, PrStats

ACTIVITY_READ_SCOPES = {"activity:read", "activity:read_all"}
PROFILE_READ_SCOPES = {"read", "read_all", "profile:read_all"}


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def token_get(*, access_token: str | None) -> SimToken | None:
    """The grant an access token belongs to, even when expired or revoked (its app is still known)."""
    if not access_token:
        return None
    return SimToken.objects.filter(access_token=access_token).select_related("athlete").first()


def athlete_get(*, athlete_id: int) -> SimAthlete | None:
    return SimAthlete.objects.filter(pk=athlete_id).first()


def athletes_for_consent(*, limit: int = 500) -> QuerySet[SimAthlete]:
    return SimAthlete.objects.order_by("-id")[:limit]


def connected_athlete_ids(*, client_id: str) -> set[int]:
    """Athletes holding a grant the application has not lost (Strava's connected athletes)."""
    return set(
        SimToken.objects.filter(client_id=client_id, revoked_at__isnull=True, refreshed_at__isnull=True)
        .values_list("athlete_id", flat=True)
        .distinct()
    )


def athlete_limit_reached(*, client_id: str, athlete_id: int | None) -> bool:
    """SANDBOX_MAX_ATHLETES (0: no limit) caps connected athletes, as Strava caps new applications."""
    limit = getattr(settings, "SANDBOX_MAX_ATHLETES", 0)
    if not limit:
        return False
    connected = connected_athlete_ids(client_id=client_id)
    return athlete_id not in connected and len(connected) >= limit


def _epoch(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def activities_list(
    *,
    athlete_id: int,
    include_private: bool,
    before: int | None = None,
    after: int | None = None,
    page: int = 1,
    per_page: int = 30,
) -> list[SimActivity]:
    """Newest first, `before`/`after` exclusive epoch seconds, as Strava pages them."""
    qs = SimActivity.objects.filter(athlete_id=athlete_id).select_related("athlete")
    if not include_private:
        qs = qs.filter(private=False)
    if before is not None:
        qs = qs.filter(start_date__lt=_epoch(before))
    if after is not None:
        qs = qs.filter(start_date__gt=_epoch(after))
    start = (page - 1) * per_page
    return list(qs.order_by("-start_date", "-id")[start : start + per_page])


def activity_get(*, activity_id: int, athlete_id: int, include_private: bool) -> SimActivity | None:
    qs = SimActivity.objects.filter(pk=activity_id, athlete_id=athlete_id).select_related("athlete")
    if not include_private:
        qs = qs.filter(private=False)
    return qs.first()


def activity_efforts(*, activity: SimActivity, include_all: bool) -> list[SimSegmentEffort]:
    """All efforts, or without include_all only the notable ones (a PR or a KOM rank)."""
    qs = activity.efforts.select_related("segment").order_by("start_date", "id")
    if not include_all:
        qs = qs.filter(Q(pr_rank__isnull=False) | Q(kom_rank__isnull=False))
    return list(qs)


def segment_prs(*, athlete_id: int, segment_ids: list[int]) -> dict[int, PrStats]:
    """The athlete's best effort and effort count on each segment."""
    best: dict[int, tuple[int, int, datetime]] = {}
    counts: dict[int, int] = {}
    rows = SimSegmentEffort.objects.filter(athlete_id=athlete_id, segment_id__in=segment_ids).values_list(
        "segment_id", "elapsed_time", "activity_id", "start_date"
    )
    for segment_id, elapsed, activity_id, start in rows:
        counts[segment_id] = counts.get(segment_id, 0) + 1
        if segment_id not in best or elapsed < best[segment_id][0]:
            best[segment_id] = (elapsed, activity_id, start)
    return {
        sid: PrStats(pr_activity_id=a, pr_elapsed_time=e, pr_date=s.date(), effort_count=counts[sid])
        for sid, (e, a, s) in best.items()
    }


def segment_get(*, segment_id: int) -> SimSegment | None:
    return SimSegment.objects.filter(pk=segment_id).first()


def upload_get(*, upload_id: int, athlete_id: int) -> SimUpload | None:
    return SimUpload.objects.filter(pk=upload_id, athlete_id=athlete_id).defer("data").first()


def upload_status(upload: SimUpload) -> str:
    if upload.state == SimUpload.State.PROCESSING:
        return UPLOAD_PROCESSING
    if upload.state == SimUpload.State.ERROR:
        return UPLOAD_ERROR
    if upload.activity_id and not SimActivity.objects.filter(pk=upload.activity_id).exists():
        return UPLOAD_DELETED
    return UPLOAD_READY


def push_subscription_get(*, client_id: str) -> SimPushSubscription | None:
    return SimPushSubscription.objects.filter(client_id=client_id).first()


def uploads_due(*, athlete_id: int, now: datetime | None = None) -> QuerySet[SimUpload]:
    return SimUpload.objects.filter(
        athlete_id=athlete_id, state=SimUpload.State.PROCESSING, process_after__lte=now or timezone.now()
    ).order_by("id")
