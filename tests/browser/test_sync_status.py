"""In headless Chromium: the dashboard's "why waiting" reasons and the operator's sync page."""

from __future__ import annotations

import pytest
from django.test import Client

from stravasync.strava import quota
from tests.ops import conftest as ops_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

clock = ops_fixtures.clock
add_activity = ops_fixtures.add_activity
add_upload = ops_fixtures.add_upload



def _login(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def _spend_window(athlete) -> None:
    quota.reconcile({"X-ReadRateLimit-Usage": "100,100", "X-RateLimit-Usage": "100,100"})


def _spend_day(athlete) -> None:
    quota.reconcile({"X-ReadRateLimit-Usage": "10,1000", "X-RateLimit-Usage": "10,2000"})


def _reserve_left(athlete) -> None:
    # 95 of 100 reads: what is left is the reserve of the priorities above enrichment.
    quota.reconcile({"X-ReadRateLimit-Usage": "95,95", "X-RateLimit-Usage": "95,95"})


def _rate_limited(athlete) -> None:
    quota.record_rate_limited({})


def _rate_limited_for_the_day(athlete) -> None:
    quota.record_rate_limited({"X-RateLimit-Usage": "150,2000"})


def _asked_to_pause(athlete) -> None:
    quota.record_rate_limited({"Retry-After": "1200"})


def _inactive(athlete) -> None:
    quota.mark_inactive("Inactive")


def _reconnect(athlete) -> None:
    athlete.needs_reconnect = True
    athlete.save()


# Every reason ops.waits gives, as the dashboard shows it (the clock is held at 14:33:20 UTC).
@pytest.mark.parametrize(("make_wait", "reason"), [
    (_spend_window, "Strava's 15-minute allowance is spent; resumes at 14:45 UTC"),
    (_spend_day, "Strava's daily allowance is spent; resumes at 00:00 UTC"),
    (_reserve_left, "the rest of Strava's 15-minute allowance is kept for people waiting on a page; "
                    "resumes at 14:45 UTC"),
    (_rate_limited, "Strava's 15-minute allowance is spent; resumes at 14:45 UTC"),
    (_rate_limited_for_the_day, "Strava's daily allowance is spent; resumes at 00:00 UTC"),
    (_asked_to_pause, "Strava asked us to pause; resumes at 14:53 UTC"),
    (_inactive, "Strava says this application is inactive; calls resume by themselves when Strava does"),
    (_reconnect, "reconnect Strava to continue"),
])
def test_the_dashboard_says_why_sync_waits(page, live_server, clock, alice, add_activity, make_wait, reason):
    add_activity(alice, strava_id=501)
    make_wait(alice)
    _login(page, live_server, alice.user)
    page.goto(live_server.url + "/dashboard/")
    assert page.inner_text("#sync-status tr[data-stage=details] .wait") == reason


@pytest.mark.parametrize(("make_wait", "reason"), [
    (_inactive, "Strava says this application is inactive; calls resume by themselves when Strava does"),
    (_reconnect, "reconnect Strava to continue"),
])
def test_waits_that_stop_everything_are_said_above_the_stages(page, live_server, clock, alice, add_activity,
                                                              make_wait, reason):
    add_activity(alice, strava_id=501)
    make_wait(alice)
    _login(page, live_server, alice.user)
    page.goto(live_server.url + "/dashboard/")
    assert page.locator("#sync-status [data-reason]").all_inner_texts() == [f"Waiting: {reason}."]
    if make_wait is _reconnect:
        assert page.locator("#needs-reconnect button").is_visible()
    else:
        assert page.locator("#inactive-banner").is_visible()


def test_an_upload_waiting_for_a_spent_day_says_so_and_a_failed_file_gives_its_next_step(
        page, live_server, clock, alice, add_upload):
    add_upload(alice, status="queued", name="tuesday.fit")
    add_upload(alice, status="failed", name="broken.fit", reason="the file is corrupt")
    _spend_day(alice)
    _login(page, live_server, alice.user)
    page.goto(live_server.url + "/dashboard/")
    row = page.locator("#sync-status tr[data-stage=uploads]")
    assert row.locator(".wait").inner_text() == "Strava's daily allowance is spent; resumes at 00:00 UTC"
    assert page.inner_text("#failed-uploads") == "1 file failed"
    assert "broken.fit — the file is corrupt. Next step: retry it on your uploads page" in page.inner_text(
        "#sync-status li[data-upload]")


def test_a_failed_pull_says_what_strava_did(page, live_server, clock, alice):
    from warehouse.models import SyncState

    SyncState.objects.create(athlete=alice, last_error="will retry: Service Unavailable (ServerError: Service Unavailable)")
    _login(page, live_server, alice.user)
    page.goto(live_server.url + "/dashboard/")
    expected = ("Strava answered with an error, so your first activities are queued: "
                "the background sync fetches them in a moment")
    assert page.inner_text("#sync-status tr[data-stage=history] .wait") == expected
    assert page.locator("#sync-status [data-reason]").all_inner_texts() == [f"Waiting: {expected}."]


def test_the_operator_page_shows_capacity_and_no_activity_names(page, live_server, clock, alice, add_activity,
                                                                 django_user_model):
    add_activity(alice, strava_id=501, name="Alice's hill repeats")
    staff = django_user_model.objects.create_user(username="ops", is_staff=True)
    _login(page, live_server, staff)
    page.goto(live_server.url + "/ops/sync/")
    assert "1 of 10" in page.inner_text("#ops-capacity")
    assert page.locator("#quota-chart").count() == 1
    assert "hill repeats" not in page.content()


def test_the_operator_page_is_refused_to_athletes(page, live_server, alice):
    _login(page, live_server, alice.user)
    response = page.goto(live_server.url + "/ops/sync/")
    assert response is not None and response.status == 403


def test_the_operator_page_shows_webhooks_429s_failed_runs_and_the_inactive_state(
        page, live_server, clock, alice, bob, add_activity, add_upload, django_user_model, settings):
    from datetime import timedelta

    from django.utils import timezone

    from warehouse.models import SyncRun
    from webhooks.models import WebhookEvent, WebhookSubscription

    settings.STRAVA_WEBHOOK_VERIFY_TOKEN = "token"
    WebhookSubscription.objects.create(strava_id=77, callback_url=f"{live_server.url}/strava/webhook/")
    now = timezone.now().replace(microsecond=0)
    for object_id, lag in ((501, 4), (502, 12)):
        happened = now - timedelta(minutes=5)
        WebhookEvent.objects.create(object_type="activity", object_id=object_id, aspect_type="create",
                                    owner_id=alice.strava_id, event_time=int(happened.timestamp()), athlete=alice,
                                    processed_at=happened + timedelta(seconds=lag), result="activity stored")
    WebhookEvent.objects.create(object_type="activity", object_id=501, aspect_type="update",
                                owner_id=alice.strava_id, event_time=int(now.timestamp()), athlete=alice,
                                updates={"title": "Alice's hill repeats"}, duplicates=2)
    add_activity(alice, strava_id=501, name="Alice's hill repeats")
    add_upload(bob, status="queued")
    SyncRun.objects.create(kind="pull", athlete=bob, error="Strava answered 500 three times")
    quota.record_rate_limited({})
    quota.mark_inactive("Inactive")
    staff = django_user_model.objects.create_user(username="ops", is_staff=True)

    _login(page, live_server, staff)
    page.goto(live_server.url + "/ops/sync/")

    assert page.inner_text("#ops-subscription").startswith("Subscription: live, id 77, callback "
                                                           f"{live_server.url}/strava/webhook/")
    assert page.inner_text("#ops-webhook-lag") == (
        "Event lag (Strava's event time to our processing): median 8 s, max 12 s over 2 events.")
    assert page.locator("#ops-webhook-deliveries [data-event-type]").all_inner_texts() == [
        "2 activity create", "1 activity update"]
    assert page.inner_text("#ops-webhook-duplicates") == "2 duplicate deliveries recognised"
    assert page.inner_text("#ops-webhook-pending") == "1 pending"
    assert "Strava says this application is inactive" in page.inner_text("#ops-inactive")
    assert page.inner_text("#ops-429").startswith("429 answers: 1 in 24 h")
    assert "Strava answered 500 three times" in page.inner_text("#ops-failed-runs")
    assert page.locator(f"#ops-athletes tr[data-athlete='{bob.pk}'] td").nth(3).inner_text() == "1"  # uploads waiting
    assert "2 of 10" in page.inner_text("#ops-capacity")
    assert "hill repeats" not in page.content()
