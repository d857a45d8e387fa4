"""Activities made and edited at Strava (the simulator, over HTTP) reach the warehouse through their events."""

from __future__ import annotations

import pytest
import requests

from tests.webhooks.conftest import request_log_mark, strava_calls

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def events_only(settings):
    """A tick of the events' step alone: what the warehouse holds comes from the events."""
    settings.DISPATCH_STEPS = ["webhooks.services.webhook_events_dispatch"]


def _api(athlete, method: str, path: str, **kwargs):
    """A call with the athlete's own token, as another application of theirs (or Strava's site) would make it."""
    from django.conf import settings

    from accounts.models import StravaToken

    token = StravaToken.objects.get(athlete=athlete).access_token
    return requests.request(method, f"{settings.STRAVA_API_URL}{path}", headers={"Authorization": f"Bearer {token}"},
                            timeout=10, **kwargs)


def test_a_manual_activity_created_at_strava_arrives_with_details_after_one_read(
    sim_connected_athlete, subscribed, events_only
):
    from sandbox.webhooks import deliveries_wait
    from stravasync.strava.dispatch import dispatch_tick
    from warehouse.models import Activity

    athlete = sim_connected_athlete(firstname="Manual")
    created = _api(athlete, "POST", "/activities", data={
        "name": "Treadmill", "sport_type": "VirtualRun", "start_date_local": "2024-03-04T07:00:00",
        "elapsed_time": "1800", "distance": "6000"})
    assert created.status_code == 201
    mark = request_log_mark()
    assert deliveries_wait()
    dispatch_tick()

    activity = Activity.objects.get(athlete=athlete)
    assert (activity.strava_id, activity.name, activity.sport_type) == (created.json()["id"], "Treadmill", "VirtualRun")
    assert activity.detail_fetched_at is not None
    assert strava_calls(athlete.strava_id, since=mark) == [
        (f"/api/v3/activities/{activity.strava_id}", "include_all_efforts=true")]


def test_an_edit_at_strava_changes_the_warehouse_with_no_call(sim_connected_athlete, subscribed, events_only):
    from sandbox.models import SimActivity, SimAthlete
    from sandbox.services import sim_activities_seed
    from sandbox.webhooks import deliveries_wait
    from stravasync.strava.dispatch import dispatch_tick
    from warehouse.models import Activity
    from webhooks.models import WebhookEvent

    athlete = sim_connected_athlete(firstname="Renamer")
    (seeded,) = sim_activities_seed(SimAthlete.objects.get(pk=athlete.strava_id), 1)
    SimActivity.objects.filter(pk=seeded.pk).update(sport_type="Ride", type="Ride", private=False)
    assert deliveries_wait()
    dispatch_tick()  # the create event: the activity is in the warehouse
    mark = request_log_mark()

    edited = _api(athlete, "PUT", f"/activities/{seeded.pk}", json={"name": "Col du Galibier", "sport_type": "GravelRide"})
    assert edited.status_code == 200
    assert deliveries_wait()
    dispatch_tick()

    activity = Activity.objects.get(strava_id=seeded.pk)
    assert (activity.name, activity.sport_type) == ("Col du Galibier", "GravelRide")
    (update,) = WebhookEvent.objects.filter(aspect_type="update")
    assert update.updates == {"title": "Col du Galibier", "type": "GravelRide"} and update.processed_at is not None
    assert strava_calls(athlete.strava_id, since=mark) == []  # the PUT was a write; no read followed
