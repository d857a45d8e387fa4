from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sandbox import ratelimit
from sandbox.models import SimRateCounter, SimRequestLog

from .conftest import API, OAUTH

pytestmark = pytest.mark.django_db

RATE_LIMITED = {
    "message": "Rate Limit Exceeded",
    "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}],
}


def usage(response) -> tuple[str, str]:
    return response["X-RateLimit-Usage"], response["X-ReadRateLimit-Usage"]


def test_every_answer_carries_strava_s_rate_limit_headers(api, client):
    ok = api.get("/athlete")
    refused = client.get(f"{API}/athlete")

    assert ok["X-RateLimit-Limit"] == "200,2000"
    assert ok["X-ReadRateLimit-Limit"] == "100,1000"
    assert usage(ok) == ("1,1", "1,1")
    assert refused.status_code == 401
    assert usage(refused) == ("2,2", "2,2")


def test_uploads_count_overall_but_not_as_reads(api):
    api.post("/uploads", {"file": SimpleUploadedFile("a.fit", b"x"), "data_type": "fit"})

    response = api.get("/athlete")

    assert usage(response) == ("2,2", "1,1")


def test_past_the_read_limit_reads_get_429_while_uploads_still_pass(api, settings):
    settings.SANDBOX_READ_LIMIT_SHORT = 2
    api.get("/athlete")
    api.get("/athlete")

    refused = api.get("/athlete")
    upload = api.post("/uploads", {"file": SimpleUploadedFile("a.fit", b"x"), "data_type": "fit"})

    assert refused.status_code == 429
    assert refused.json() == RATE_LIMITED
    assert usage(refused) == ("3,3", "3,3")
    assert upload.status_code == 201


def test_past_the_overall_limit_everything_gets_429(api, settings):
    settings.SANDBOX_LIMIT_SHORT = 1
    api.get("/athlete")

    upload = api.post("/uploads", {"file": SimpleUploadedFile("a.fit", b"x"), "data_type": "fit"})

    assert upload.status_code == 429


def test_refused_requests_still_count_toward_the_day(api, settings):
    settings.SANDBOX_LIMIT_DAILY = 3
    statuses = [api.get("/athlete").status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    assert api.get("/athlete")["X-RateLimit-Usage"] == "6,6"
    assert SimRateCounter.objects.get(client_id="sandbox").daily_count == 6


def test_the_short_window_rolls_over_and_the_day_does_not(api, settings):
    settings.SANDBOX_WINDOW_SECONDS = 1
    settings.SANDBOX_LIMIT_SHORT = 2
    # Start just after a window boundary so that three calls fit in one window.
    time.sleep(1 - time.time() % 1 + 0.01)
    statuses = [api.get("/athlete").status_code for _ in range(3)]
    time.sleep(1 - time.time() % 1 + 0.01)

    after = api.get("/athlete")

    assert statuses == [200, 200, 429]
    assert after.status_code == 200
    assert usage(after) == ("1,4", "1,4")


def test_windows_are_aligned_to_the_epoch(settings):
    settings.SANDBOX_WINDOW_SECONDS = 900
    settings.SANDBOX_DAY_SECONDS = 86400
    quarter_past = 1_714_544_100  # 2024-05-01T06:15:00Z

    assert ratelimit.window_indexes(quarter_past - 1)[0] + 1 == ratelimit.window_indexes(quarter_past)[0]
    assert ratelimit.window_indexes(quarter_past)[1] == ratelimit.window_indexes(1_714_521_600)[1]  # midnight


def test_oauth_and_push_subscriptions_are_not_counted(client, api):
    client.post(f"{OAUTH}/token", {"client_id": "sandbox", "client_secret": "sandbox-secret", "code": "x"})
    listed = client.get(f"{API}/push_subscriptions", {"client_id": "sandbox", "client_secret": "sandbox-secret"})

    assert listed.status_code == 200
    assert usage(listed) == ("0,0", "0,0")
    assert usage(api.get("/athlete")) == ("1,1", "1,1")
    assert SimRequestLog.objects.count() == 3
