"""Against the simulator: many workers, one expired token, exactly one refresh."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import StravaToken
from accounts.services import athlete_access_token
from stravasync.strava.errors import ReconnectNeeded

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_eight_threads_asking_for_an_expired_token_cause_exactly_one_refresh(sim_connected_athlete):
    from sandbox.models import SimRequestLog

    athlete = sim_connected_athlete(firstname="Racer")
    StravaToken.objects.filter(athlete=athlete).update(expires_at=timezone.now() - timedelta(minutes=1))
    before = StravaToken.objects.get(athlete=athlete)
    SimRequestLog.objects.all().delete()

    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def ask() -> None:
        try:
            start.wait()
            results.append(athlete_access_token(athlete_id=athlete.pk))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    after = StravaToken.objects.get(athlete=athlete)
    assert SimRequestLog.objects.filter(method="POST", path="/oauth/token").count() == 1
    assert after.access_token != before.access_token
    assert results == [after.access_token] * 8
    assert after.refresh_token != before.refresh_token  # rotated, and saved
    assert after.refresh_count == 1


def test_the_refreshed_token_works_and_the_old_refresh_token_is_dead(sim_connected_athlete):
    from stravasync.strava.client import StravaClient
    from stravasync.strava.errors import BadRequest
    from stravasync.strava.oauth import refresh_access_token

    athlete = sim_connected_athlete(firstname="Rotator")
    old_refresh = StravaToken.objects.get(athlete=athlete).refresh_token
    athlete_access_token(athlete_id=athlete.pk, force_refresh=True)
    assert StravaClient(athlete_id=athlete.pk).get_athlete()["id"] == athlete.strava_id
    with pytest.raises(BadRequest) as caught:
        refresh_access_token(old_refresh)
    assert caught.value.names("RefreshToken", "refresh_token")


def test_a_revoked_refresh_token_marks_the_athlete_for_reconnection_without_crashing(sim_connected_athlete):
    from stravasync.strava.oauth import deauthorize

    athlete = sim_connected_athlete(firstname="Revoked")
    deauthorize(StravaToken.objects.get(athlete=athlete).access_token)
    StravaToken.objects.filter(athlete=athlete).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ReconnectNeeded):
        athlete_access_token(athlete_id=athlete.pk)
    athlete.refresh_from_db()
    assert athlete.needs_reconnect
