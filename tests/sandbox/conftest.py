from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.test import Client

from sandbox import services
from sandbox.models import SimActivity, SimAthlete, SimSegment, SimToken
from sandbox.services import uploads as upload_services

MOUNT = "/sandbox/strava"
API = f"{MOUNT}/api/v3"
OAUTH = f"{MOUNT}/oauth"
ALL_SCOPES = "read,activity:read_all,activity:write"


@pytest.fixture(autouse=True)
def sandbox_settings(settings):
    """The simulator alone, with Strava's default limits, whatever the environment says."""
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    # The app's own middleware may not exist yet; the simulator needs only Django's.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m.startswith("django.")]
    settings.STRAVA_CLIENT_ID = "sandbox"
    settings.STRAVA_CLIENT_SECRET = "sandbox-secret"
    settings.SANDBOX_TOKEN_LIFETIME = 6 * 3600
    settings.SANDBOX_LIMIT_SHORT = 200
    settings.SANDBOX_LIMIT_DAILY = 2000
    settings.SANDBOX_READ_LIMIT_SHORT = 100
    settings.SANDBOX_READ_LIMIT_DAILY = 1000
    settings.SANDBOX_WINDOW_SECONDS = 900
    settings.SANDBOX_DAY_SECONDS = 86400
    settings.SANDBOX_UPLOAD_DELAY = 0.0
    settings.SANDBOX_MAX_ATHLETES = 0
    return settings


def grant(athlete: SimAthlete, scopes: str = ALL_SCOPES) -> SimToken:
    code = services.auth_code_issue(athlete=athlete, client_id="sandbox", scopes=scopes.split(","))
    return services.token_exchange(client_id="sandbox", code=code.code)


def bearer(token: SimToken) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token.access_token}"}


@pytest.fixture
def alice() -> SimAthlete:
    return services.sim_athlete_create(firstname="Alice", lastname="Rider", username="alice", rng=random.Random(1))


@pytest.fixture
def bob() -> SimAthlete:
    return services.sim_athlete_create(firstname="Bob", lastname="Runner", username="bob", rng=random.Random(2))


@pytest.fixture
def alice_token(alice: SimAthlete) -> SimToken:
    return grant(alice)


@pytest.fixture
def segments() -> list[SimSegment]:
    return services.sim_segments_seed(count=40, rng=random.Random(3))


@pytest.fixture
def alice_history(alice: SimAthlete, segments: list[SimSegment]) -> list[SimActivity]:
    return services.sim_activities_seed(alice, 60, segments=segments, rng=random.Random(4))


@dataclass
class Api:
    """The Django test client speaking to the simulator with one athlete's token."""

    client: Client
    token: SimToken

    def get(self, path: str, **params: object):
        return self.client.get(f"{API}{path}", params, **bearer(self.token))

    def post(self, path: str, data: dict, **extra: object):
        return self.client.post(f"{API}{path}", data, **bearer(self.token), **extra)


@pytest.fixture
def api(client: Client, alice_token: SimToken) -> Api:
    return Api(client, alice_token)


@dataclass(frozen=True)
class Verdict:
    """The fields of activityfiles.Verdict the simulator reads, with defaults so a test names only what matters."""

    status: str
    reason: str = ""
    start_time: datetime | None = None
    sport: str | None = None
    data_type: str = "fit"


@pytest.fixture
def classifier(monkeypatch) -> dict[bytes, Verdict]:
    """Stands in for the file readers: the test maps made-up file contents to verdicts.

    For tests of the simulator's own rules (states, duplicates, errors); what it builds from
    real files is tested with real files (test_uploads_from_files.py).
    """
    from activityfiles.sports import xml_sport
    from activityfiles.summary import ActivitySummary

    verdicts: dict[bytes, Verdict] = {}

    def summary(data: bytes) -> ActivitySummary | None:
        verdict = verdicts.get(data)
        if verdict is None or verdict.status != "eligible":
            return None
        sport, trainer = xml_sport(verdict.sport)
        return ActivitySummary(data_type=verdict.data_type, sport=sport, trainer=trainer, start_time=verdict.start_time,
                               distance=None, elapsed_time=None, moving_time=None, elevation_gain=None, points=(),
                               start_latlng=None, end_latlng=None, device_name=None)

    monkeypatch.setattr(upload_services, "_classify", lambda data: verdicts.get(data, Verdict(status="failed")))
    monkeypatch.setattr(upload_services, "read_activity", summary)
    return verdicts


@pytest.fixture
def sim_server(transactional_db, sandbox_settings) -> Iterator[str]:
    """A real threaded HTTP server (Django's dev server) around the simulator, for socket-level tests."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{MOUNT}"
    server.shutdown()
    server.server_close()
