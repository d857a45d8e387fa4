"""In headless Chromium against the live server: connect with (simulated) Strava."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

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


def test_signing_in_from_a_page_that_asked_for_it_lands_back_on_that_page(page, strava_sim):
    page.goto(strava_sim.url + "/activities/stats/")
    assert "next=/activities/stats/" in page.url
    page.click("#connect-strava")
    page.wait_for_selector("#authorize")
    page.fill("#firstname", "Nina")
    page.click("#authorize")
    expect(page).to_have_url(strava_sim.url + "/activities/stats/")


def test_a_next_to_another_site_is_ignored(page, strava_sim):
    page.goto(strava_sim.url + "/?next=https://evil.example/steal")
    assert page.locator("input[name=next]").count() == 0
    connect(page, strava_sim.url, firstname="Olga")
    assert page.url == strava_sim.url + "/dashboard/"


def test_logging_out_says_so(page, strava_sim):
    connect(page, strava_sim.url, firstname="Lou")
    page.click("text=Log out")
    expect(page.locator(".message")).to_have_text("Signed out. Connect with Strava to sign in again.")
    expect(page.locator("#connect-strava")).to_be_visible()


def test_the_consent_page_names_the_application(page, strava_sim):
    page.goto(strava_sim.url + "/")
    page.click("#connect-strava")
    expect(page.locator("#application-name")).to_have_text("stravasync")
    assert "Authorize stravasync to connect to Strava" in page.inner_text("h1")


def test_missing_pages_and_server_errors_are_styled_pages(page, strava_sim, settings):
    connect(page, strava_sim.url, firstname="Nora")
    response = page.goto(strava_sim.url + "/activities/999999/")
    assert response is not None and response.status == 404
    expect(page.locator("#not-found h1")).to_have_text("Not found")
    assert page.locator("link[rel=icon]").get_attribute("href").endswith("favicon.svg")
    favicon = page.request.get(strava_sim.url + page.locator("link[rel=icon]").get_attribute("href"))
    assert favicon.ok and "svg" in favicon.headers["content-type"]
