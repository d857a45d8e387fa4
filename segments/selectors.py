"""Reads for segments: the backlog in the order that pays most, the athlete's pages, the stats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Athlete
from stravasync.strava import quota
from stravasync.strava.quota import Kind, Priority
from warehouse import selectors as warehouse_selectors
from warehouse.models import Activity
from warehouse.routes import polyline_decode

from .models import Segment, SegmentEffort


# --- the backlog ---------------------------------------------------------------------------------
def fetchers() -> QuerySet[Athlete]:
    """Athletes whose token may be used for a segment call: connected and not waiting to reconnect."""
    return Athlete.objects.filter(token__isnull=False, needs_reconnect=False, disconnected_at__isnull=True)


def segments_without_details(*, athlete: Athlete | None = None) -> QuerySet[Segment]:
    """Segments never detailed nor found unavailable; `athlete` keeps those they have efforts on."""
    segments = Segment.objects.filter(details_fetched_at__isnull=True, details_unavailable="")
    if athlete is not None:
        segments = segments.filter(Exists(SegmentEffort.objects.filter(segment=OuterRef("pk"), athlete=athlete)))
    return segments


def segment_details_pending_calls() -> int:
    """Calls the segment-details backlog still needs, one per segment (quota_status shows its finish)."""
    return segments_without_details().count()


def segments_needing_details(*, athlete: Athlete | None = None, now: datetime | None = None) -> QuerySet[Segment]:
    """The details backlog, most-ridden first (by this deployment's efforts), ready to be claimed now.

    Only segments that some connected athlete rode: a segment call needs somebody's token.
    """
    now = now or timezone.now()
    ridden_by_fetcher = SegmentEffort.objects.filter(segment=OuterRef("pk"), athlete__in=fetchers())
    return (
        segments_without_details(athlete=athlete)
        .filter(Q(details_claimed_until__isnull=True) | Q(details_claimed_until__lte=now))
        .filter(Exists(ridden_by_fetcher))
        .annotate(rides=Count("efforts"))
        .order_by("-rides", "id")
    )


def segments_refresh_requested(*, now: datetime | None = None) -> QuerySet[Segment]:
    """Segments a person asked to refresh, oldest request first."""
    now = now or timezone.now()
    return (
        Segment.objects.filter(details_requested_at__isnull=False)
        .filter(Q(details_claimed_until__isnull=True) | Q(details_claimed_until__lte=now))
        .order_by("details_requested_at", "id")
    )


def activities_pending_efforts(*, athlete: Athlete | None = None) -> QuerySet[Activity]:
    """Activities whose details are stored but whose efforts are not: free to finish, no call."""
    activities = Activity.objects.filter(detail__isnull=False, efforts_stored_at__isnull=True)
    if athlete is not None:
        activities = activities.filter(athlete=athlete)
    return activities.order_by("-start_date", "id")


def activities_without_details(*, athlete: Athlete | None = None) -> QuerySet[Activity]:
    """Activities still needing their one detail call (the warehouse's backlog, newest first)."""
    return warehouse_selectors.activities_without_details(athlete=athlete)


def activities_to_backfill(*, athlete: Athlete | None = None, now: datetime | None = None) -> QuerySet[Activity]:
    """The backfill's share of the warehouse's enrich backlog: not claimed by a worker, not resting
    after a failure (a 404 would otherwise cost a call on every run), and someone's token to use."""
    now = now or timezone.now()
    return activities_without_details(athlete=athlete).filter(
        Q(enrich_not_before__isnull=True) | Q(enrich_not_before__lte=now),
        Q(enrich_claimed_until__isnull=True) | Q(enrich_claimed_until__lte=now),
        athlete__in=fetchers(),
    )


def backfill_stats(*, athlete: Athlete | None = None) -> dict[str, Any]:
    """Done and remaining for activities and segments, the calls still needed and when they could be done.

    Segments inside activities not fetched yet are unknown until then, so the calls needed
    is a floor that grows as activities are fetched.
    """
    activities = Activity.objects.all()
    segments = Segment.objects.all()
    if athlete is not None:
        activities = activities.filter(athlete=athlete)
        segments = segments.filter(Exists(SegmentEffort.objects.filter(segment=OuterRef("pk"), athlete=athlete)))
    activities_total = activities.count()
    activities_done = activities.filter(efforts_stored_at__isnull=False).count()
    activities_to_fetch = activities_without_details(athlete=athlete).count()
    segments_total = segments.count()
    segments_detailed = segments.filter(details_fetched_at__isnull=False).count()
    segments_unavailable = segments.filter(details_fetched_at__isnull=True).exclude(details_unavailable="").count()
    segments_to_fetch = segments_without_details(athlete=athlete).count()
    calls = activities_to_fetch + segments_to_fetch
    return {
        "activities_total": activities_total,
        "activities_done": activities_done,
        "activities_remaining": activities_total - activities_done,
        "activities_to_fetch": activities_to_fetch,
        "activities_free": activities_total - activities_done - activities_to_fetch,
        "segments_total": segments_total,
        "segments_detailed": segments_detailed,
        "segments_unavailable": segments_unavailable,
        "segments_remaining": segments_to_fetch,
        "efforts": SegmentEffort.objects.filter(athlete=athlete).count() if athlete else SegmentEffort.objects.count(),
        "calls_needed": calls,
        "eta": quota.estimate_finish(calls, kind=Kind.READ, priority=Priority.BACKFILL),
    }


# --- what an athlete sees -------------------------------------------------------------------------
def efforts_for_activity(*, activity: Activity) -> QuerySet[SegmentEffort]:
    """The efforts of one activity in the order ridden (the warehouse's activity page lists them)."""
    return SegmentEffort.objects.filter(activity=activity).select_related("segment").order_by("start_date", "id")


def segments_for_athlete(*, athlete: Athlete, order: str = "rides") -> QuerySet[Segment]:
    """The segments an athlete has ridden, with their count, best time and last date."""
    mine = Q(efforts__athlete=athlete)
    segments = Segment.objects.filter(efforts__athlete=athlete).annotate(
        rides=Count("efforts", filter=mine),
        best=Min("efforts__elapsed_time", filter=mine),
        last=Max("efforts__start_date", filter=mine),
    )
    orders = {"rides": ("-rides", "name"), "recent": ("-last", "name"), "name": ("name", "id")}
    return segments.order_by(*orders.get(order, orders["rides"])).distinct()


def recent_prs(*, athlete: Athlete, limit: int = 20) -> QuerySet[SegmentEffort]:
    """The athlete's personal records as Strava ranked them at the time (pr_rank 1), newest first."""
    return (
        SegmentEffort.objects.filter(athlete=athlete, pr_rank=1)
        .select_related("segment", "activity")
        .order_by("-start_date", "-id")[:limit]
    )


def segment_for_athlete(*, athlete: Athlete, segment_id: int) -> Segment | None:
    """A segment the athlete has an effort on; anyone else's segment does not exist for them."""
    return Segment.objects.filter(pk=segment_id, efforts__athlete=athlete).distinct().first()


def efforts_on_segment(*, athlete: Athlete, segment: Segment) -> QuerySet[SegmentEffort]:
    return SegmentEffort.objects.filter(athlete=athlete, segment=segment).select_related("activity").order_by(
        "start_date", "id"
    )


# Strava's API numbers for a climb, as Strava's own pages name them.
CLIMB_CATEGORIES = {0: "not categorised", 1: "Cat 4", 2: "Cat 3", 3: "Cat 2", 4: "Cat 1", 5: "HC"}


def climb_category_words(category: int | None) -> str:
    return CLIMB_CATEGORIES.get(category or 0, f"category {category}")


def efforts_ranked(efforts: list[SegmentEffort]) -> dict[int, int]:
    """Each effort's place among the athlete's own on this segment today (1 = fastest; ties: earlier first).

    Strava's `pr_rank` is the place when the effort was ridden: three efforts can each have been #1
    in their day, so the badge is ranked here, over what the athlete has now.
    """
    ordered = sorted(efforts, key=lambda e: (e.elapsed_time, e.start_date, e.pk))
    return {effort.pk: place for place, effort in enumerate(ordered, start=1)}


def _nearest(points: list[tuple[float, float]], target: Any) -> int | None:
    if not points or not (isinstance(target, list | tuple) and len(target) == 2):
        return None
    lat, lng = float(target[0]), float(target[1])
    return min(range(len(points)), key=lambda i: (points[i][0] - lat) ** 2 + (points[i][1] - lng) ** 2)


def segment_route(*, segment: Segment, efforts: list[SegmentEffort]) -> list[tuple[float, float]]:
    """The segment's line: from its details' map when fetched, else the part of a ridden route between
    the points nearest its start and its end (free: no call), else nothing."""
    polyline = ((segment.details or {}).get("map") or {}).get("polyline")
    if polyline:
        return polyline_decode(polyline)
    for effort in efforts:
        detail = effort.activity.detail or {}
        route_line = (detail.get("map") or {}).get("polyline") or effort.activity.summary_polyline
        points = polyline_decode(route_line) if route_line else []
        start, end = _nearest(points, segment.start_latlng), _nearest(points, segment.end_latlng)
        if start is not None and end is not None and end > start:
            return points[start:end + 1]
    return []
