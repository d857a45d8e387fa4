from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.utils import timezone

from sandbox import services, webhooks
from sandbox.models import SimAthlete, SimAuthCode, SimPushSubscription, SimToken

from .conftest import API, OAUTH, bearer, grant

pytestmark = pytest.mark.django_db

AUTHORIZE = {
    "client_id": "sandbox",
    "redirect_uri": "http://app.test/complete/strava/?next=/dashboard",
    "response_type": "code",
    "approval_prompt": "auto",
    "scope": "read,activity:read_all,activity:write",
    "state": "xyz",
}


def consent(client, **form):
    """Submit the consent form; `scope` in `form` is the list of ticked boxes."""
    data = {key: value for key, value in AUTHORIZE.items() if key != "scope"}
    return client.post(f"{OAUTH}/authorize", {**data, "requested_scope": AUTHORIZE["scope"], **form})


def query(response) -> dict[str, str]:
    parts = urlsplit(response["Location"])
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def exchange(client, code: str, **extra):
    form = {"client_id": "sandbox", "client_secret": "sandbox-secret", "grant_type": "authorization_code", "code": code}
    return client.post(f"{OAUTH}/token", {**form, **extra})


def refresh(client, refresh_token: str):
    form = {"client_id": "sandbox", "client_secret": "sandbox-secret", "grant_type": "refresh_token"}
    return client.post(f"{OAUTH}/token", {**form, "refresh_token": refresh_token})


