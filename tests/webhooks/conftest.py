"""Shared by the webhook tests: a live subscription at the simulator, and the Strava calls it counted."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.fixture
def subscribed(strava_sim, settings):
    """Our push subscription at the simulator, made by the command an operator runs (handshake included)."""
    settings.STRAVA_WEBHOOK_VERIFY_TOKEN = "our-token"
    settings.SANDBOX_UPLOAD_DELAY = 0
    call_command("strava_webhook", "subscribe")
    from webhooks.selectors import subscription_live

    assert subscription_live()


def strava_calls(strava_id: int, *, method: str = "GET", since: int = 0) -> list[tuple[str, str]]:
    """The athlete's api/v3 requests of `method` the simulator answered after request-log row `since`: (path, query)."""
    from sandbox.models import SimRequestLog

    rows = SimRequestLog.objects.filter(athlete_id=strava_id, method=method, path__startswith="/api/v3/", pk__gt=since)
    return list(rows.order_by("pk").values_list("path", "query"))


def request_log_mark() -> int:
    """The newest request-log row: calls counted `since` it are the ones made afterwards."""
    from sandbox.models import SimRequestLog

    return SimRequestLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
