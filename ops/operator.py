"""Reads for the operator's sync page: quota per window, 429s, backlogs, failed runs, capacity, webhooks.

Athletes appear by id only, with states and counts: never their activities (Strava's agreement).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.models import Athlete
from stravasync.strava import quota
from stravasync.strava.models import Heartbeat
from uploads.models import Upload
from warehouse.charts import stacked_bars
from warehouse.models import SyncRun
from webhooks.selectors import events_deliveries, events_lag, subscription_current

from .selectors import UPLOADS_NEEDING_CALLS


def connected_athletes_count() -> int:
    return Athlete.objects.filter(disconnected_at__isnull=True, token__isnull=False).count()


def heartbeat_age(*, name: str = "dispatcher") -> float | None:
    """Seconds since the loop last ticked, or None if it never did."""
    beat = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    return None if beat is None else (timezone.now() - beat).total_seconds()


def quota_windows_24h() -> dict:
    """Calls per window over the last day (reads and writes), the current window included, and its 429s."""
    snapshot = quota.quota_snapshot()
    state = snapshot["state"]
    length = settings.QUOTA_WINDOW_SECONDS
    count = max(1, 86400 // length)
    first = state.window_index - count + 1
    kept = {w.window_index: w for w in quota.quota_windows(since_index=first)}
    labels, reads, writes, limited = [], [], [], 0
    for index in range(first, state.window_index + 1):
        row = kept.get(index)
        used, read = (state.used_short, state.read_used_short) if index == state.window_index else (
            (row.used, row.read_used) if row else (0, 0))
        limited += row.rate_limited if row else 0
        labels.append(f"{datetime.fromtimestamp(index * length, tz=UTC):%H:%M}")
        reads.append(float(read))
        writes.append(float(max(0, used - read)))
    chart: SafeString = stacked_bars(labels, [("reads", reads), ("writes", writes)], unit="calls",
                                     label_every=max(1, len(labels) // 12), chart_id="quota-chart")
    return {"chart": chart, "rate_limited_24h": limited, "peak": max((r + w for r, w in zip(reads, writes, strict=True)),
                                                                    default=0)}


def athletes_backlog() -> list[dict]:
    """Per athlete (ids only): connection state and how much of each stage is waiting."""
    rows = (
        Athlete.objects.order_by("pk")
        .annotate(
            uploads_waiting=Count("uploads", filter=Q(uploads__status__in=UPLOADS_NEEDING_CALLS), distinct=True),
            uploads_failed=Count("uploads", filter=Q(uploads__status=Upload.Status.FAILED), distinct=True),
            details_waiting=Count("activities", filter=Q(activities__detail_fetched_at__isnull=True), distinct=True),
            activities_stored=Count("activities", distinct=True),
        )
        .select_related("sync_state")
    )
    result = []
    for athlete in rows:
        sync = getattr(athlete, "sync_state", None)
        if athlete.disconnected_at is not None:
            state = "disconnected"
        elif athlete.needs_reconnect:
            state = "needs reconnect"
        else:
            state = "connected"
        result.append({
            "id": athlete.pk, "strava_id": athlete.strava_id, "state": state,
            "reason": athlete.reconnect_reason if athlete.needs_reconnect else "",
            "uploads_waiting": athlete.uploads_waiting, "uploads_failed": athlete.uploads_failed,
            "activities": athlete.activities_stored, "details_waiting": athlete.details_waiting,
            "history": "complete" if sync and sync.backfill_done else "fetching",
            "last_error": sync.last_error if sync else "",
        })
    return result


def webhooks_status() -> dict:
    """Our push subscription, and the last 24 h of events as counts and lags (never what they say)."""
    since = timezone.now() - timedelta(hours=24)
    return {
        "subscription": subscription_current(),
        "verify_token_set": bool(settings.STRAVA_WEBHOOK_VERIFY_TOKEN),
        "lag": events_lag(since=since),
        "deliveries": events_deliveries(since=since),
    }


def operator_status() -> dict:
    """Everything the operator's sync page shows."""
    status = quota.quota_status()
    return {
        "quota": status,
        "windows": quota_windows_24h(),
        "backlog": status["backlog"],
        "athletes": athletes_backlog(),
        "failed_runs": list(SyncRun.objects.exclude(error="").only(
            "pk", "kind", "athlete_id", "trigger", "started_at", "error")[:25]),
        "capacity": {"used": connected_athletes_count(), "limit": settings.STRAVA_ATHLETE_CAPACITY},
        "inactive_message": quota.subscription_inactive_message(),
        "heartbeat_age": heartbeat_age(),
        "webhooks": webhooks_status(),
    }
