from __future__ import annotations

from django.contrib import admin

from .models import WebhookEvent, WebhookSubscription


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    # Ids, kinds and states only: no athlete's activity data (Strava's agreement).
    list_display = ("id", "object_type", "aspect_type", "object_id", "owner_id", "received_at", "processed_at", "result")
    list_filter = ("object_type", "aspect_type")
    exclude = ("payload", "updates")
    readonly_fields = ("object_type", "object_id", "aspect_type", "owner_id", "event_time", "subscription_id", "athlete",
                       "processed_at", "result", "error", "attempts", "next_attempt_at", "claimed_until")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("strava_id", "callback_url", "created_at", "checked_at")
