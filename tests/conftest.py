"""Shared fixtures: athletes with tokens, the simulator over real HTTP, the browser."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from it are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def off_disk_storage(settings, tmp_path):
    """Stored files in memory, not under MEDIA_ROOT: as a bucket, no path on this machine reaches them.

    Temporary spools go to their own folder, so a test can see that they are cleaned up.
    """
    from django.core.files.storage import default_storage

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    assert default_storage.__class__.__name__ == "InMemoryStorage"
    return default_storage


@pytest.fixture
def make_athlete(db):
    """Build a user + athlete + token (no HTTP): `make_athlete(strava_id=..., scopes=...)`."""
    from accounts.models import Athlete, StravaToken

    def make(
        *,
        strava_id: int = 1001,
        firstname: str = "Alice",
        scopes: str = "read,activity:read_all,activity:write",
        access_token: str = "access-token",
        refresh_token: str = "refresh-token",
        expires_in: int = 3600,
    ) -> Athlete:
        user = get_user_model().objects.create_user(username=f"strava-{strava_id}")
        athlete = Athlete.objects.create(
            user=user, strava_id=strava_id, firstname=firstname, lastname="Tester", scopes=scopes,
            connected_at=timezone.now(),
        )
        StravaToken.objects.create(
            athlete=athlete, access_token=access_token, refresh_token=refresh_token,
            expires_at=timezone.now() + timedelta(seconds=expires_in), scopes=scopes,
        )
        return athlete

    return make


@pytest.fixture
def alice(make_athlete):
    return make_athlete(strava_id=1001, firstname="Alice")


@pytest.fixture
def bob(make_athlete):
    return make_athlete(strava_id=1002, firstname="Bob")


@pytest.fixture
def strava_sim(live_server, settings):
    """Point the Strava client at the simulator served by the live test server."""
    settings.STRAVA_API_URL = f"{live_server.url}/sandbox/strava/api/v3"
    settings.STRAVA_OAUTH_URL = f"{live_server.url}/sandbox/strava/oauth"
    settings.SITE_URL = live_server.url
    return live_server


@pytest.fixture
def sim_connected_athlete(strava_sim, transactional_db):
    """A simulated athlete connected to our app through the real OAuth endpoints, over HTTP."""
    from django.contrib.auth import get_user_model

    from accounts.services import athlete_connect
    from sandbox import services as sim
    from stravasync.strava import oauth as strava

    def connect(*, firstname: str = "Sim", scopes: str = "read,activity:read_all,activity:write", sim_athlete=None):
        from django.conf import settings

        sim_athlete = sim_athlete or sim.sim_athlete_create(firstname=firstname, lastname="Rider")
        code = sim.auth_code_issue(athlete=sim_athlete, client_id=settings.STRAVA_CLIENT_ID, scopes=scopes.split(","))
        payload = strava.exchange_code(code.code)
        user = get_user_model().objects.create_user(username=f"strava-{payload['athlete']['id']}")
        return athlete_connect(user=user, athlete_data=payload["athlete"], token_payload=payload, scopes=scopes)

    return connect


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, never a downloaded browser."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ],
    }
