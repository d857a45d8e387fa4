"""The simulator behind a real threaded HTTP server: sockets, concurrency, callbacks."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox import services, webhooks
from sandbox.models import SimRateCounter, SimRequestLog

from .conftest import grant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def athlete_token():
    return grant(services.sim_athlete_create(firstname="Live", lastname="Wire"))


def headers(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.access_token}"}


def test_a_dropped_connection_makes_requests_raise_connection_error(sim_server, athlete_token):
    services.sim_config_update(drop_rate=1.0)

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sim_server}/api/v3/athlete", headers=headers(athlete_token), timeout=5)
    # The server logs the dropped request after shutting the socket, so the client can get
    # here first: wait for that row, or the next request's row may be written before it.
    deadline = time.monotonic() + 30
    while not SimRequestLog.objects.filter(status=0).exists():
        assert time.monotonic() < deadline, "the dropped request was never logged"
        time.sleep(0.01)

    services.sim_config_update(drop_rate=0.0)
    after = requests.get(f"{sim_server}/api/v3/athlete", headers=headers(athlete_token), timeout=5)
    assert after.status_code == 200
    assert list(SimRequestLog.objects.order_by("id").values_list("status", flat=True)) == [0, 200]


def test_concurrent_requests_are_each_counted_and_logged_exactly_once(sim_server, athlete_token, settings):
    settings.SANDBOX_READ_LIMIT_SHORT = 15

    def call(_: int) -> int:
        return requests.get(f"{sim_server}/api/v3/athlete", headers=headers(athlete_token), timeout=20).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(call, range(24)))

    assert sorted(statuses) == [200] * 15 + [429] * 9
    counter = SimRateCounter.objects.get(client_id="sandbox")
    assert (counter.short_count, counter.read_daily_count) == (24, 24)
    assert SimRequestLog.objects.filter(path="/api/v3/athlete").count() == 24


class _Callback(BaseHTTPRequestHandler):
    events: list[dict] = []

    def do_GET(self) -> None:  # the handshake
        params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        self._answer({"hub.challenge": params.get("hub.challenge")})

    def do_POST(self) -> None:  # an event
        self.events.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self._answer({})

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def callback_server():
    _Callback.events = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/webhook"
    server.shutdown()
    server.server_close()


def test_a_subscription_over_real_http_gets_the_handshake_and_the_deauthorization(sim_server, callback_server, athlete_token):
    credentials = {"client_id": "sandbox", "client_secret": "sandbox-secret"}
    created = requests.post(
        f"{sim_server}/api/v3/push_subscriptions",
        data={**credentials, "callback_url": callback_server, "verify_token": "t"},
        timeout=5,
    )

    requests.post(f"{sim_server}/oauth/deauthorize", headers=headers(athlete_token), timeout=5)
    webhooks.deliveries_wait()

    assert created.status_code == 201
    assert [(e["object_type"], e["updates"]) for e in _Callback.events] == [("athlete", {"authorized": "false"})]
    assert _Callback.events[0]["subscription_id"] == created.json()["id"]
