"""`enrich` that fetches nothing says why: no activities, nothing left, the cluster has them, not connected, quota spent."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from .conftest import summary_json

pytestmark = pytest.mark.django_db


def enrich(*args: str) -> str:
    out = StringIO()
    call_command("enrich", *args, stdout=out)
    return out.getvalue()


def test_an_empty_warehouse_says_to_pull_first(alice):
    assert "nothing to enrich: no activities in the warehouse yet (run pull first)" in enrich(
        "--athlete", str(alice.strava_id), "--limit", "5")


def test_when_every_activity_has_its_details_it_says_nothing_is_left(alice, store):
    from warehouse.models import Activity

    store(summary_json(), summary_json())
    Activity.objects.update(detail={"id": 1}, detail_fetched_at=timezone.now())
    text = enrich("--athlete", str(alice.strava_id), "--limit", "5")
    assert "0 activities enriched" in text
    assert "nothing left to enrich: all 2 chosen activities have their details (--force fetches them again)" in text


def test_dates_that_match_no_activity_are_named_as_the_reason(alice, store):
    store(summary_json())
    assert "no activity in the warehouse matches the ids or dates given" in enrich("--after", "2030-01-01")


def test_activities_the_task_cluster_is_fetching_are_named(alice, store):
    from warehouse.models import Activity

    store(summary_json(), summary_json())
    Activity.objects.update(enrich_claimed_until=timezone.now() + timedelta(minutes=5))
    assert "2 of them are being fetched by the task cluster right now" in enrich("--limit", "5")


def test_an_athlete_who_is_not_connected_is_told_to_connect_before_any_call(alice, store):
    store(summary_json())
    alice.token.delete()
    with pytest.raises(CommandError, match="connect Strava in the web app first"):
        enrich("--athlete", str(alice.strava_id), "--limit", "5")


def test_a_spent_quota_says_when_it_resumes(alice, store, monkeypatch):
    """The quota's clock held mid-window: the window cannot roll over between spending it and asking."""
    from stravasync.strava import quota

    quota.reset_for_tests()
    moment = (int(quota.now_ts()) // 900) * 900 + 300.0
    monkeypatch.setattr(quota, "now_ts", lambda: moment)
    store(summary_json())
    quota.acquire(kind=quota.Kind.READ, priority=quota.Priority.INTERACTIVE, count=10_000)

    text = enrich("--athlete", str(alice.strava_id), "--limit", "5", "--no-wait")
    resume = quota._dt(moment + 600)  # the window's end
    assert "0 activities enriched, 0 failed" in text
    assert f"quota spent; resumes at {resume:%H:%M:%S} UTC (in 10m 0s): run again then" in text
