from __future__ import annotations

import pytest

from ops.selectors import dashboard_status
from stravasync.strava import quota

pytestmark = pytest.mark.django_db


def _stage(status, key):
    return next(s for s in status.stages if s.key == key)


def test_it_counts_what_is_left_and_estimates_its_finish(clock, alice, add_activity, add_upload):
    for i in range(3):
        add_activity(alice, strava_id=500 + i)
    add_activity(alice, strava_id=600, details=True)
    add_upload(alice, status="queued")
    status = dashboard_status(athlete=alice)
    assert status.activities == 4
    assert _stage(status, "details").count == 3
    assert _stage(status, "uploads").count == 1
    assert _stage(status, "details").finish is not None and _stage(status, "details").wait is None
    assert _stage(status, "segments").finish is None


def test_a_spent_window_says_when_it_resumes(clock, alice, add_activity):
    add_activity(alice, strava_id=501)
    quota.reconcile({"X-ReadRateLimit-Usage": "100,100", "X-RateLimit-Usage": "100,100"})  # the whole read window
    wait = _stage(dashboard_status(athlete=alice), "details").wait
    assert wait == "Strava's 15-minute allowance is spent; resumes at 14:45 UTC"


def test_a_429_says_when_it_resumes(clock, alice, add_activity):
    add_activity(alice, strava_id=501)
    quota.record_rate_limited({})
    assert "15-minute allowance is spent; resumes at 14:45 UTC" in _stage(dashboard_status(athlete=alice), "details").wait


def test_a_429_of_a_spent_day_says_it_resumes_at_midnight(clock, alice, add_activity):
    add_activity(alice, strava_id=501)
    quota.record_rate_limited({"X-RateLimit-Usage": "150,2000"})
    wait = _stage(dashboard_status(athlete=alice), "details").wait
    assert wait == "Strava's daily allowance is spent; resumes at 00:00 UTC"


def test_a_retry_after_past_the_window_is_a_pause_not_a_spent_day(clock, alice, add_activity):
    add_activity(alice, strava_id=501)
    quota.record_rate_limited({"Retry-After": "1200"})  # 14:33:20 + 20 min
    wait = _stage(dashboard_status(athlete=alice), "details").wait
    assert wait == "Strava asked us to pause; resumes at 14:53 UTC"


def test_an_inactive_application_is_said_plainly(clock, alice, add_activity):
    add_activity(alice, strava_id=501)
    quota.mark_inactive("Inactive")
    status = dashboard_status(athlete=alice)
    assert _stage(status, "details").wait.startswith("Strava says this application is inactive")
    assert any(r.startswith("Strava says this application is inactive") for r in status.reasons)


def test_an_athlete_who_must_reconnect_is_told_so(clock, alice, add_activity):
    add_activity(alice, strava_id=501)
    alice.needs_reconnect = True
    alice.save()
    status = dashboard_status(athlete=alice)
    assert status.reasons == ["reconnect Strava to continue"]
    assert _stage(status, "details").wait == "reconnect Strava to continue"


def test_the_dashboard_page_shows_failed_files_with_their_next_step(client, clock, alice, add_upload, add_activity):
    add_upload(alice, status="failed", name="broken.fit", reason="the file is corrupt")
    add_activity(alice, strava_id=501)
    quota.record_rate_limited({})
    client.force_login(alice.user)
    page = client.get("/dashboard/").content.decode()
    assert 'id="sync-status"' in page
    assert "broken.fit" in page and "the file is corrupt" in page and "Next step: retry it" in page
    assert "resumes at 14:45 UTC" in page


def test_the_dashboard_shows_no_other_athletes_numbers(client, clock, alice, bob, add_activity):
    add_activity(bob, strava_id=900, name="Bob's secret loop")
    client.force_login(alice.user)
    page = client.get("/dashboard/").content.decode()
    assert "Bob&#x27;s secret loop" not in page and "Bob's secret loop" not in page
    assert 'data-count="0">0 activities</span> in your warehouse' in page


def test_a_failed_pull_says_what_strava_did_and_when_it_is_tried_again(clock, alice, add_activity):
    from datetime import timedelta

    from django.utils import timezone

    from ops.waits import clock as clock_text
    from warehouse.models import SyncState

    add_activity(alice, strava_id=501)
    retry_at = timezone.now() + timedelta(minutes=4)
    SyncState.objects.create(athlete=alice, not_before=retry_at,
                             last_error="will retry: timed out (NetworkError: ReadTimeout calling GET /athlete/activities)")
    status = dashboard_status(athlete=alice)
    assert _stage(status, "history").wait == (
        f"Strava did not answer in time on the last pull; the background sync tries again at {clock_text(retry_at)}")
    assert status.reasons == []  # the athlete has activities to look at: not a wait that stops everything
