from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_home_page_offers_to_connect_with_strava(client):
    response = client.get("/")
    assert b"Connect with Strava" in response.content
    assert b'action="/login/strava/"' in response.content


def test_the_dashboard_needs_a_login(client):
    assert client.get("/dashboard/").status_code == 302


def test_the_dashboard_shows_the_athlete_and_scopes(client, alice):
    client.force_login(alice.user)
    page = client.get("/dashboard/").content.decode()
    assert "Alice Tester" in page and "activity:write" in page
    assert 'id="missing-features"' not in page


def test_a_missing_write_scope_says_uploads_are_off(client, make_athlete):
    athlete = make_athlete(scopes="read,activity:read_all")
    client.force_login(athlete.user)
    page = client.get("/dashboard/").content.decode()
    assert 'data-feature="uploads"' in page and "Uploads are off" in page


def test_logout_is_a_post(client, alice):
    client.force_login(alice.user)
    assert client.get("/logout/").status_code == 405
    client.post("/logout/")
    assert client.get("/dashboard/").status_code == 302
