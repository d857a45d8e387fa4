from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from .models import Segment, SegmentEffort


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "strava_id", "activity_type", "distance_km", "average_grade", "city", "rides",
                    "details_state", "details_fetched_at")
    list_filter = ("activity_type", "climb_category", "hazardous", ("details_fetched_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "=strava_id", "city", "country")
    # Not "details": Strava's segment payload carries the fetching athlete's own PR and effort counts.
    exclude = ("details",)
    readonly_fields = ("strava_id", "details_fetched_at", "details_requested_at", "details_claim",
                       "details_claimed_until", "details_unavailable", "created_at", "updated_at", "strava_link")
    actions = ["request_refresh"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Segment]:
        return super().get_queryset(request).annotate(rides=Count("efforts"))

    @admin.display(description="efforts here", ordering="rides")
    def rides(self, obj: Segment) -> int:
        return getattr(obj, "rides", 0)

    @admin.display(description="km", ordering="distance")
    def distance_km(self, obj: Segment) -> str:
        return f"{obj.distance / 1000:.2f}"

    @admin.display(description="details")
    def details_state(self, obj: Segment) -> str:
        if obj.details_requested_at:
            return "refresh requested"
        if obj.details_unavailable:
            return f"unavailable: {obj.details_unavailable}"
        return "fetched" if obj.details_fetched_at else "waiting"

    @admin.display(description="on Strava")
    def strava_link(self, obj: Segment) -> str:
        return format_html('<a href="{}">{}</a>', obj.strava_url, obj.strava_url)

    @admin.action(description="Fetch the details of the selected segments again (one call each)")
    def request_refresh(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        # The dispatcher serves requested refreshes first, at interactive priority.
        count = queryset.update(details_requested_at=timezone.now(), details_unavailable="")
        messages.info(request, f"{count} segment(s) will be fetched again.")


@admin.register(SegmentEffort)
class SegmentEffortAdmin(admin.ModelAdmin):
    # Ids and states only: an effort's times and ranks are its athlete's Strava data (Strava's agreement).
    list_display = ("strava_id", "segment_id", "activity_id", "athlete_id", "hidden")
    list_filter = ("hidden",)
    search_fields = ("=strava_id", "=segment__strava_id")
    fields = readonly_fields = ("strava_id", "segment_id", "activity_id", "athlete_id", "hidden")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
