"""Tokens: encrypted at rest, refreshed once under a lock, a dead refresh token asks to reconnect."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.utils import timezone

from accounts.models import StravaToken
from accounts.services import athlete_access_token
from stravasync.logfilters import redact
from stravasync.strava.errors import ReconnectNeeded

pytestmark = pytest.mark.django_db

OAUTH = "https://strava.test/oauth"


@pytest.fixture(autouse=True)
def _oauth(settings):
    settings.STRAVA_OAUTH_URL = OAUTH


def test_tokens_are_not_stored_in_plain_text(make_athlete):
    athlete = make_athlete(access_token="plain-access-abc", refresh_token="plain-refresh-xyz")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM accounts_stravatoken WHERE athlete_id = %s", [athlete.pk]
        )
        raw_access, raw_refresh = cursor.fetchone()
    assert "plain-access-abc" not in raw_access
    assert "plain-refresh-xyz" not in raw_refresh
    assert raw_access.startswith("gAAAA")  # a Fernet token
    assert StravaToken.objects.get(athlete=athlete).access_token == "plain-access-abc"


def test_a_fresh_token_is_handed_out_without_any_call(make_athlete):
    athlete = make_athlete(access_token="fresh", expires_in=3600)
    with responses.RequestsMock():  # any HTTP call would fail the test
        assert athlete_access_token(athlete_id=athlete.pk) == "fresh"


@responses.activate
def test_a_token_expiring_within_five_minutes_is_refreshed_and_the_new_refresh_token_saved(make_athlete):
    athlete = make_athlete(access_token="old", refresh_token="r1", expires_in=200)
    expires = int((timezone.now() + timedelta(hours=6)).timestamp())
    responses.post(f"{OAUTH}/token", json={
        "token_type": "Bearer", "access_token": "new", "refresh_token": "r2", "expires_at": expires, "expires_in": 21600})
    assert athlete_access_token(athlete_id=athlete.pk) == "new"
    token = StravaToken.objects.get(athlete=athlete)
    assert token.refresh_token == "r2"
    assert int(token.expires_at.timestamp()) == expires
    assert "refresh_token=r1" in responses.calls[0].request.body
    assert "grant_type=refresh_token" in responses.calls[0].request.body


@responses.activate
def test_a_dead_refresh_token_marks_the_athlete_for_reconnection(make_athlete):
    athlete = make_athlete(expires_in=-10)
    responses.post(f"{OAUTH}/token", status=400, json={
        "message": "Bad Request",
        "errors": [{"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}]})
    with pytest.raises(ReconnectNeeded):
        athlete_access_token(athlete_id=athlete.pk)
    athlete.refresh_from_db()
    assert athlete.needs_reconnect is True


def test_the_dashboard_asks_to_reconnect_when_needed(client, make_athlete):
    athlete = make_athlete()
    athlete.needs_reconnect = True
    athlete.reconnect_reason = "Strava no longer accepts our refresh token."
    athlete.save()
    client.force_login(athlete.user)
    response = client.get("/dashboard/")
    assert b'id="needs-reconnect"' in response.content


def test_log_records_never_carry_tokens(caplog):
    text = redact("POST /oauth/token refresh_token=abc123&client_secret=s3cr3t Authorization: Bearer tok.en-1")
    assert "abc123" not in text and "s3cr3t" not in text and "tok.en-1" not in text
    from stravasync.logfilters import RedactSecrets

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", ("access_token=zzz",), None)
    RedactSecrets().filter(record)
    assert "zzz" not in record.getMessage()


def test_the_token_repr_hides_the_secrets(make_athlete):
    athlete = make_athlete(access_token="hide-me", refresh_token="hide-me-too")
    token = StravaToken.objects.get(athlete=athlete)
    assert "hide-me" not in repr(token) and "hide-me" not in str(token)


def test_the_athlete_admin_shows_no_secrets(admin_client, make_athlete):
    athlete = make_athlete(access_token="admin-secret-a", refresh_token="admin-secret-r")
    for url in ("/admin/accounts/athlete/", f"/admin/accounts/athlete/{athlete.pk}/change/"):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert b"admin-secret" not in page.content
