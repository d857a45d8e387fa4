"""GET /activities/{id}/streams: Strava's StreamSet, recorded or made up, the same every time."""

from __future__ import annotations

import random
from statistics import mean

import pytest
import requests

from sandbox import geo, services
from sandbox.models import SimActivity

from .conftest import API, bearer, grant

pytestmark = pytest.mark.django_db

ALL_KEYS = "time,latlng,distance,altitude,heartrate,watts,cadence,velocity_smooth,moving,grade_smooth"


def streams(api, activity_id: int, keys: str = ALL_KEYS, **params: object):
    return api.get(f"/activities/{activity_id}/streams", keys=keys, **params)


@pytest.fixture
def outdoor_ride(alice) -> SimActivity:
    """A seeded outdoor ride with a route, heart rate and power, whatever the seed drew."""
    activity = next(
        a
        for a in services.sim_activities_seed(alice, 40, segments=[], rng=random.Random(11))
        if a.summary_polyline and a.type == "Ride" and not a.private
    )
    SimActivity.objects.filter(pk=activity.pk).update(average_heartrate=140.0, max_heartrate=175.0, average_watts=200.0)
    activity.refresh_from_db()
    return activity


def test_key_by_type_gives_a_dict_of_strava_streams_built_from_the_activity(api, outdoor_ride):
    response = streams(api, outdoor_ride.pk, key_by_type="true")
    body = response.json()

    assert response.status_code == 200
    assert set(body) == set(ALL_KEYS.split(","))
    size = len(body["time"]["data"])
    for stream in body.values():
        assert set(stream) == {"data", "series_type", "original_size", "resolution"}
        assert (stream["series_type"], stream["original_size"], stream["resolution"]) == ("distance", size, "high")
        assert len(stream["data"]) == size
    assert body["time"]["data"][0] == 0 and body["time"]["data"][-1] == outdoor_ride.elapsed_time
    distance = body["distance"]["data"]
    assert distance == sorted(distance) and distance[-1] == pytest.approx(outdoor_ride.distance, abs=0.1)
    route = geo.polyline_decode(outdoor_ride.summary_polyline)
    assert body["latlng"]["data"][0] == pytest.approx(list(route[0]), abs=1e-5)
    assert body["latlng"]["data"][-1] == pytest.approx(list(route[-1]), abs=1e-5)
    altitude = body["altitude"]["data"]
    assert outdoor_ride.elev_low - 0.1 <= min(altitude) <= max(altitude) <= outdoor_ride.elev_high + 0.1
    assert mean(body["heartrate"]["data"]) == pytest.approx(140, abs=6)
    assert max(body["heartrate"]["data"]) <= 175
    moving_watts = [w for w, m in zip(body["watts"]["data"], body["moving"]["data"], strict=True) if m]
    assert mean(moving_watts) == pytest.approx(200, rel=0.1)


def test_without_key_by_type_the_streams_are_a_list_each_naming_its_type(api, outdoor_ride):
    body = streams(api, outdoor_ride.pk, keys="time,latlng").json()

    assert isinstance(body, list)
    assert [s["type"] for s in body] == ["time", "latlng", "distance"]
    assert all({"type", "data", "series_type", "original_size", "resolution"} == set(s) for s in body)


def test_the_same_activity_always_answers_the_same_streams(api, outdoor_ride):
    assert streams(api, outdoor_ride.pk).content == streams(api, outdoor_ride.pk).content


def test_only_the_streams_the_activity_has_are_returned(api, alice):
    indoor = services.sim_activities_seed(alice, 1, segments=[], rng=random.Random(12))[0]
    SimActivity.objects.filter(pk=indoor.pk).update(
        summary_polyline="", start_lat=None, start_lng=None, private=False, manual=False, average_watts=None, average_heartrate=None
    )

    body = streams(api, indoor.pk, key_by_type="true").json()

    assert "latlng" not in body and "watts" not in body and "heartrate" not in body
    assert {"time", "distance"} <= set(body)


def test_a_manual_activity_has_no_streams(api, alice):
    manual = services.sim_activities_seed(alice, 1, segments=[], rng=random.Random(13))[0]
    SimActivity.objects.filter(pk=manual.pk).update(manual=True, private=False)

    assert streams(api, manual.pk, key_by_type="true").json() == {}
    assert streams(api, manual.pk).json() == []


def test_a_recorded_track_is_served_as_recorded_with_derived_streams(api, outdoor_ride):
    services.sim_activity_streams_store(
        activity=outdoor_ride,
        streams={
            "time": [0, 1, 2, 3],
            "distance": [0.0, 5.0, 10.0, 15.0],
            "latlng": [[45.0, 6.0], [45.0, 6.0001], [45.0, 6.0002], [45.0, 6.0003]],
            "altitude": [400.0, 400.5, 401.0, 401.5],
            "heartrate": [120, 121, 122, 123],
        },
    )

    body = streams(api, outdoor_ride.pk, key_by_type="true").json()

    assert body["time"]["data"] == [0, 1, 2, 3] and body["time"]["original_size"] == 4
    assert body["heartrate"]["data"] == [120, 121, 122, 123]
    assert body["velocity_smooth"]["data"][1:] == [5.0, 5.0, 5.0]
    assert body["grade_smooth"]["data"][1:] == [10.0, 10.0, 10.0]
    assert "watts" not in body


def test_a_track_of_streams_of_different_lengths_is_refused(outdoor_ride):
    with pytest.raises(ValueError, match="different lengths"):
        services.sim_activity_streams_store(activity=outdoor_ride, streams={"time": [0, 1], "distance": [0.0]})


def test_streams_need_activity_read_and_read_all_for_a_private_activity(client, alice, outdoor_ride):
    SimActivity.objects.filter(pk=outdoor_ride.pk).update(private=True, visibility="only_me")
    path = f"{API}/activities/{outdoor_ride.pk}/streams"

    no_scope = client.get(path, {"keys": "time"}, **bearer(grant(alice, "read")))
    reader = client.get(path, {"keys": "time"}, **bearer(grant(alice, "read,activity:read")))
    full = client.get(path, {"keys": "time"}, **bearer(grant(alice, "read,activity:read_all")))

    assert no_scope.status_code == 401
    assert no_scope.json()["errors"][0]["field"] == "activity:read_permission"
    assert reader.status_code == 404
    assert full.status_code == 200


def test_another_athlete_s_or_an_unknown_activity_is_record_not_found(client, bob, outdoor_ride):
    theirs = client.get(f"{API}/activities/{outdoor_ride.pk}/streams", {"keys": "time"}, **bearer(grant(bob)))
    unknown = client.get(f"{API}/activities/1/streams", {"keys": "time"}, **bearer(grant(bob)))

    for response in (theirs, unknown):
        assert response.status_code == 404
        assert response.json() == {
            "message": "Record Not Found",
            "errors": [{"resource": "Activity", "field": "id", "code": "invalid"}],
        }


@pytest.mark.django_db(transaction=True)
def test_streams_over_http_are_metered_with_rate_limit_headers(sim_server, outdoor_ride, alice):
    token = grant(alice)

    response = requests.get(
        f"{sim_server}/api/v3/activities/{outdoor_ride.pk}/streams",
        params={"keys": "time,latlng,distance,altitude,heartrate,watts", "key_by_type": "true"},
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.headers["X-ReadRateLimit-Usage"] == "1,1"
    assert set(response.json()) == {"time", "latlng", "distance", "altitude", "heartrate", "watts"}
