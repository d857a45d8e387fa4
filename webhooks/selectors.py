"""Reads for webhooks: our subscription, and the events as counts and lags (never what they say)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Sum

from .models import WebhookEvent, WebhookSubscription


def subscription_live() -> bool:
    """Whether our application holds a push subscription (as last seen at Strava)."""
    return WebhookSubscription.objects.exists()


def events_pending() -> int:
    return WebhookEvent.objects.filter(processed_at__isnull=True).count()


def subscription_current() -> WebhookSubscription | None:
    """Our subscription as last seen at Strava (Strava allows one per application)."""
    return WebhookSubscription.objects.order_by("-checked_at").first()


@dataclass
class EventLag:
    """Seconds from Strava's `event_time` to our processing, over the events processed since a moment."""

    processed: int = 0
    median: float | None = None
    max: float | None = None


def events_lag(*, since: datetime) -> EventLag:
    # Strava's event_time has one-second resolution and its clock is not ours: a lag below 0 is 0.
    rows = WebhookEvent.objects.filter(processed_at__gte=since).values_list("event_time", "processed_at")
    lags = [max(0.0, processed.timestamp() - event_time) for event_time, processed in rows if processed is not None]
    if not lags:
        return EventLag()
    return EventLag(processed=len(lags), median=statistics.median(lags), max=max(lags))


@dataclass
class Deliveries:
    """Events received since a moment, by type; duplicates recognised; processing failed or still pending."""

    received: int = 0
    by_type: dict[str, int] = field(default_factory=dict)  # "activity create" -> count
    duplicates: int = 0
    failed: int = 0
    pending: int = 0
    retrying: int = 0  # pending after a failed attempt (its detail call will be tried again)


def events_deliveries(*, since: datetime) -> Deliveries:
    received = WebhookEvent.objects.filter(received_at__gte=since)
    by_type = {
        f"{row['object_type']} {row['aspect_type']}": row["n"]
        for row in received.values("object_type", "aspect_type").annotate(n=Count("id")).order_by(
            "object_type", "aspect_type")
    }
    pending = WebhookEvent.objects.filter(processed_at__isnull=True)
    return Deliveries(
        received=sum(by_type.values()),
        by_type=by_type,
        # A duplicate is counted on its event's row, so one of an event received earlier than `since` is not.
        duplicates=received.aggregate(n=Sum("duplicates"))["n"] or 0,
        failed=WebhookEvent.objects.filter(processed_at__gte=since, result="failed").count(),
        pending=pending.count(),
        retrying=pending.exclude(error="").count(),
    )
