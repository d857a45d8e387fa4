"""The Garmin password is used once: it appears in no log, no database row and no error page."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client

from garmin.models import GarminConnection
from sandbox.garmin import services as sim

from .conftest import PASSWORD, RIDE

pytestmark = pytest.mark.django_db(transaction=True)


def _database_text() -> str:
    """Every text value of every table, as one string to search."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # table names from the introspection
            chunks.extend(str(value) for row in cursor.fetchall() for value in row if value is not None)
    return "\n".join(chunks)


def test_the_password_reaches_no_log_no_row_and_no_error_page(garmin_sim, alice, caplog, settings):
    caplog.set_level(logging.DEBUG)
    sim.garmin_account_seed(email="alice@example.com", password=PASSWORD, mfa=True, files=[RIDE])
    client = Client(raise_request_exception=False)
    client.force_login(alice.user)

    wrong = client.post("/garmin/connect/", {"email": "alice@example.com", "password": PASSWORD + "x"}, follow=True)
    assert "did not accept" in wrong.content.decode()
    pending = client.post("/garmin/connect/", {"email": "alice@example.com", "password": PASSWORD}, follow=True)
    assert b"garmin-mfa" in pending.content
    done = client.post("/garmin/mfa/", {"code": "123456"}, follow=True)
    assert GarminConnection.objects.get(athlete=alice).tokens

    # An error page while the password is in the request shows it masked (the view's sensitive parameters).
    settings.DEBUG = True
    from unittest import mock

    # The failure is deep inside the sign-in, so every frame that held the password is on the page.
    with mock.patch("garmin.signin.requests.Session.post", side_effect=RuntimeError("boom")):
        crash = client.post("/garmin/connect/", {"email": "alice@example.com", "password": PASSWORD},
                            HTTP_ACCEPT="text/html")
    assert crash.status_code == 500

    for body in (wrong.content, pending.content, done.content, crash.content):
        assert PASSWORD.encode() not in body
    assert PASSWORD not in caplog.text
    assert PASSWORD not in _database_text()
    session = client.session
    assert PASSWORD not in str(dict(session.items()))
