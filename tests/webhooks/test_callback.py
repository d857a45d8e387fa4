"""The callback: handshake only for our verify token; events stored once, answered without a call."""

from __future__ import annotations

import json

import pytest

from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

URL = "/strava/webhook/"
EVENT = {"aspect_type": "create", "event_time": 1700000000, "object_id": 1234567890, "object_type": "activity",
         "owner_id": 42, "subscription_id": 7, "updates": {}}


@pytest.fixture(autouse=True)
def _verify_token(settings):
    settings.STRAVA_WEBHOOK_VERIFY_TOKEN = "our-token"


def test_the_handshake_echoes_the_challenge_for_our_verify_token(client):
    response = client.get(URL, {"hub.mode": "subscribe", "hub.challenge": "abc", "hub.verify_token": "our-token"})
    assert response.status_code == 200 and response.json() == {"hub.challenge": "abc"}


def test_a_wrong_verify_token_is_refused_with_403(client):
    response = client.get(URL, {"hub.mode": "subscribe", "hub.challenge": "abc", "hub.verify_token": "other"})
    assert response.status_code == 403 and "abc" not in response.content.decode()


def test_an_event_is_stored_and_a_second_delivery_of_it_is_recognised(client):
    first = client.post(URL, json.dumps(EVENT), content_type="application/json")
    second = client.post(URL, json.dumps(EVENT), content_type="application/json")
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["stored"], second.json()["stored"]) == (True, False)
    (event,) = WebhookEvent.objects.all()
    assert (event.object_type, event.object_id, event.owner_id, event.athlete_id) == ("activity", 1234567890, 42, None)


@pytest.mark.parametrize("body", [b"not json", b"[]", json.dumps({**EVENT, "object_type": "gear"}).encode(),
                                  json.dumps({**EVENT, "object_id": "x"}).encode(),
                                  json.dumps({**EVENT, "object_id": "²"}).encode(),
                                  json.dumps({**EVENT, "owner_id": 2**70}).encode()])
def test_garbage_is_answered_400_and_stores_nothing(client, body):
    assert client.post(URL, body, content_type="application/json").status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_body_above_the_limit_is_refused_unread(client, settings):
    settings.STRAVA_WEBHOOK_MAX_BODY_BYTES = 100
    body = json.dumps({**EVENT, "updates": {"title": "x" * 200}})
    assert client.post(URL, body, content_type="application/json").status_code == 413
