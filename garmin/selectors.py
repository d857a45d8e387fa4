"""Reads for the Garmin pages and the dashboard: the athlete's own connection and activities only."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When

from accounts.models import Athlete

from .models import GarminActivity, GarminConnection
from .pacing import pacer_backoff_until


def garmin_status(*, athlete: Athlete) -> dict[str, Any]:
    """What the dashboard shows: connected / needs sign-in, last check, last error, backlog, failed."""
    connection = GarminConnection.objects.filter(athlete=athlete).first()
    if connection is None:
        return {"connected": False, "state": "not connected"}
    counts = dict.fromkeys(GarminActivity.State.values, 0)
    rows = GarminActivity.objects.filter(athlete=athlete).values("state").annotate(n=Count("id")).order_by()
    counts.update({row["state"]: row["n"] for row in rows})
    return {
        "connected": True,
        "needs_signin": connection.status == GarminConnection.Status.NEEDS_SIGNIN,
        "state": connection.get_status_display(),
        "last_check_at": connection.last_check_at,
        "last_success_at": connection.last_success_at,
        "next_check_at": connection.next_check_at,
        "last_error": connection.last_error,
        "backfill_since": connection.backfill_since,
        "running": connection.lease_until is not None,
        "backlog": counts[GarminActivity.State.NEW],
        "failed": counts[GarminActivity.State.FAILED],
        "counts": counts,
        "backoff_until": pacer_backoff_until(),
    }


def garmin_activities(*, athlete: Athlete, limit: int = 100) -> QuerySet[GarminActivity]:
    """The athlete's Garmin activities, failed ones first, then newest."""
    failed_first = Case(When(state=GarminActivity.State.FAILED, then=Value(0)), default=Value(1),
                        output_field=IntegerField())
    return GarminActivity.objects.filter(athlete=athlete).order_by(failed_first, "-start_time", "-id")[:limit]
