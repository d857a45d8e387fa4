"""Staff see states, counts, reasons and ids: never an athlete's tokens, activity names or routes."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import GarminActivity, GarminConnection


@admin.register(GarminConnection)
class GarminConnectionAdmin(admin.ModelAdmin):
    list_display = ("athlete_id", "status", "last_check_at", "next_check_at", "last_error")
    list_filter = ("status",)
    fields = ("athlete", "status", "connected_at", "last_check_at", "last_success_at", "next_check_at",
              "last_error", "refreshes")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(GarminActivity)
class GarminActivityAdmin(admin.ModelAdmin):
    list_display = ("garmin_id", "athlete_id", "state", "attempts", "reason")
    list_filter = ("state",)
    search_fields = ("=garmin_id",)
    fields = ("athlete", "garmin_id", "state", "attempts", "reason", "upload_batch", "strava_activity_id")
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
