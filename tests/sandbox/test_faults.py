from __future__ import annotations

import io
import time

import pytest
from django.core.management import CommandError, call_command

from sandbox import services
from sandbox.models import SimConfig, SimRequestLog

from .conftest import OAUTH

pytestmark = pytest.mark.django_db


def test_an_error_rate_of_one_answers_every_api_call_with_a_5xx(api):
    services.sim_config_update(error_rate=1.0)

    responses = [api.get("/athlete") for _ in range(5)]

    assert {r.status_code for r in responses} <= {500, 502, 503}
    assert all(r.json()["message"] and r.json()["errors"] == [] for r in responses)
    assert responses[-1]["X-RateLimit-Usage"] == "5,5"


def test_inactive_answers_403_inactive_on_every_api_call(api):
    services.sim_config_update(inactive=True)

    response = api.get("/athlete/activities")

    assert response.status_code == 403
    assert response.json() == {
        "message": "Forbidden",
        "errors": [{"resource": "Application", "field": "subscription", "code": "Inactive"}],
    }
    assert "X-RateLimit-Usage" in response


def test_faults_leave_oauth_alone(client, alice_token):
    services.sim_config_update(error_rate=1.0, inactive=True)

    response = client.post(
        f"{OAUTH}/token",
        {
            "client_id": "sandbox",
            "client_secret": "sandbox-secret",
            "grant_type": "refresh_token",
            "refresh_token": alice_token.refresh_token,
        },
    )

    assert response.status_code == 200


def test_slow_answers_wait_before_answering(api):
    services.sim_config_update(slow_rate=1.0, slow_seconds=0.3)

    started = time.monotonic()
    response = api.get("/athlete")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_a_dropped_connection_without_a_socket_raises_and_is_logged_as_status_0(api):
    services.sim_config_update(drop_rate=1.0)

    with pytest.raises(ConnectionResetError):
        api.get("/athlete")

    assert SimRequestLog.objects.get().status == 0


def test_the_faults_command_sets_and_shows_the_switches():
    out = io.StringIO()

    call_command(
        "sandbox_faults",
        "--error-rate",
        "0.2",
        "--slow-seconds",
        "5",
        "--slow-rate",
        "0.1",
        "--drop-rate",
        "0.05",
        "--inactive",
        "on",
        "--fail-uploads",
        "on",
        stdout=out,
    )

    config = SimConfig.load()
    assert (config.error_rate, config.slow_seconds, config.slow_rate, config.drop_rate) == (0.2, 5.0, 0.1, 0.05)
    assert config.inactive and config.fail_uploads
    assert "inactive      on" in out.getvalue()


def test_the_faults_command_resets_to_no_faults():
    services.sim_config_update(error_rate=1.0, inactive=True)

    call_command("sandbox_faults", "--reset", stdout=io.StringIO())

    config = SimConfig.load()
    assert (config.error_rate, config.inactive, config.fail_uploads) == (0.0, False, False)


def test_the_faults_command_refuses_a_rate_above_one():
    with pytest.raises(CommandError):
        call_command("sandbox_faults", "--error-rate", "2", stdout=io.StringIO())


def test_unknown_paths_answer_with_headers(api):
    response = api.get("/routes/1")
    assert response.status_code == 404
    assert response["X-RateLimit-Usage"] == "1,1"
