"""In headless Chromium: connect Garmin with an MFA code, see the status, disconnect."""

from __future__ import annotations

import pytest

from garmin.models import GarminConnection
from sandbox.garmin import services as sim

from ..garmin.conftest import PASSWORD, RIDE, RUN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, user) -> None:
    from django.test import Client

    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def test_connect_garmin_with_an_mfa_code_see_the_status_and_disconnect(page, live_server, settings, alice):
    settings.GARMIN_SANDBOX_URL = f"{live_server.url}/sandbox/garmin"
    settings.GARMIN_REQUEST_INTERVAL = 0.0
    account = sim.garmin_account_seed(email="alice@example.com", password=PASSWORD, mfa=True, files=[RIDE, RUN])
    _login(page, live_server, alice.user)

    page.goto(f"{live_server.url}/garmin/")
    page.fill("#garmin-signin input[name=email]", "alice@example.com")
    page.fill("#garmin-signin input[name=password]", PASSWORD)
    page.click("#garmin-signin button[type=submit]")
    page.wait_for_selector("#garmin-mfa")
    page.fill("#garmin-mfa input[name=code]", "000000")
    page.click("#garmin-mfa button[type=submit]")
    assert "did not accept that code" in page.inner_text("main")
    page.fill("#garmin-mfa input[name=code]", account.mfa_code)
    page.click("#garmin-mfa button[type=submit]")

    page.wait_for_selector("#garmin-status")
    assert page.inner_text("#garmin-state") == "connected"
    assert GarminConnection.objects.get(athlete=alice).tokens
    page.goto(f"{live_server.url}/dashboard/")
    assert page.locator("[data-stage=garmin]").count() == 1

    page.goto(f"{live_server.url}/garmin/")
    page.click("#garmin-disconnect")
    page.wait_for_selector("#garmin-connect")
    assert not GarminConnection.objects.filter(athlete=alice).exists()
