from __future__ import annotations

import pytest

from sandbox import services
from sandbox.models import SimRequestLog

from .conftest import API, OAUTH

pytestmark = pytest.mark.django_db


def test_every_api_and_oauth_request_is_logged_once_with_its_outcome(client, api, alice, settings):
    settings.SANDBOX_READ_LIMIT_SHORT = 3
    code = services.auth_code_issue(athlete=alice, client_id="sandbox", scopes=["read"])
    client.post(f"{OAUTH}/token", {"client_id": "sandbox", "client_secret": "sandbox-secret", "code": code.code})
    client.get(f"{API}/athlete", HTTP_AUTHORIZATION="Bearer unknown")
    api.get("/athlete/activities", per_page=5, page=2)
    api.get("/athlete")
    api.get("/athlete")  # the fourth read: 429

    rows = list(SimRequestLog.objects.order_by("id").values_list("method", "path", "query", "status", "athlete_id"))

    assert rows == [
        ("POST", "/oauth/token", "", 200, alice.pk),
        ("GET", "/api/v3/athlete", "", 401, None),
        ("GET", "/api/v3/athlete/activities", "per_page=5&page=2", 200, alice.pk),
        ("GET", "/api/v3/athlete", "", 200, alice.pk),
        ("GET", "/api/v3/athlete", "", 429, alice.pk),
    ]
    assert set(SimRequestLog.objects.values_list("client_id", flat=True)) == {"sandbox"}
    assert all(row.duration_ms >= 0 and row.created_at for row in SimRequestLog.objects.all())


def test_faulted_requests_are_logged_with_their_status(api):
    services.sim_config_update(error_rate=1.0)

    status = api.get("/athlete").status_code

    assert list(SimRequestLog.objects.values_list("status", flat=True)) == [status]


def test_the_consent_page_and_its_answer_are_logged(client, alice):
    params = {"client_id": "sandbox", "redirect_uri": "http://app.test/cb", "response_type": "code", "scope": "read"}
    client.get(f"{OAUTH}/authorize", params)
    client.post(
        f"{OAUTH}/authorize",
        {**params, "requested_scope": "read", "scope": ["read"], "athlete": str(alice.pk), "authorize": "1"},
    )

    rows = list(SimRequestLog.objects.order_by("id").values_list("method", "path", "status", "athlete_id"))

    assert rows == [("GET", "/oauth/authorize", 200, None), ("POST", "/oauth/authorize", 302, alice.pk)]
