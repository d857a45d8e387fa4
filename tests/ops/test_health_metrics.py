from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stravasync.strava import quota
from stravasync.strava.dispatch import dispatch_tick
from stravasync.strava.models import Heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_healthy_after_a_dispatcher_tick(client, settings):
    settings.DISPATCH_STEPS = []
    dispatch_tick()
    response = client.get("/healthz?format=json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["quota_state"].startswith("open")
    assert set(body.values()) - {body["quota_state"]} == {"OK"}


def test_healthz_fails_when_the_dispatcher_heartbeat_is_stale(client, settings):
    settings.HEALTH_DISPATCHER_STALE_SECONDS = 60
    Heartbeat.objects.create(name="dispatcher", beat_at=timezone.now() - timedelta(seconds=300))
    response = client.get("/healthz?format=json")
    assert response.status_code == 500
    assert any("last ticked 300 s ago" in value for value in response.json().values())


def test_healthz_reports_an_inactive_subscription_without_failing(client, settings):
    settings.DISPATCH_STEPS = []
    dispatch_tick()
    quota.mark_inactive("Inactive")
    response = client.get("/healthz?format=json")
    assert response.status_code == 200 and response.json()["quota_state"] == "inactive"


def test_metrics_give_calls_quota_and_backlogs(client, alice, add_activity):
    from stravasync.strava.metrics import call_count

    add_activity(alice, strava_id=501)
    call_count(method="GET", path="activities/123", status=200)
    call_count(method="GET", path="athlete/activities", status=429)
    text = client.get("/metrics").content.decode()
    assert 'stravasync_strava_calls_total{endpoint="/activities/{id}",method="GET",status="200"}' in text
    assert "stravasync_strava_rate_limited_total" in text
    assert 'stravasync_quota_used{kind="read",period="window"}' in text
    assert 'stravasync_backlog_calls{backlog="enrich"} 1.0' in text
    assert "stravasync_athletes_capacity 10.0" in text


def test_metrics_are_refused_to_strangers_without_the_token(client, settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
