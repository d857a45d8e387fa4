"""In headless Chromium: the dashboard's "why waiting" reasons and the operator's sync page."""

from __future__ import annotations

import pytest
from django.test import Client

from stravasync.strava import quota
from tests.ops import conftest as ops_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

clock = ops_fixtures.clock
add_activity = ops_fixtures.add_activity



def _login(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def _spend_window(athlete) -> None:
    quota.reconcile({"X-ReadRateLimit-Usage": "100,100", "X-RateLimit-Usage": "100,100"})


def _inactive(athlete) -> None:
    quota.mark_inactive("Inactive")


def _reconnect(athlete) -> None:
    athlete.needs_reconnect = True
    athlete.save()


@pytest.mark.parametrize(("make_wait", "reason"), [
    (_spend_window, "Strava's 15-minute allowance is spent; resumes at 14:45 UTC"),
    (_inactive, "Strava says this application is inactive"),
    (_reconnect, "reconnect Strava to continue"),
])
def test_the_dashboard_says_why_sync_waits(page, live_server, clock, alice, add_activity, make_wait, reason):
    add_activity(alice, strava_id=501)
    make_wait(alice)
    _login(page, live_server, alice.user)
    page.goto(live_server.url + "/dashboard/")
    assert reason in page.inner_text("#sync-status tr[data-stage=details] .wait")


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
