"""In headless Chromium against the live server: connect with (simulated) Strava."""

from __future__ import annotations

import pytest

from tests.browser.conftest import connect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_connecting_with_strava_lands_on_the_dashboard_with_the_athlete_and_scopes(page, strava_sim):
    connect(page, strava_sim.url, firstname="Paula")
    assert page.inner_text("#athlete-name") == "Paula Browser"
    scopes = page.locator("#scopes .scope").all_inner_texts()
    assert scopes == ["activity:read_all", "activity:write", "read"]
    assert page.locator("#missing-features").count() == 0
    assert page.locator("#sandbox-banner").is_visible()
    assert "valid" in page.inner_text("#token-state")
    # Our encrypted StravaToken is the only copy: social-auth keeps none.
    from social_django.models import UserSocialAuth

    social = UserSocialAuth.objects.get()
    assert "access_token" not in (social.extra_data or {}) and "refresh_token" not in (social.extra_data or {})


def test_unticking_activity_write_says_uploads_are_off(page, strava_sim):
    connect(page, strava_sim.url, firstname="Uma", untick=("activity:write",))
    warning = page.inner_text("#missing-features")
    assert "Uploads are off" in warning
    assert "activity:write" not in page.locator("#scopes .scope").all_inner_texts()
    assert page.locator("#reconnect").is_visible()


def test_cancelling_at_strava_says_so_and_changes_nothing(page, strava_sim):
    from accounts.models import Athlete

    page.goto(strava_sim.url + "/")
    page.click("#connect-strava")
    page.wait_for_selector("#cancel")
    page.click("#cancel")
    page.wait_for_selector(".message")
    assert "cancelled" in page.inner_text(".message")
    assert not Athlete.objects.exists()


def test_disconnecting_and_deleting_data_removes_the_athlete(page, strava_sim):
    from accounts.models import Athlete

    connect(page, strava_sim.url, firstname="Dora")
    page.goto(strava_sim.url + "/disconnect/")
    page.check("input[name=data][value=delete]")
    page.click("#confirm-disconnect")
    page.wait_for_selector(".message")
    assert "deleted" in page.inner_text(".message")
    assert not Athlete.objects.exists()


def test_a_strava_error_on_the_first_page_still_lands_on_the_dashboard_with_the_reason(page, strava_sim, settings):
    from sandbox.services import sim_config_reset, sim_config_update
    from stravasync.strava import quota

    settings.WAREHOUSE_FIRST_PAGE_AT_CONNECT = True
    quota.reset_for_tests()
    sim_config_update(error_rate=1.0)  # every API call answers 500, 502 or 503; the OAuth exchange still works
    try:
        connect(page, strava_sim.url, firstname="Erin")
    finally:
        sim_config_reset()
    assert page.inner_text("#athlete-name") == "Erin Browser"
    assert page.inner_text("#sync-status [data-reason]") == (
        "Waiting: Strava answered with an error, so your first activities are queued: "
        "the background sync fetches them in a moment.")
    assert "still being fetched" in page.inner_text("#sync-status tr[data-stage=history]")
