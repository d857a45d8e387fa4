"""Activities made and edited at the simulator: `POST`/`PUT /activities`, seeding, and the events they push."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
import responses

from sandbox import services, webhooks
from sandbox.models import SimActivity, SimPushSubscription
from tests.sandbox.conftest import API, bearer, grant

# Transactional: events leave once the edit commits, as they do in production.
pytestmark = pytest.mark.django_db(transaction=True)
HOOK = "http://app.test/hook"


@pytest.fixture
def events():
    """The subscription's callback, answering 200; yields a function returning the events it received."""
    SimPushSubscription.objects.create(client_id="sandbox", callback_url=HOOK, verify_token="t")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        hook = mock.post(HOOK, json={})

        def received() -> list[dict]:
            assert webhooks.deliveries_wait()
            return [json.loads(call.request.body) for call in hook.calls]

        yield received


@pytest.fixture
def ride(alice) -> SimActivity:
    """One of Alice's seeded activities, made a public Ride whatever the random draw (before any grant)."""
    (activity,) = services.sim_activities_seed(alice, 1, rng=random.Random(5))
    SimActivity.objects.filter(pk=activity.pk).update(type="Ride", sport_type="Ride", private=False, name="Morning Ride")
    activity.refresh_from_db()
    return activity


def _put(client, token, activity_id: int, body: dict):
    return client.put(f"{API}/activities/{activity_id}", json.dumps(body), content_type="application/json",
                      **bearer(token))


# --- PUT /activities/{id} ------------------------------------------------------------------------
def test_renaming_and_changing_the_sport_pushes_an_update_with_title_and_type(client, ride, alice_token, events):
    response = _put(client, alice_token, ride.pk, {"name": "Hill repeats", "sport_type": "GravelRide"})

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["sport_type"], response.json()["type"]) == (
        "Hill repeats", "GravelRide", "Ride")
    (event,) = events()
    assert {k: event[k] for k in ("object_type", "object_id", "aspect_type", "owner_id", "updates")} == {
        "object_type": "activity", "object_id": ride.pk, "aspect_type": "update", "owner_id": ride.athlete_id,
        "updates": {"title": "Hill repeats", "type": "GravelRide"},
    }


def test_a_form_encoded_put_works_as_stravalib_sends_it(client, ride, alice_token, events):
    response = client.put(f"{API}/activities/{ride.pk}", "name=Commute+home&commute=true",
                          content_type="application/x-www-form-urlencoded", **bearer(alice_token))

    assert response.status_code == 200 and response.json()["commute"] is True
    assert [e["updates"] for e in events()] == [{"title": "Commute home"}]


def test_edits_strava_does_not_announce_push_nothing(client, ride, alice_token, events):
    body = {"description": "legs", "gear_id": "b2", "commute": True, "hide_from_home": True, "name": ride.name}
    assert _put(client, alice_token, ride.pk, body).status_code == 200

    ride.refresh_from_db()
    assert (ride.description, ride.gear_id, ride.commute, ride.hide_from_home) == ("legs", "b2", True, True)
    assert events() == []


def test_a_privacy_change_on_strava_com_reaches_a_grant_that_reads_private_activities(ride, alice_token, events):
    services.sim_activity_update(activity=ride, changes=services.ActivityChanges(private=True))

    assert [e["updates"] for e in events()] == [{"private": "true"}]


def test_a_grant_without_read_all_hears_of_the_title_but_not_of_the_privacy(alice, ride, events):
    grant(alice, "read,activity:read,activity:write")
    services.sim_activity_update(activity=ride, changes=services.ActivityChanges(name="Quiet one", private=True))

    assert [e["updates"] for e in events()] == [{"title": "Quiet one"}]


@pytest.mark.parametrize("body, field", [({"sport_type": "Quidditch"}, "sport_type"), ({"type": "Quidditch"}, "type"),
                                         ({"name": "  "}, "name"), ({"commute": "maybe"}, "commute")])
