"""GET /athletes/{id}/stats: Strava's ActivityStats, counted from the athlete's activities visible to everyone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.utils import timezone

from sandbox import services
from sandbox.models import SimActivity, SimAthlete, SimRequestLog
from sandbox.stats import athlete_stats

from .conftest import API, bearer, grant

pytestmark = pytest.mark.django_db

TOTAL_FIELDS = {"count", "distance", "moving_time", "elapsed_time", "elevation_gain", "achievement_count"}


def make(
    athlete: SimAthlete,
    sport_type: str,
    days_ago: float,
    *,
    visibility: str = "everyone",
    now: datetime | None = None,
    **fields: object,
) -> SimActivity:
    kind = "Ride" if "Ride" in sport_type else sport_type
    values = {"distance": 10_000.0, "moving_time": 1_800, "elapsed_time": 2_000, "total_elevation_gain": 100.0}
    return SimActivity.objects.create(
        athlete=athlete,
        name=sport_type,
        sport_type=sport_type,
        type=kind,
        start_date=((now or timezone.now()) - timedelta(days=days_ago)).replace(microsecond=0),
        visibility=visibility,
        private=visibility == "only_me",
        **{**values, **fields},
    )


def test_stats_count_rides_runs_and_swims_over_four_weeks_the_year_and_all_time(api, alice):
    make(alice, "Ride", 1, distance=50_000.0, achievement_count=2, elev_low=100.0, elev_high=900.0)
    make(alice, "VirtualRide", 2, distance=30_000.0)
    make(alice, "GravelRide", 400, distance=80_000.0)  # all-time only
    make(alice, "Run", 3)
    make(alice, "TrailRun", 40, moving_time=3_000)
    make(alice, "Swim", 5, distance=1_500.0, total_elevation_gain=0.0)
    make(alice, "Walk", 1)  # no family of its own
    make(alice, "Ride", 1, visibility="only_me", distance=999_000.0)  # Strava counts only "everyone"
    make(alice, "Ride", 1, visibility="followers_only")

    body = api.get(f"/athletes/{alice.pk}/stats").json()

    assert body["recent_ride_totals"] == {
        "count": 2,
        "distance": 80_000.0,
        "moving_time": 3_600,
        "elapsed_time": 4_000,
        "elevation_gain": 200.0,
        "achievement_count": 2,
    }
    assert body["all_ride_totals"]["count"] == 3 and body["all_ride_totals"]["distance"] == 160_000.0
    assert body["recent_run_totals"]["count"] == 1
    assert body["all_run_totals"]["moving_time"] == 4_800
    assert body["recent_swim_totals"]["distance"] == 1_500.0
    assert body["biggest_ride_distance"] == 80_000.0
    assert body["biggest_climb_elevation_gain"] == 800.0
    for period in ("recent", "ytd", "all"):
        for sport in ("ride", "run", "swim"):
            assert set(body[f"{period}_{sport}_totals"]) == TOTAL_FIELDS


def test_the_year_to_date_starts_on_the_first_of_january_in_the_athlete_s_timezone(alice):
    alice.timezone = "America/Los_Angeles"
    alice.save()
    now = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
    new_year_local = datetime(2024, 1, 1, 8, 30, tzinfo=UTC)  # 00:30 on 1 January in Los Angeles
    new_year_eve_local = datetime(2024, 1, 1, 7, 30, tzinfo=UTC)  # 23:30 on 31 December there
    make(alice, "Run", (now - new_year_local).total_seconds() / 86400, now=now)
    make(alice, "Run", (now - new_year_eve_local).total_seconds() / 86400, now=now)
    make(alice, "Run", 2, now=now)

    body = athlete_stats(athlete=alice, now=now)

    assert (body["ytd_run_totals"]["count"], body["recent_run_totals"]["count"], body["all_run_totals"]["count"]) == (2, 1, 3)


def test_an_athlete_without_activities_has_zero_totals(api, alice):
    body = api.get(f"/athletes/{alice.pk}/stats").json()

    assert body["all_ride_totals"] == dict.fromkeys(TOTAL_FIELDS, 0) | {"distance": 0.0, "elevation_gain": 0.0}
    assert body["biggest_ride_distance"] is None


def test_stats_from_a_seeded_history_add_up_to_its_activities(api, alice):
    history = services.sim_activities_seed(alice, 50, segments=[], rng=random.Random(21))
    public_runs = [a for a in history if a.sport_type in ("Run", "TrailRun") and a.visibility == "everyone"]

    body = api.get(f"/athletes/{alice.pk}/stats").json()

    assert body["all_run_totals"]["count"] == len(public_runs)
    assert body["all_run_totals"]["distance"] == pytest.approx(sum(a.distance for a in public_runs), abs=0.1)


def test_another_athlete_s_stats_are_forbidden(api, bob):
    response = api.get(f"/athletes/{bob.pk}/stats")

    assert response.status_code == 403
    assert response.json() == {
        "message": "Forbidden",
        "errors": [{"resource": "Athlete", "field": "id", "code": "forbidden"}],
    }


def test_an_unknown_athlete_id_is_forbidden_too_not_a_server_error(api):
    assert api.get(f"/athletes/{'9' * 24}/stats").status_code == 403


def test_stats_without_any_read_scope_are_a_missing_permission(client, alice):
    token = grant(alice, "activity:write")

    response = client.get(f"{API}/athletes/{alice.pk}/stats", **bearer(token))

    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "read_permission"


@pytest.mark.django_db(transaction=True)
def test_stats_over_http_are_metered_and_logged(sim_server, alice):
    token = grant(alice)

    response = requests.get(
        f"{sim_server}/api/v3/athletes/{alice.pk}/stats", headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10
    )

    assert response.status_code == 200
    assert response.headers["X-RateLimit-Usage"] == "1,1"
    assert SimRequestLog.objects.filter(path=f"/api/v3/athletes/{alice.pk}/stats", status=200).count() == 1
