"""Reads for webhooks."""

from __future__ import annotations

from .models import WebhookEvent, WebhookSubscription


def subscription_live() -> bool:
    """Whether our application holds a push subscription (as last seen at Strava)."""
    return WebhookSubscription.objects.exists()


def events_pending() -> int:
    return WebhookEvent.objects.filter(processed_at__isnull=True).count()
