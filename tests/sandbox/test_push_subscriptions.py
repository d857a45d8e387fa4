from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from sandbox.models import SimPushSubscription

from .conftest import API

pytestmark = pytest.mark.django_db

CALLBACK = "http://app.test/strava/webhook/"
CREDENTIALS = {"client_id": "sandbox", "client_secret": "sandbox-secret"}


def echo_challenge(request):
    params = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
    if params.get("hub.verify_token") != "our-token":
        return 403, {}, "{}"
    return 200, {"Content-Type": "application/json"}, json.dumps({"hub.challenge": params["hub.challenge"]})


def subscribe(client, verify_token: str = "our-token"):
    form = {**CREDENTIALS, "callback_url": CALLBACK, "verify_token": verify_token}
    return client.post(f"{API}/push_subscriptions", form)


@responses.activate
def test_subscribing_performs_the_handshake_and_answers_the_id(client):
    responses.add_callback(responses.GET, CALLBACK, callback=echo_challenge)

    response = subscribe(client)

    assert response.status_code == 201
    assert response.json() == {"id": SimPushSubscription.objects.get().pk}
    sent = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert sent["hub.mode"] == ["subscribe"] and sent["hub.verify_token"] == ["our-token"]


@responses.activate
def test_a_callback_that_fails_the_handshake_is_not_subscribed(client):
    responses.add_callback(responses.GET, CALLBACK, callback=echo_challenge)

    response = subscribe(client, verify_token="someone-else")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"resource": "PushSubscription", "field": "callback url", "code": "not verifiable"}]
    assert not SimPushSubscription.objects.exists()


@responses.activate
def test_an_application_has_one_subscription_at_most(client):
    responses.add_callback(responses.GET, CALLBACK, callback=echo_challenge)
    subscribe(client)

    again = subscribe(client)

    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "already exists"


@responses.activate
def test_subscriptions_are_listed_and_deleted_with_the_application_credentials(client):
    responses.add_callback(responses.GET, CALLBACK, callback=echo_challenge)
    subscription_id = subscribe(client).json()["id"]

    listed = client.get(f"{API}/push_subscriptions", CREDENTIALS).json()
    deleted = client.delete(f"{API}/push_subscriptions/{subscription_id}?client_id=sandbox&client_secret=sandbox-secret")

    assert [(s["id"], s["callback_url"], s["resource_state"]) for s in listed] == [(subscription_id, CALLBACK, 2)]
    assert deleted.status_code == 204
    assert client.get(f"{API}/push_subscriptions", CREDENTIALS).json() == []


def test_a_wrong_client_secret_is_refused(client):
    response = client.get(f"{API}/push_subscriptions", {"client_id": "sandbox", "client_secret": "nope"})

    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "client_secret"


def test_a_callback_url_or_verify_token_too_long_to_keep_is_a_bad_request(client):
    long_url = client.post(f"{API}/push_subscriptions", {**CREDENTIALS, "callback_url": CALLBACK + "x" * 500, "verify_token": "t"})
    long_token = client.post(f"{API}/push_subscriptions", {**CREDENTIALS, "callback_url": CALLBACK, "verify_token": "t" * 256})

    assert long_url.status_code == 400
    assert long_url.json()["errors"] == [{"resource": "PushSubscription", "field": "callback_url", "code": "invalid"}]
    assert long_token.json()["errors"][0]["field"] == "verify_token"
    assert not SimPushSubscription.objects.exists()
