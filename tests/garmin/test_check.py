"""A check, against the Garmin and Strava simulators over HTTP: what is downloaded, skipped, saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from garmin import services
from garmin.models import GarminActivity, GarminConnection, GarminPacer
from garmin.pacing import PACER_ID
from sandbox.garmin import selectors as sim_selectors
from sandbox.garmin import services as sim
from sandbox.models import SimGarminRequest, SimRequestLog, SimUpload
from uploads import services as uploads
from uploads.models import Upload, UploadBatch
from warehouse.models import Activity

pytestmark = pytest.mark.django_db(transaction=True)
SINCE = (timezone.now() - timedelta(days=40)).date()


def _put_in_warehouse(athlete, activities) -> None:
    """Activities already on Strava: the warehouse holds them (start 70 s off, as devices and Strava differ)."""
    for n, activity in enumerate(activities):
        sport = {"cycling": "Ride", "running": "Run", "lap_swimming": "Swim"}.get(activity.type_key, "Workout")
        Activity.objects.create(athlete=athlete, strava_id=900_000 + n, sport_type=sport,
                                start_date=activity.start_time + timedelta(seconds=70))


def _strava_calls() -> int:
    return SimRequestLog.objects.count()


def test_twenty_activities_twelve_on_strava_exactly_eight_downloads_and_posts_and_the_next_check_downloads_none(
        garmin_account, garmin_connected):
    account, activities = garmin_account(count=20)
    athlete = garmin_connected()
    _put_in_warehouse(athlete, activities[:12])
    strava_calls = _strava_calls()

    result = services.garmin_check(athlete_id=athlete.pk, since=SINCE)

    assert (result.listed, result.on_strava, result.downloaded, result.failed) == (20, 12, 8, 0)
    assert sim_selectors.garmin_request_counts(account=account)["download"] == 8
    assert _strava_calls() == strava_calls, "deciding what Strava has must cost no Strava call"
    batch = UploadBatch.objects.get(pk=result.batch_id)
    assert batch.source == UploadBatch.Source.GARMIN
    queued = Upload.objects.filter(batch=batch)
    assert queued.count() == 8 and set(queued.values_list("status", flat=True)) == {"queued"}

    uploads.uploads_dispatch(inline=True)
    assert SimUpload.objects.count() == 8
    assert SimRequestLog.objects.filter(method="POST", path="/api/v3/uploads").count() == 8

    again = services.garmin_check(athlete_id=athlete.pk)
    assert again.downloaded == 0 and again.new == 0
    assert sim_selectors.garmin_request_counts(account=account)["download"] == 8
    states = GarminActivity.objects.filter(athlete=athlete).values_list("state", flat=True)
    assert sorted(states) == ["on_strava"] * 12 + ["sent"] * 8


def test_an_activity_uploaded_to_garmin_from_strava_is_not_sent_back(garmin_account, garmin_connected):
    account, activities = garmin_account(count=4, from_strava=[1, 3])
    athlete = garmin_connected()

    result = services.garmin_check(athlete_id=athlete.pk, since=SINCE)

    assert (result.from_strava, result.downloaded) == (2, 2)
    back = GarminActivity.objects.filter(athlete=athlete, state="from_strava")
    assert set(back.values_list("garmin_id", flat=True)) == {activities[1].activity_id, activities[3].activity_id}
    assert sim_selectors.garmin_request_counts(account=account)["download"] == 2


def test_three_refresh_cycles_in_a_row_each_save_the_rotated_refresh_token(garmin_account, garmin_connected):
    account, _ = garmin_account(count=2)
    athlete = garmin_connected()
    refresh_tokens = [_refresh_token(athlete)]
    for _ in range(3):
        sim.garmin_access_expire(account=account)
        result = services.garmin_check(athlete_id=athlete.pk, since=SINCE)
        assert not result.error
        refresh_tokens.append(_refresh_token(athlete))
    assert len(set(refresh_tokens)) == 4, "each refresh rotated the refresh token, and each new one was saved"
    assert GarminConnection.objects.get(athlete=athlete).refreshes == 3
    assert GarminConnection.objects.get(athlete=athlete).status == "connected"


def _refresh_token(athlete) -> str:
    import json

    return json.loads(GarminConnection.objects.get(athlete=athlete).tokens)["di_refresh_token"]


def test_a_revoked_session_asks_the_athlete_to_sign_in_and_never_retries_a_login(garmin_account, garmin_connected):
    account, _ = garmin_account(count=3)
    athlete = garmin_connected()
    sim.garmin_sessions_revoke(account=account)
    sign_ins = SimGarminRequest.objects.filter(path__contains="sso").count()

    result = services.garmin_check(athlete_id=athlete.pk, since=SINCE)

    connection = GarminConnection.objects.get(athlete=athlete)
    assert result.error == "Garmin needs you to sign in again"
    assert connection.status == "needs_signin" and connection.tokens == ""
    assert SimGarminRequest.objects.filter(path__contains="sso").count() == sign_ins  # no login retried
    assert services.garmin_checks_dispatch(inline=True) == 0  # and no more checks until the athlete signs in
    assert services.garmin_check(athlete_id=athlete.pk).skipped == "Garmin needs you to sign in again"
    from ops.selectors import dashboard_status
    from ops.waits import GARMIN_SIGNIN

    status = dashboard_status(athlete=athlete)
    assert GARMIN_SIGNIN in status.reasons
    (line,) = [stage for stage in status.stages if stage.key == "garmin"]
    assert line.wait == GARMIN_SIGNIN
    assert line.detail.startswith("needs sign-in") and "last check" in line.detail and "last error" in line.detail


def test_a_429_backs_off_every_check_then_they_resume(garmin_account, garmin_connected, settings):
    settings.GARMIN_BACKOFF_MIN = 600.0
    account, _ = garmin_account(count=3)
    athlete = garmin_connected()
    sim.garmin_faults_set(account=account, throttle_next=1)

    first = services.garmin_check(athlete_id=athlete.pk, since=SINCE)

    assert "slow down" in first.error and first.downloaded == 0
    pacer = GarminPacer.objects.get(pk=PACER_ID)
    assert pacer.rate_limited == 1 and pacer.backoff_until > timezone.now() + timedelta(seconds=590)
    assert GarminConnection.objects.get(athlete=athlete).next_check_at >= pacer.backoff_until
    GarminConnection.objects.filter(athlete=athlete).update(next_check_at=timezone.now())
    assert services.garmin_checks_dispatch(inline=True) == 0  # nobody is handed a check during the back-off

    GarminPacer.objects.filter(pk=PACER_ID).update(backoff_until=timezone.now() - timedelta(seconds=1))
    assert services.garmin_check(athlete_id=athlete.pk, since=SINCE).downloaded == 3


def test_one_athletes_long_backlog_does_not_starve_another(garmin_account, garmin_connected, settings):
    settings.GARMIN_DOWNLOADS_PER_CYCLE = 4
    garmin_account("long@example.com", count=12)
    garmin_account("short@example.com", count=3)
    long = garmin_connected("long@example.com", firstname="Long")
    short = garmin_connected("short@example.com", firstname="Short")
    GarminConnection.objects.update(backfill_since=SINCE)

    assert services.garmin_checks_dispatch(inline=True) == 2

    def sent(athlete) -> int:
        return GarminActivity.objects.filter(athlete=athlete, state="sent").count()

    assert (sent(long), sent(short)) == (4, 3)  # one cycle each: the short account is done, the long one capped
    long_connection = GarminConnection.objects.get(athlete=long)
    assert long_connection.next_check_at <= timezone.now() + timedelta(seconds=settings.GARMIN_BACKLOG_RECHECK)
    GarminConnection.objects.filter(athlete=long).update(next_check_at=timezone.now())
    services.garmin_checks_dispatch(inline=True)
    assert sent(long) == 8


def test_garmin_requests_of_two_athletes_checked_at_once_never_overlap(garmin_account, garmin_connected):
    import threading

    from django.db import connection

    garmin_account("one@example.com", count=6)
    garmin_account("two@example.com", count=6)
    athletes = [garmin_connected("one@example.com", firstname="One"), garmin_connected("two@example.com",
                                                                                     firstname="Two")]
    errors: list[BaseException] = []

    def check(athlete_id: int) -> None:
        try:
            result = services.garmin_check(athlete_id=athlete_id, since=SINCE)
            assert result.downloaded == 6, result
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=check, args=(a.pk,)) for a in athletes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert sim_selectors.garmin_max_concurrency() == 1


def test_the_demo_account_twelve_on_strava_found_by_the_pulled_warehouse_one_from_strava_seven_sent(
        garmin_sim, sim_connected_athlete):
    """The demo's chain end to end: Strava's simulator built its 12 activities from the same recordings,
    our pull brought them into the warehouse, and the check recognises each by start and sport."""
    from sandbox.garmin.services import garmin_demo_seed
    from sandbox.services import sim_athlete_create
    from warehouse.services.pull import activities_pull

    from .conftest import PASSWORD, RIDE, RUN, SWIM

    sim_athlete = sim_athlete_create(firstname="Demo", lastname="Rider")
    garmin_demo_seed(strava_athlete=sim_athlete, files=[RIDE, RUN, SWIM], email="demo@example.com", password=PASSWORD)
    athlete = sim_connected_athlete(sim_athlete=sim_athlete)
    activities_pull(athlete_id=athlete.pk)
    assert Activity.objects.filter(athlete=athlete).count() == 12
    from garmin.services import garmin_connect
    from garmin.signin import signin_start

    garmin_connect(athlete=athlete, tokens=signin_start(email="demo@example.com", password=PASSWORD).tokens)

    result = services.garmin_check(athlete_id=athlete.pk, since=SINCE)

    assert (result.listed, result.on_strava, result.from_strava, result.downloaded) == (20, 12, 1, 7)


def test_a_check_task_delivered_twice_runs_once(garmin_account, garmin_connected, settings):
    """The task carries the dispatcher's lease: a second delivery, after the first gave it back, does nothing."""
    from garmin import tasks

    account, _ = garmin_account(count=2)
    athlete = garmin_connected()
    GarminConnection.objects.filter(athlete=athlete).update(backfill_since=SINCE)
    lease = services._lease_take(GarminConnection.objects.get(athlete=athlete).pk, timezone.now())

    first = tasks.garmin_check(athlete.pk, lease.isoformat())
    second = tasks.garmin_check(athlete.pk, lease.isoformat())

    assert first["downloaded"] == 2 and second["skipped"] and second["downloaded"] == 0
    assert sim_selectors.garmin_request_counts(account=account)["download"] == 2
