"""The operator's view of webhooks: subscription, event lag and deliveries, on /ops/sync/ and in /metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks.models import WebhookEvent, WebhookSubscription
from webhooks.services import webhook_event_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(alice):
    """Five events of the last day (lags 10, 30 and 50 s; one failed, one pending) and one of two days ago."""
    now = timezone.now().replace(microsecond=0)  # Strava's event_time is whole seconds

    def event(object_id: int, aspect: str, *, lag: float | None, age: float = 3600, object_type: str = "activity",
              result: str = "done", error: str = "", updates: dict | None = None) -> WebhookEvent:
        happened = now - timedelta(seconds=age)
        row = WebhookEvent.objects.create(
            object_type=object_type, object_id=object_id, aspect_type=aspect, owner_id=alice.strava_id,
            event_time=int(happened.timestamp()), athlete=alice, updates=updates or {},
            processed_at=None if lag is None else happened + timedelta(seconds=lag),
            result=result if lag is not None else "", error=error)
        WebhookEvent.objects.filter(pk=row.pk).update(received_at=happened)
        return row

    event(501, "create", lag=10)
    event(502, "create", lag=30)
    event(501, "update", lag=50, updates={"title": "Alice's secret hill repeats"})
    event(503, "create", lag=20, result="failed", error="StravaError: boom")
    event(504, "create", lag=None, error="ServerError: 503")
    event(400, "create", lag=5000, age=2 * 86400)  # older than the day: neither lag nor count
    # Strava delivers the first event a second time: recognised, not stored again.
    first = WebhookEvent.objects.get(object_id=501, aspect_type="create")
    assert webhook_event_receive(payload={
        "object_type": "activity", "object_id": 501, "aspect_type": "create", "owner_id": alice.strava_id,
        "event_time": first.event_time, "subscription_id": 77}) is False
    return now


def test_the_sync_page_shows_the_subscription_lag_and_deliveries(admin_client, events, settings):
    settings.STRAVA_WEBHOOK_VERIFY_TOKEN = "token"
    WebhookSubscription.objects.create(strava_id=77, callback_url="https://sync.example.org/strava/webhook/")
    page = admin_client.get("/ops/sync/").content.decode()
    assert 'data-live="1">live</strong>, id 77' in page
    assert "https://sync.example.org/strava/webhook/" in page
    assert "median 25 s, max 50 s over 4 events" in page  # 10, 20, 30, 50
    assert "Received: 5 events" in page
    assert '<span data-event-type="activity create">4 activity create</span>' in page
    assert '<span data-event-type="activity update">1 activity update</span>' in page
    assert "1 duplicate delivery recognised" in page
    assert "1 failed" in page and "1 pending (1 retrying after an error)" in page
    assert "secret hill repeats" not in page  # counts and ids only: never what an event says


def test_the_sync_page_says_when_no_subscription_is_live(admin_client, settings):
    settings.STRAVA_WEBHOOK_VERIFY_TOKEN = ""
    page = admin_client.get("/ops/sync/").content.decode()
    assert 'data-live="0">not live</strong>' in page
    assert "STRAVA_WEBHOOK_VERIFY_TOKEN is not set" in page
    assert "no event processed" in page and "Received: 0 events" in page


def test_metrics_give_the_webhook_lag_and_deliveries(client, events):
    WebhookSubscription.objects.create(strava_id=77, callback_url="https://sync.example.org/strava/webhook/")
    text = client.get("/metrics").content.decode()
    assert "stravasync_webhook_subscription_live 1.0" in text
    assert 'stravasync_webhook_lag_seconds{stat="median"} 25.0' in text
    assert 'stravasync_webhook_lag_seconds{stat="max"} 50.0' in text
    assert 'stravasync_webhook_events_received_24h{aspect_type="create",object_type="activity"} 4.0' in text
    assert "stravasync_webhook_duplicates_24h 1.0" in text
    assert "stravasync_webhook_events_failed_24h 1.0" in text
    assert "stravasync_webhook_events_pending 1.0" in text


def test_metrics_without_events_say_no_lag(client):
    text = client.get("/metrics").content.decode()
    assert "stravasync_webhook_subscription_live 0.0" in text
    assert 'stravasync_webhook_lag_seconds{stat="median"} -1.0' in text
