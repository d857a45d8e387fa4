from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from stravasync.strava import quota

pytestmark = pytest.mark.django_db


def test_quota_status_command_prints_json_with_permits_per_priority():
    quota.acquire(kind=quota.Kind.READ, count=3)
    out = StringIO()
    call_command("quota_status", "--json", stdout=out)
    status = json.loads(out.getvalue())
    assert status["usage"]["read"]["window"] == 3
    assert set(status["available_now"]) == {"interactive", "webhook", "upload", "pull", "enrich", "backfill"}


def test_quota_status_command_says_when_the_subscription_is_inactive():
    quota.mark_inactive("Inactive application")
    out = StringIO()
    call_command("quota_status", stdout=out)
    assert "API subscription inactive: Inactive application" in out.getvalue()


def test_rate_limit_api_needs_a_signed_in_user(client):
    response = client.get("/api/rate-limit/")
    assert response.status_code == 302


def test_rate_limit_api_answers_json_to_an_athlete(client, alice):
    client.force_login(alice.user)
    response = client.get("/api/rate-limit/")
    assert response.status_code == 200
    assert response.json()["limits"]["overall"] == {"window": 200, "daily": 2000}


def test_every_page_shows_the_inactive_banner(client):
    quota.mark_inactive("Inactive")
    response = client.get("/")
    assert b'id="inactive-banner"' in response.content
    assert b'id="sandbox-banner"' in response.content


def test_quota_status_shows_the_upload_backlog_and_when_it_could_finish(alice):
    from uploads.models import Upload
    from uploads.services import batch_create

    batch = batch_create(athlete=alice, source="web")
    Upload.objects.bulk_create([Upload(batch=batch, athlete=alice, original_name=f"{n}.fit", sha256=str(n),
                                       status="queued") for n in range(250)])
    status = quota.quota_status()
    (uploads,) = [row for row in status["backlog"] if row["backlog"] == "uploads"]
    assert uploads["calls"] == 250 and uploads["priority"] == "upload"
    assert uploads["estimated_finish"] > status["window_resets_at"]  # 250 posts need more than this window