def test_the_consent_page_lists_athletes_and_pre_ticks_every_requested_scope(client, alice):
    response = client.get(f"{OAUTH}/authorize", AUTHORIZE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Strava simulator" in html or "simulator" in html
    assert 'name="athlete"' in html and f'value="{alice.pk}"' in html and 'value="new"' in html
    assert 'name="firstname"' in html and 'name="lastname"' in html
    for scope in AUTHORIZE["scope"].split(","):
        assert f'name="scope" value="{scope}"' in html
    assert html.count("checked>") == 3
    assert 'name="authorize"' in html and 'name="cancel"' in html


def test_authorizing_a_new_athlete_redirects_with_state_code_and_the_accepted_scopes(client):
    response = consent(client, athlete="new", firstname="Carla", lastname="Climb", scope=["read", "activity:write"], authorize="1")

    assert response.status_code == 302
    assert response["Location"].startswith("http://app.test/complete/strava/?next=/dashboard&")
    params = query(response)
    assert params["state"] == "xyz"
    assert params["scope"] == "read,activity:write"
    assert "scope=read,activity:write" in response["Location"]
    athlete = SimAthlete.objects.get(firstname="Carla", lastname="Climb")
    assert SimAuthCode.objects.get(code=params["code"]).athlete == athlete


def test_cancel_sends_access_denied_back(client, alice):
    response = consent(client, athlete=str(alice.pk), cancel="1")

    assert response.status_code == 302
    assert query(response) == {"next": "/dashboard", "state": "xyz", "error": "access_denied"}


def test_a_wrong_client_id_or_response_type_is_refused(client):
    wrong_client = client.get(f"{OAUTH}/authorize", {**AUTHORIZE, "client_id": "other"})
    wrong_type = client.get(f"{OAUTH}/authorize", {**AUTHORIZE, "response_type": "token"})

    assert wrong_client.status_code == 400
    assert wrong_client.json()["errors"][0] == {"resource": "Application", "field": "client_id", "code": "invalid"}
    assert wrong_type.status_code == 400


def test_past_the_athlete_limit_a_new_athlete_gets_strava_s_403_page(client, settings, alice, bob):
    settings.SANDBOX_MAX_ATHLETES = 1
    grant(alice)

    refused = consent(client, athlete=str(bob.pk), scope=["read"], authorize="1")
    returning = consent(client, athlete=str(alice.pk), scope=["read"], authorize="1")

    assert refused.status_code == 403
    assert "Limit of connected athletes exceeded" in refused.content.decode()
    assert returning.status_code == 302


def test_a_code_given_before_the_athlete_limit_filled_is_refused_at_the_exchange_with_strava_s_403(
    client, settings, alice, bob
):
    settings.SANDBOX_MAX_ATHLETES = 1
    bobs_code = services.auth_code_issue(athlete=bob, client_id="sandbox", scopes=["read"])
    grant(alice)  # alice connects meanwhile and fills the capacity

    refused = exchange(client, bobs_code.code)

    assert refused.status_code == 403
    assert refused.json() == {"message": "Limit of connected athletes exceeded",
                              "errors": [{"resource": "Athlete", "field": "", "code": "limit exceeded"}]}


def test_a_code_exchange_answers_tokens_and_the_athlete(client, alice):
    code = services.auth_code_issue(athlete=alice, client_id="sandbox", scopes=["read", "activity:write"])

    body = exchange(client, code.code).json()

    assert body["token_type"] == "Bearer"
    assert set(body) == {"token_type", "access_token", "expires_at", "expires_in", "refresh_token", "athlete"}
    assert 6 * 3600 - 5 <= body["expires_in"] <= 6 * 3600
    assert body["athlete"]["id"] == alice.pk and body["athlete"]["firstname"] == "Alice"
    assert SimToken.objects.get(access_token=body["access_token"]).scope == "read,activity:write"


def test_a_code_works_once(client, alice):
    code = services.auth_code_issue(athlete=alice, client_id="sandbox", scopes=["read"])
    exchange(client, code.code)

    again = exchange(client, code.code)

    assert again.status_code == 400
    assert again.json()["errors"] == [{"resource": "AuthorizationCode", "field": "code", "code": "invalid"}]


def test_a_code_expires_after_ten_minutes(client, alice):
    code = services.auth_code_issue(athlete=alice, client_id="sandbox", scopes=["read"])
    SimAuthCode.objects.filter(pk=code.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert exchange(client, code.code).status_code == 400


def test_a_wrong_client_secret_is_a_401_naming_client_secret(client, alice):
    code = services.auth_code_issue(athlete=alice, client_id="sandbox", scopes=["read"])

    response = exchange(client, code.code, client_secret="nope")

    assert response.status_code == 401
    assert response.json()["errors"] == [{"resource": "Application", "field": "client_secret", "code": "invalid"}]


def test_refreshing_rotates_the_refresh_token_and_the_old_one_dies(client, alice_token):
    first = refresh(client, alice_token.refresh_token)
    body = first.json()

    assert first.status_code == 200
    assert "athlete" not in body
    assert body["refresh_token"] != alice_token.refresh_token
    assert body["access_token"] != alice_token.access_token
    dead = refresh(client, alice_token.refresh_token)
    assert dead.status_code == 400
    assert dead.json() == {
        "message": "Bad Request",
        "errors": [{"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}],
    }
    assert refresh(client, body["refresh_token"]).status_code == 200


def test_the_refreshed_token_keeps_the_granted_scopes(client, alice):
    token = grant(alice, "read,activity:read")
    body = refresh(client, token.refresh_token).json()

    assert SimToken.objects.get(access_token=body["access_token"]).scope == "read,activity:read"


def test_access_tokens_expire_after_the_configured_lifetime(client, settings, alice):
    settings.SANDBOX_TOKEN_LIFETIME = 60
    token = grant(alice)
    assert client.get(f"{API}/athlete", **bearer(token)).status_code == 200

    SimToken.objects.filter(pk=token.pk).update(access_expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(f"{API}/athlete", **bearer(token))
    assert response.status_code == 401
    assert response.json() == {
        "message": "Authorization Error",
        "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}],
    }


def test_deauthorize_revokes_every_token_of_the_athlete(client, alice):
    first, second = grant(alice), grant(alice)

    response = client.post(f"{OAUTH}/deauthorize", **bearer(first))

    assert response.status_code == 200
    assert client.get(f"{API}/athlete", **bearer(second)).status_code == 401
    assert refresh(client, second.refresh_token).status_code == 400


def test_oauth_revoke_answers_as_deauthorize_does(client, alice):
    first, second = grant(alice), grant(alice)

    response = client.post(f"{OAUTH}/revoke", **bearer(first))

    assert response.status_code == 200
    assert client.get(f"{API}/athlete", **bearer(second)).status_code == 401


def test_deauthorize_accepts_the_token_as_a_form_field(client, alice_token):
    response = client.post(f"{OAUTH}/deauthorize", {"access_token": alice_token.access_token})

    assert response.status_code == 200
    assert client.get(f"{API}/athlete", **bearer(alice_token)).status_code == 401


@responses.activate
def test_deauthorize_posts_an_athlete_event_to_the_subscription(client, alice_token, django_capture_on_commit_callbacks):
    SimPushSubscription.objects.create(client_id="sandbox", callback_url="http://app.test/hook", verify_token="t")
    hook = responses.post("http://app.test/hook", json={})

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{OAUTH}/deauthorize", **bearer(alice_token))
    webhooks.deliveries_wait()

    assert hook.call_count == 1
    event = json.loads(hook.calls[0].request.body)
    assert event["aspect_type"] == "update" and event["object_type"] == "athlete"
    assert event["updates"] == {"authorized": "false"}
    assert event["object_id"] == event["owner_id"] == alice_token.athlete_id