def test_a_bad_edit_is_strava_s_400_and_changes_nothing(client, ride, alice_token, body, field):
    response = _put(client, alice_token, ride.pk, body)

    assert response.status_code == 400
    assert response.json()["errors"] == [{"resource": "Activity", "field": field, "code": "invalid"}]
    assert SimActivity.objects.get(pk=ride.pk).name == ride.name


def test_editing_needs_activity_write_and_the_athlete_s_own_activity(client, ride, alice, bob):
    read_only = grant(alice, "read,activity:read_all")
    assert _put(client, read_only, ride.pk, {"name": "x"}).status_code == 401
    assert _put(client, grant(bob), ride.pk, {"name": "x"}).status_code == 404
    assert SimActivity.objects.get(pk=ride.pk).name == ride.name


# --- POST /activities --------------------------------------------------------------------------
def test_a_manual_activity_starts_at_the_athlete_s_local_time_and_is_announced(client, alice, alice_token, events):
    alice.timezone = "Europe/Paris"
    alice.save()
    response = client.post(f"{API}/activities", {
        "name": "Spin class", "sport_type": "VirtualRide", "start_date_local": "2024-07-01T18:30:00Z",
        "elapsed_time": "3600", "distance": "30000", "trainer": "1"}, **bearer(alice_token))

    assert response.status_code == 201
    body = response.json()
    activity = SimActivity.objects.get(pk=body["id"])
    assert activity.start_date == datetime(2024, 7, 1, 16, 30, tzinfo=UTC)  # 18:30 in Paris, in summer
    assert (body["manual"], body["trainer"], body["sport_type"], body["distance"]) == (True, True, "VirtualRide", 30000.0)
    assert not activity.efforts.exists() and activity.summary_polyline == ""
    assert [(e["aspect_type"], e["object_id"], e["updates"]) for e in events()] == [("create", activity.pk, {})]


@pytest.mark.parametrize("missing", ["name", "sport_type", "start_date_local", "elapsed_time"])
def test_a_manual_activity_without_a_required_field_is_refused(client, alice_token, missing):
    body = {"name": "Walk", "sport_type": "Walk", "start_date_local": "2024-07-01T08:00:00", "elapsed_time": "600"}
    del body[missing]
    response = client.post(f"{API}/activities", body, **bearer(alice_token))

    assert response.status_code == 400
    assert response.json()["errors"] == [{"resource": "Activity", "field": missing, "code": "missing"}]
    assert not SimActivity.objects.exists()


@pytest.mark.parametrize("field, value", [("start_date_local", "yesterday"), ("elapsed_time", "ten"),
                                          ("elapsed_time", "0"), ("distance", "nan"), ("sport_type", "Jousting"),
                                          ("start_date_local", "0001-01-01T00:00:00")])
def test_a_manual_activity_with_a_bad_value_is_refused(client, alice, alice_token, field, value):
    alice.timezone = "Asia/Tokyo"  # year 1 at midnight local is before year 1 in UTC
    alice.save()
    body = {"name": "Walk", "sport_type": "Walk", "start_date_local": "2024-07-01T08:00:00", "elapsed_time": "600"}
    response = client.post(f"{API}/activities", {**body, field: value}, **bearer(alice_token))

    assert response.status_code == 400 and response.json()["errors"][0]["field"] == field
    assert not SimActivity.objects.exists()


# --- seeding and the switch ----------------------------------------------------------------------
def test_seeding_a_connected_athlete_announces_each_activity_and_an_unconnected_one_none(alice, bob, events):
    grant(alice)
    seeded = services.sim_activities_seed(alice, 3, rng=random.Random(6))
    services.sim_activities_seed(bob, 2, rng=random.Random(7))

    received = events()
    assert sorted((e["aspect_type"], e["object_id"], e["owner_id"]) for e in received) == sorted(
        ("create", a.pk, alice.pk) for a in seeded)


def test_with_webhooks_down_the_events_are_lost(client, ride, alice_token, events):
    services.sim_config_update(webhooks_down=True)
    _put(client, alice_token, ride.pk, {"name": "Unheard"})
    services.sim_config_update(webhooks_down=False)
    _put(client, alice_token, ride.pk, {"name": "Heard"})

    assert [e["updates"] for e in events()] == [{"title": "Heard"}]
