"""The login's first page of activities against a failing simulator: one short try, a reason, the page queued."""

from __future__ import annotations

import time

import pytest

from ops.selectors import dashboard_status

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def first_page_on(settings):
    settings.WAREHOUSE_FIRST_PAGE_AT_CONNECT = True
    settings.STRAVA_MAX_RETRIES = 3  # what the login must not spend
    from stravasync.strava import quota

    quota.reset_for_tests()


@pytest.fixture
def rider(strava_sim):
    from sandbox import services as sim

    rider = sim.sim_athlete_create(firstname="New", lastname="Rider")
    sim.sim_activities_seed(rider, 3, years=1)
    yield rider
    sim.sim_config_reset()


def _list_calls(sim_athlete_id: int) -> list[int]:
    from sandbox.models import SimRequestLog

    return list(SimRequestLog.objects.filter(athlete_id=sim_athlete_id, path="/api/v3/athlete/activities")
                .order_by("id").values_list("status", flat=True))


def _due_for_the_dispatcher(athlete_id: int) -> bool:
    from django.utils import timezone

    from warehouse.services.dispatch import _pulls_due

    return _pulls_due(timezone.now()).filter(athlete_id=athlete_id).exists()


def test_a_server_error_costs_the_login_one_try_and_the_dispatcher_fetches_the_page(
    first_page_on, rider, sim_connected_athlete
):
    from sandbox import services as sim
    from warehouse.models import Activity, SyncState
    from warehouse.services import pulls_dispatch

    sim.sim_config_update(error_rate=1.0)
    athlete = sim_connected_athlete(sim_athlete=rider)  # the login, as the OAuth callback runs it: no exception

    (status,) = _list_calls(rider.pk)  # one try, no retries while the person waits
    assert status >= 500
    assert not Activity.objects.filter(athlete=athlete).exists()
    state = SyncState.objects.get(athlete=athlete)
    assert "ServerError" in state.last_error and state.not_before is None
    reasons = dashboard_status(athlete=athlete).reasons
    assert reasons == ["Strava answered with an error, so your first activities are queued: "
                       "the background sync fetches them in a moment"]

    assert _due_for_the_dispatcher(athlete.pk)  # queued: the next tick takes it, at priority pull
    sim.sim_config_update(error_rate=0.0)
    pulls_dispatch(inline=True)
    assert Activity.objects.filter(athlete=athlete).count() == 3
    assert dashboard_status(athlete=athlete).reasons == []


def test_a_timeout_holds_the_login_no_longer_than_one_short_try(first_page_on, rider, sim_connected_athlete, settings):
    from sandbox import services as sim
    from warehouse.models import SyncState

    settings.WAREHOUSE_FIRST_PAGE_TIMEOUT = 0.3
    sim.sim_config_update(slow_rate=1.0, slow_seconds=1.5)
    athlete = sim_connected_athlete(sim_athlete=rider)

    state = SyncState.objects.get(athlete=athlete)
    assert "NetworkError" in state.last_error and state.not_before is None
    assert "Strava did not answer in time, so your first activities are queued" in dashboard_status(
        athlete=athlete).reasons[0]
    assert _due_for_the_dispatcher(athlete.pk)
    # The simulator answers the abandoned request later; wait for its log row so the test ends clean.
    deadline = time.monotonic() + 30
    while not _list_calls(rider.pk) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_list_calls(rider.pk)) == 1


def test_a_429_sends_the_person_on_with_the_resume_time(first_page_on, rider, sim_connected_athlete, settings):
    from ops.waits import clock
    from stravasync.strava.models import QuotaState
    from warehouse.models import Activity, SyncState

    settings.SANDBOX_READ_LIMIT_SHORT = 0  # Strava's read window is spent by others: the first read is refused
    athlete = sim_connected_athlete(sim_athlete=rider)

    assert _list_calls(rider.pk) == [429]
    assert not Activity.objects.filter(athlete=athlete).exists()
    closed_until = QuotaState.objects.get().closed_until
    assert SyncState.objects.get(athlete=athlete).not_before == closed_until  # queued until the window reopens
    history = next(s for s in dashboard_status(athlete=athlete).stages if s.key == "history")
    assert history.wait in (f"Strava's 15-minute allowance is spent; resumes at {clock(closed_until)}",
                            f"Strava's daily allowance is spent; resumes at {clock(closed_until)}")
