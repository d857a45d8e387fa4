"""Webhooks off for an hour, 5 activities created meanwhile: the daily reconciliation pull finds all 5.

With a live subscription the hourly pull becomes a daily reconciliation (warehouse.services.pull_interval).
The app's clock is moved by hand: `django.utils.timezone.now` runs `offset` ahead of the wall clock. The
simulator's quota windows and token lifetimes stay on the wall clock; tokens are made to outlive the day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.webhooks.conftest import request_log_mark, strava_calls

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HISTORY = 20


class Clock:
    """The app's `timezone.now()`, `offset` ahead of the wall clock."""

    def __init__(self, real_now: Callable[[], datetime]) -> None:
        self.real_now = real_now
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self.real_now() + self.offset

    def to(self, moment: datetime) -> None:
        self.offset = moment - self.real_now()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    from django.utils import timezone

    moved = Clock(timezone.now)
    monkeypatch.setattr(timezone, "now", moved.now)
    return moved


def _create_at_strava(athlete, *, ends: datetime, number: int) -> int:
    """A manual activity ending at `ends`, made with the athlete's token (`POST /activities`, as another app would)."""
    from django.conf import settings

    from accounts.models import StravaToken

    local = (ends - timedelta(minutes=40)).astimezone(ZoneInfo(_timezone(athlete)))
    response = requests.post(
        f"{settings.STRAVA_API_URL}/activities", timeout=10,
        headers={"Authorization": f"Bearer {StravaToken.objects.get(athlete=athlete).access_token}"},
        data={"name": f"Lunch run {number}", "sport_type": "Run", "elapsed_time": "2400", "distance": "8000",
              "start_date_local": local.replace(tzinfo=None).isoformat()},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _timezone(athlete) -> str:
    from sandbox.models import SimAthlete

    return SimAthlete.objects.get(pk=athlete.strava_id).timezone or "UTC"


def test_activities_created_while_webhooks_were_down_are_found_by_the_daily_reconciliation(
    sim_connected_athlete, subscribed, clock, settings
):
    settings.DISPATCH_STEPS = ["webhooks.services.webhook_events_dispatch", "warehouse.services.pulls_dispatch"]
    settings.SANDBOX_TOKEN_LIFETIME = 3 * 86400  # no refresh on the day's jump: the calls counted are the pull's
    from sandbox import services as sim
    from sandbox.webhooks import deliveries_wait
    from stravasync.strava.dispatch import dispatch_tick
    from warehouse.models import Activity, SyncState
    from webhooks.models import WebhookEvent

    start = clock.now()
    history_athlete = sim.sim_athlete_create(firstname="Offline", lastname="Rider")
    sim.sim_activities_seed(history_athlete, HISTORY, now=start - timedelta(hours=2))
    athlete = sim_connected_athlete(sim_athlete=history_athlete)
    dispatch_tick()  # the first pull: the whole (short) history in one page, and the watermark
    state = SyncState.objects.get(athlete=athlete)
    assert Activity.objects.filter(athlete=athlete).count() == HISTORY and state.backfill_done
    # Subscribed: the next pull is the daily reconciliation, at least half a day away.
    assert state.next_pull_at - start >= timedelta(hours=12)

    sim.sim_config_update(webhooks_down=True)
    created = []
    for number in range(5):  # one every 12 minutes through the hour
        clock.to(start + timedelta(minutes=12 * number + 5))
        created.append(_create_at_strava(athlete, ends=clock.now(), number=number))
    clock.to(start + timedelta(hours=1))
    sim.sim_config_update(webhooks_down=False)
    assert deliveries_wait()
    assert not WebhookEvent.objects.filter(object_id__in=created).exists()  # lost, as Strava's would be

    mark = request_log_mark()
    dispatch_tick()  # an hour on: without webhooks this would be the hourly pull; now nothing is due
    assert strava_calls(athlete.strava_id, since=mark) == []
    assert not Activity.objects.filter(strava_id__in=created).exists()

    clock.to(SyncState.objects.get(athlete=athlete).next_pull_at + timedelta(seconds=1))
    dispatch_tick()

    assert set(Activity.objects.filter(athlete=athlete, strava_id__in=created).values_list("strava_id", flat=True)) \
        == set(created)
    assert Activity.objects.filter(athlete=athlete).count() == HISTORY + 5
    # One page of `after=<watermark>` found them all: one read call for the day.
    ((path, query),) = strava_calls(athlete.strava_id, since=mark)
    assert path == "/api/v3/athlete/activities"
    assert f"after={int(state.watermark.timestamp())}" in query.split("&")
    state.refresh_from_db()
    assert state.next_pull_at - clock.now() >= timedelta(hours=12)  # and the next reconciliation a day on
