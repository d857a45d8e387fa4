from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from sandbox import geo, services
from sandbox.models import SimActivity, SimSegmentEffort

from .conftest import API, bearer, grant

pytestmark = pytest.mark.django_db

SUMMARY_FIELDS = set(
    """
    id name sport_type type start_date start_date_local timezone distance moving_time elapsed_time
    total_elevation_gain elev_high elev_low average_speed max_speed average_watts weighted_average_watts
    max_watts kilojoules device_watts achievement_count kudos_count comment_count athlete_count
    photo_count total_photo_count trainer commute manual private flagged hide_from_home workout_type
    gear_id external_id upload_id upload_id_str start_latlng end_latlng map athlete resource_state
    """.split()
)
DETAILED_EXTRA = set(
    """
    description calories device_name embed_token gear laps splits_metric splits_standard best_efforts
    segment_efforts photos
    """.split()
)
EFFORT_FIELDS = set(
    """
    id activity_id activity athlete name elapsed_time moving_time start_date start_date_local distance
    start_index end_index average_cadence average_watts device_watts average_heartrate max_heartrate
    kom_rank pr_rank is_kom hidden segment
    """.split()
)
SEGMENT_FIELDS = set(
    """
    id name activity_type distance average_grade maximum_grade elevation_high elevation_low start_latlng
    end_latlng climb_category city state country private athlete_pr_effort
    """.split()
)


def epoch(activity: SimActivity) -> int:
    return int(activity.start_date.timestamp())


def newest_first(activities: list[SimActivity]) -> list[SimActivity]:
    return sorted(activities, key=lambda a: a.start_date, reverse=True)


def test_the_athlete_endpoint_answers_the_token_s_athlete(api, alice):
    body = api.get("/athlete").json()

    assert body["id"] == alice.pk
    assert body["firstname"] == "Alice" and body["resource_state"] == 2


def test_a_token_in_the_query_string_is_refused_even_with_a_valid_header(client, alice_token):
    response = client.get(f"{API}/athlete", {"access_token": alice_token.access_token}, **bearer(alice_token))
    query_only = client.get(f"{API}/athlete", {"access_token": alice_token.access_token})

    assert response.status_code == 401
    assert query_only.status_code == 401
    assert response.json()["message"] == "Authorization Error"


def test_an_unknown_token_is_an_authorization_error(client):
    response = client.get(f"{API}/athlete", HTTP_AUTHORIZATION="Bearer nope")

    assert response.status_code == 401
    assert response.json()["errors"] == [{"resource": "Athlete", "field": "access_token", "code": "invalid"}]


def test_reading_activities_without_activity_read_is_a_missing_permission(client, alice):
    token = grant(alice, "read,activity:write")

    response = client.get(f"{API}/athlete/activities", **bearer(token))

    assert response.status_code == 401
    assert response.json() == {
        "message": "Authorization Error",
        "errors": [{"resource": "AccessToken", "field": "activity:read_permission", "code": "missing"}],
    }


def test_uploading_without_activity_write_is_a_missing_write_permission(client, alice):
    token = grant(alice, "read,activity:read_all")

    response = client.post(f"{API}/uploads", {"data_type": "fit"}, **bearer(token))

    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "activity:write_permission"


def test_activities_come_newest_first_thirty_to_a_page(api, alice_history):
    visible = newest_first(alice_history)

    first = api.get("/athlete/activities").json()
    second = api.get("/athlete/activities", page=2).json()

    assert [a["id"] for a in first] == [a.pk for a in visible[:30]]
    assert [a["id"] for a in second] == [a.pk for a in visible[30:60]]
    assert SUMMARY_FIELDS <= set(first[0])
    assert first[0]["resource_state"] == 2
    assert first[0]["athlete"] == {"id": api.token.athlete_id, "resource_state": 1}


def test_per_page_is_capped_at_two_hundred(api, alice):
    services.sim_activities_seed(alice, 210, segments=[], rng=random.Random(9))

    assert len(api.get("/athlete/activities", per_page=500).json()) == 200
    assert len(api.get("/athlete/activities", per_page=200, page=2).json()) == 10


def test_before_and_after_are_exclusive_epoch_bounds(api, alice_history):
    ordered = newest_first(alice_history)
    newer, older = ordered[10], ordered[20]

    between = api.get("/athlete/activities", before=epoch(newer), after=epoch(older), per_page=200).json()

    assert [a["id"] for a in between] == [a.pk for a in ordered[11:20]]


def test_private_activities_need_activity_read_all(client, alice, alice_history):
    private = [a for a in alice_history if a.private]
    assert private, "the seed makes some activities private"
    reader = grant(alice, "read,activity:read")

    listed = client.get(f"{API}/athlete/activities", {"per_page": 200}, **bearer(reader)).json()
    detail = client.get(f"{API}/activities/{private[0].pk}", **bearer(reader))

    assert len(listed) == len(alice_history) - len(private)
    assert all(not a["private"] for a in listed)
    assert detail.status_code == 404


