"""Strava's rules of 2026–2027: the athlete capacity, every Strava URL from settings, tokens in headers only, oauth/revoke."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS = ["accounts", "activityfiles", "garmin", "segments", "stravasync", "uploads", "warehouse", "templates"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_athlete_refused_for_capacity_at_login_gets_a_page_with_the_limit_and_who_can_raise_it(
    client, strava_sim, sim_connected_athlete, settings
):
    from accounts.models import Athlete
    from sandbox import services as sim

    settings.SANDBOX_MAX_ATHLETES = 1
    settings.STRAVA_ATHLETE_CAPACITY = 1
    begin = client.post("/login/strava/")
    state = parse_qs(urlsplit(begin["Location"]).query)["state"][0]
    late = sim.sim_athlete_create(firstname="Late", lastname="Rider")
    code = sim.auth_code_issue(athlete=late, client_id=settings.STRAVA_CLIENT_ID, scopes=["read"])
    sim_connected_athlete(firstname="First")  # fills the capacity while the late athlete consents

    page = client.get("/complete/strava/", {"state": state, "code": code.code, "scope": "read"})

    assert page.status_code == 403
    text = page.content.decode()
    assert 'id="athlete-limit"' in text and 'id="athlete-capacity">1<' in text
    assert "The operator of this stravasync" in text and "Extended Access" in text
    assert "Limit of connected athletes exceeded" in text  # Strava's own words, too
    assert not Athlete.objects.filter(strava_id=late.pk).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["deauthorize", "revoke"])
def test_disconnecting_revokes_at_the_oauth_path_the_setting_names(sim_connected_athlete, settings, path):
    from accounts.services import athlete_disconnect
    from sandbox.models import SimRequestLog, SimToken

    settings.STRAVA_DEAUTHORIZE_PATH = path
    athlete = sim_connected_athlete()

    athlete_disconnect(athlete=athlete, delete_data=False)

    assert list(SimRequestLog.objects.filter(path__startswith="/oauth/").order_by("id").values_list("path", flat=True)) == [
        "/oauth/token", f"/oauth/{path}"]
    assert not SimToken.objects.filter(athlete_id=athlete.strava_id, revoked_at__isnull=True).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_tokens_travel_only_in_headers_never_in_a_url(sim_connected_athlete, settings):
    from accounts.models import StravaToken
    from accounts.services import athlete_disconnect
    from sandbox.models import SimRequestLog
    from warehouse.services import activities_pull

    athlete = sim_connected_athlete()
    token = StravaToken.objects.get(athlete=athlete)
    secrets = [token.access_token, token.refresh_token]
    activities_pull(athlete_id=athlete.pk)
    athlete_disconnect(athlete=athlete, delete_data=False)

    queries = list(SimRequestLog.objects.values_list("query", flat=True))
    assert len(queries) >= 3
    assert not [q for q in queries if "token" in q or any(secret in q for secret in secrets)]


def test_no_app_code_names_a_strava_url_outside_settings():
    pattern = re.compile(r"https?://[\w.-]*strava\.com")
    found = []
    for folder in APP_DIRS:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".html") or path.name == "settings.py":
                continue
            found += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                      if pattern.search(line)]
    assert found == []
