"""Segment pages. Everything goes through the signed-in athlete: a segment they never rode is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Athlete
from accounts.selectors import athlete_of_request
from warehouse.routes import route_drawing

from . import charts, selectors, services
from .models import Segment


def _segment(athlete: Athlete, pk: int) -> Segment:
    segment = selectors.segment_for_athlete(athlete=athlete, segment_id=pk)
    if segment is None:
        raise Http404("No such segment among yours")
    return segment


@login_required
def segment_list(request: HttpRequest) -> HttpResponse:
    athlete = athlete_of_request(request)
    order = request.GET.get("order") or "rides"
    page = Paginator(selectors.segments_for_athlete(athlete=athlete, order=order), 50).get_page(request.GET.get("page"))
    context = {"page": page, "order": order, "prs": selectors.recent_prs(athlete=athlete)}
    return render(request, "segments/list.html", context)


@login_required
def segment_page(request: HttpRequest, pk: int) -> HttpResponse:
    athlete = athlete_of_request(request)
    segment = _segment(athlete, pk)
    efforts = list(selectors.efforts_on_segment(athlete=athlete, segment=segment))
    ranks = selectors.efforts_ranked(efforts)
    context = {
        "segment": segment,
        "efforts": efforts,
        "rows": [(effort, ranks[effort.pk]) for effort in reversed(efforts)],  # newest first
        # The "#1" badge and "your best" are the same effort by construction.
        "best": next((e for e in efforts if ranks[e.pk] == 1), None),
        "chart": charts.efforts_chart(efforts),
        "climb_category": selectors.climb_category_words(segment.climb_category),
        "route": route_drawing(selectors.segment_route(segment=segment, efforts=efforts)),
    }
    return render(request, "segments/detail.html", context)


@login_required
@require_POST
def segment_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    athlete = athlete_of_request(request)
    segment = _segment(athlete, pk)
    services.segment_refresh_request(segment=segment, athlete=athlete)
    segment.refresh_from_db()
    if segment.details_unavailable:
        messages.error(request, f"Strava does not show this segment: {segment.details_unavailable}")
    elif segment.details_requested_at is None and segment.details_fetched_at:
        messages.success(request, "Segment details refreshed from Strava.")
    else:
        messages.info(request, "Refresh requested: the details will be fetched as soon as the Strava quota allows.")
    return redirect("segments:detail", pk=segment.pk)