def test_dates_are_utc_with_z_and_local_also_with_z(api, alice):
    activity = services.sim_activities_seed(alice, 1, segments=[], rng=random.Random(5))[0]
    SimActivity.objects.filter(pk=activity.pk).update(start_date=datetime(2024, 5, 1, 6, 12, tzinfo=UTC), timezone="Europe/Paris")

    body = api.get(f"/activities/{activity.pk}").json()

    assert body["start_date"] == "2024-05-01T06:12:00Z"
    assert body["start_date_local"] == "2024-05-01T08:12:00Z"
    assert body["timezone"] == "(GMT+02:00) Europe/Paris"
    assert body["utc_offset"] == 7200


def test_a_detailed_activity_has_strava_s_fields_and_a_real_polyline(api, alice_history):
    outdoor = next(a for a in alice_history if a.summary_polyline and not a.private)

    body = api.get(f"/activities/{outdoor.pk}").json()

    assert (SUMMARY_FIELDS | DETAILED_EXTRA) <= set(body)
    assert body["resource_state"] == 3
    route = geo.polyline_decode(body["map"]["summary_polyline"])
    assert len(route) > 10
    assert route[0] == pytest.approx(route[-1], abs=1e-4)
    assert route[0] == pytest.approx(tuple(body["start_latlng"]), abs=1e-4)
    assert len(geo.polyline_decode(body["map"]["polyline"])) > len(route)
    assert sum(s["distance"] for s in body["splits_metric"]) == pytest.approx(body["distance"], rel=1e-3)
    assert sum(lap["moving_time"] for lap in body["laps"]) == pytest.approx(body["moving_time"], abs=len(body["laps"]))


def test_include_all_efforts_gives_every_effort_and_otherwise_only_notable_ones(api, alice_history):
    efforts = SimSegmentEffort.objects.filter(activity__private=False)
    activity_id = max(
        {e.activity_id for e in efforts},
        key=lambda pk: (efforts.filter(activity_id=pk).count(), pk),
    )
    everything = list(efforts.filter(activity_id=activity_id))
    notable = [e for e in everything if e.pr_rank or e.kom_rank]
    assert len(everything) > len(notable)

    full = api.get(f"/activities/{activity_id}", include_all_efforts="true").json()
    partial = api.get(f"/activities/{activity_id}").json()

    assert {e["id"] for e in full["segment_efforts"]} == {e.pk for e in everything}
    assert {e["id"] for e in partial["segment_efforts"]} == {e.pk for e in notable}
    effort = full["segment_efforts"][0]
    assert EFFORT_FIELDS <= set(effort)
    assert SEGMENT_FIELDS <= set(effort["segment"])
    assert effort["activity"] == {"id": activity_id, "resource_state": 1}


def test_another_athlete_s_activity_is_record_not_found(client, bob, alice_history):
    response = client.get(f"{API}/activities/{alice_history[0].pk}", **bearer(grant(bob)))

    assert response.status_code == 404
    assert response.json() == {
        "message": "Record Not Found",
        "errors": [{"resource": "Activity", "field": "id", "code": "invalid"}],
    }


def test_a_segment_is_detailed_with_the_athlete_s_stats_under_read_all(client, alice, alice_history):
    effort = SimSegmentEffort.objects.filter(athlete=alice).select_related("segment").first()
    segment = effort.segment
    mine = SimSegmentEffort.objects.filter(athlete=alice, segment=segment)
    best = min(mine, key=lambda e: e.elapsed_time)

    plain = client.get(f"{API}/segments/{segment.pk}", **bearer(grant(alice))).json()
    full = client.get(f"{API}/segments/{segment.pk}", **bearer(grant(alice, "read_all,activity:read"))).json()

    assert plain["resource_state"] == 3 and plain["name"] == segment.name
    assert {"created_at", "updated_at", "total_elevation_gain", "map", "effort_count", "athlete_count"} <= set(plain)
    assert "athlete_segment_stats" not in plain
    assert full["athlete_segment_stats"] == {
        "pr_elapsed_time": best.elapsed_time,
        "pr_date": best.start_date.date().isoformat(),
        "effort_count": mine.count(),
    }


def test_an_unknown_segment_or_path_is_record_not_found(api):
    missing = api.get("/segments/1")
    nowhere = api.get("/gear/b1")

    assert missing.status_code == 404
    assert missing.json()["errors"][0]["resource"] == "Segment"
    assert nowhere.status_code == 404


def test_ids_live_in_strava_s_ranges(alice, alice_history, segments):
    assert alice.pk >= 30_000_000
    assert min(a.pk for a in alice_history) > 2**32
    assert segments[0].pk >= 5_000_000


def test_profile_read_all_gives_the_detailed_athlete(client, alice):
    body = client.get(f"{API}/athlete", **bearer(grant(alice, "read,profile:read_all"))).json()

    assert body["resource_state"] == 3
    assert body["bikes"] and body["shoes"]
