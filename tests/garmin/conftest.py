"""The Garmin simulator over real HTTP, and athletes connected to it through the sign-in boundary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from ..conftest import DATA_DIR

RIDE = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit"
RUN = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_runs_Move_2020_01_15_19_27_16_Running.fit"
SWIM = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_swims_AleV_Swim_2015-02-09-16-15.fit"
PASSWORD = "Garmin-pa55word-that-must-never-be-kept"


@pytest.fixture
def garmin_sim(strava_sim, settings):
    """Garmin requests go to the simulator of the live test server, unpaced (the pacer has its own tests)."""
    settings.GARMIN_SANDBOX_URL = f"{strava_sim.url}/sandbox/garmin"
    settings.GARMIN_REQUEST_INTERVAL = 0.0
    return settings.GARMIN_SANDBOX_URL


@pytest.fixture
def garmin_account(garmin_sim) -> Callable:
    """`garmin_account(email, count=20, from_strava=())`: a simulated Garmin account, one activity a day up to today."""
    from sandbox.garmin import services as sim

    def make(email: str = "alice@example.com", *, count: int = 20, from_strava=(), mfa: bool = False):
        account = sim.garmin_account_seed(email=email, password=PASSWORD, mfa=mfa, files=[])
        activities = sim.garmin_activities_spread(account=account, files=[RIDE, RUN, SWIM], count=count,
                                                  last_day=timezone.now().date() - timedelta(days=1),
                                                  from_strava=from_strava)
        return account, activities

    return make


@pytest.fixture
def garmin_connected(garmin_sim, sim_connected_athlete):
    """`garmin_connected(email)`: a Strava-connected athlete who signed in to Garmin (the sandbox sign-in)."""
    from garmin.services import garmin_connect
    from garmin.signin import signin_start

    def connect(email: str = "alice@example.com", *, firstname: str = "Sim"):
        athlete = sim_connected_athlete(firstname=firstname)
        step = signin_start(email=email, password=PASSWORD)
        assert step.tokens, "no MFA on these accounts"
        garmin_connect(athlete=athlete, tokens=step.tokens)
        return athlete

    return connect
