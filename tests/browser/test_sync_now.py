"""In headless Chromium: the dashboard's "Sync now" calls /api/sync/ in place, or posts the form without JavaScript."""

from __future__ import annotations

import pytest

from tests.browser.conftest import connect
from tests.ops import conftest as ops_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

clock = ops_fixtures.clock


def _seed(firstname: str, count: int):
    """Strava (the simulator) holds `count` activities of the athlete who signed in as `firstname`."""
    from sandbox.models import SimAthlete
    from sandbox.services import sim_activities_seed

    rider = SimAthlete.objects.get(firstname=firstname)
    sim_activities_seed(rider, count, years=1)
    return rider


def _last_run():
    from warehouse.models import SyncRun

    return SyncRun.objects.order_by("-pk").first()


def test_sync_now_shows_the_runs_counts_and_the_quota_without_a_reload(page, strava_sim):
    connect(page, strava_sim.url, firstname="Sina")
    _seed("Sina", 4)
    assert page.inner_text("#activity-count") == "0 activities"
    page.evaluate("window.stillThisPage = true")  # a full reload would forget it

    page.click("#sync-now")
    page.wait_for_selector("#sync-now-result[data-state=done]")

    run = _last_run()
    assert (run.trigger, run.created, run.error) == ("web", 4, "")
    assert page.inner_text("#sync-now-result .sync-counts") == (
        f"Pulled 4 new activities and 0 updated (1 page, {run.calls} Strava call{'s' if run.calls != 1 else ''}).")
    quota_line = page.inner_text("#sync-now-result .sync-quota")
    assert "calls this 15 minutes" in quota_line and "resets in" in quota_line and "today" in quota_line
    assert page.evaluate("window.stillThisPage") is True
    assert page.inner_text("#activity-count") == "4 activities"


def test_a_spent_window_is_said_in_place_and_the_pull_is_queued(page, strava_sim, clock):
    from stravasync.strava import quota
    from warehouse.models import SyncState

    connect(page, strava_sim.url, firstname="Quinn")
    quota.reconcile({"X-ReadRateLimit-Usage": "100,100", "X-RateLimit-Usage": "100,100"})  # the read window is spent
    page.evaluate("window.stillThisPage = true")

    page.click("#sync-now")
    page.wait_for_selector("#sync-now-result[data-state=rate_limited]")

    assert "your pull is queued" in page.inner_text("#sync-now-result .sync-refused")
    # The clock is held at 14:33:20: the window resets at 14:45.
    assert page.inner_text("#sync-now-result .sync-quota") == (
        "Strava's allowance: 100 of 200 calls this 15 minutes (0 reads left), resets in 11 min 40 s; "
        "100 of 2000 today (900 reads left), resets in 9 h 26 min.")
    assert page.evaluate("window.stillThisPage") is True
    assert SyncState.objects.get().next_pull_at is not None


def test_without_javascript_sync_now_posts_the_form_and_comes_back_with_a_message(browser, strava_sim):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        connect(page, strava_sim.url, firstname="Nojs")
        _seed("Nojs", 3)
        page.click("#sync-now")
        page.wait_for_selector(".message")
        assert page.url == strava_sim.url + "/dashboard/"
        run = _last_run()
        assert page.inner_text(".message") == (
            f"Pulled 3 new and 0 updated activities ({run.calls} Strava calls).")
        assert run.created == 3
        assert page.inner_text("#activity-count") == "3 activities"
    finally:
        context.close()
