"""The simulator in the admin: read-mostly, except the switches in SimConfig."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from sandbox import services
from sandbox.models import (
    SimActivity,
    SimAthlete,
    SimConfig,
    SimPushSubscription,
    SimRateCounter,
    SimRequestLog,
    SimSegment,
    SimSegmentEffort,
    SimToken,
    SimUpload,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the simulator writes itself; the admin only looks (and may delete)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SimConfig)
class SimConfigAdmin(admin.ModelAdmin):
    list_display = ["__str__", "error_rate", "slow_rate", "slow_seconds", "drop_rate", "inactive", "fail_uploads", "webhooks_down"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SimConfig.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        SimConfig.load()  # the one row always exists to be edited
        return super().changelist_view(request, extra_context)


@admin.register(SimAthlete)
class SimAthleteAdmin(ReadOnlyAdmin):
    list_display = ["id", "firstname", "lastname", "username", "city", "timezone", "created_at"]
    search_fields = ["firstname", "lastname", "username", "=id"]
    list_filter = ["city"]


@admin.register(SimToken)
class SimTokenAdmin(ReadOnlyAdmin):
    list_display = ["id", "athlete", "client_id", "scope", "access_expires_at", "refreshed_at", "revoked_at"]
    list_select_related = ["athlete"]
    list_filter = ["client_id"]
    search_fields = ["=athlete__id"]
    exclude = ["access_token", "refresh_token"]


@admin.register(SimActivity)
class SimActivityAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "athlete", "sport_type", "start_date", "distance", "private", "upload_id"]
    list_select_related = ["athlete"]
    list_filter = ["sport_type", "private", "trainer", "commute"]
    search_fields = ["=id", "name", "=athlete__id", "external_id"]
    date_hierarchy = "start_date"
    actions = ["delete_as_owner"]

    @admin.action(description="Delete as the athlete would (uploads then read 'deleted', webhooks fire)")
    def delete_as_owner(self, request: HttpRequest, queryset: QuerySet[SimActivity]) -> None:
        deleted = sum(services.sim_activity_delete(activity_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{deleted} activities deleted.", messages.SUCCESS)


@admin.register(SimSegment)
class SimSegmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "activity_type", "city", "distance", "average_grade", "climb_category"]
    list_filter = ["activity_type", "city", "climb_category"]
    search_fields = ["=id", "name"]


@admin.register(SimSegmentEffort)
class SimSegmentEffortAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "athlete", "activity_id", "elapsed_time", "pr_rank", "kom_rank"]
    list_select_related = ["athlete"]
    search_fields = ["=activity__id", "=segment__id"]
    raw_id_fields = ["activity", "segment"]


@admin.register(SimUpload)
class SimUploadAdmin(ReadOnlyAdmin):
    list_display = ["id", "filename", "athlete", "state", "error", "activity_id", "created_at"]
    list_select_related = ["athlete"]
    list_filter = ["state", "data_type"]
    search_fields = ["=id", "filename", "external_id", "sha256"]
    exclude = ["data"]


@admin.register(SimPushSubscription)
class SimPushSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["id", "client_id", "callback_url", "created_at"]


@admin.register(SimRateCounter)
class SimRateCounterAdmin(ReadOnlyAdmin):
    list_display = ["client_id", "short_count", "daily_count", "read_short_count", "read_daily_count", "window_index"]


@admin.register(SimRequestLog)
class SimRequestLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "method", "path", "status", "athlete_id", "client_id", "duration_ms"]
    list_filter = ["status", "method"]
    search_fields = ["path", "=athlete_id"]
    date_hierarchy = "created_at"
