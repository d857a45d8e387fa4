"""Is this Garmin activity already on Strava? Decided from the warehouse alone: start ±2 min, compatible sport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activityfiles.sports import sports_compatible
from garmin.services import came_from_strava, strava_match
from warehouse.models import Activity

START = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(("first", "second", "same"), [
    ("Ride", "GravelRide", True), ("Run", "TrailRun", True), ("Walk", "Hike", True), ("Run", "Ride", False),
    ("Swim", "Run", False), ("", "Ride", True), ("Workout", "Run", True), ("NordicSki", "AlpineSki", True),
])
def test_sports_are_compatible_within_a_family_and_when_one_side_names_none(first, second, same):
    assert sports_compatible(first, second) is same
    assert sports_compatible(second, first) is same


@pytest.mark.django_db
def test_a_warehouse_activity_within_two_minutes_and_of_a_compatible_sport_is_the_match(alice, bob):
    Activity.objects.create(athlete=alice, strava_id=501, sport_type="GravelRide", start_date=START)
    Activity.objects.create(athlete=alice, strava_id=502, sport_type="Run", start_date=START + timedelta(hours=3))
    Activity.objects.create(athlete=bob, strava_id=503, sport_type="Run", start_date=START + timedelta(hours=6))

    assert strava_match(athlete_id=alice.pk, start=START + timedelta(seconds=119), sport="Ride") == 501
    assert strava_match(athlete_id=alice.pk, start=START - timedelta(seconds=120), sport="Ride") == 501
    assert strava_match(athlete_id=alice.pk, start=START + timedelta(seconds=121), sport="Ride") is None
    assert strava_match(athlete_id=alice.pk, start=START, sport="Run") is None  # a run is not that ride
    assert strava_match(athlete_id=alice.pk, start=START + timedelta(hours=3, minutes=1), sport="TrailRun") == 502
    # Another athlete's activity at the same start is never a match.
    assert strava_match(athlete_id=alice.pk, start=START + timedelta(hours=6), sport="Run") is None
    assert strava_match(athlete_id=alice.pk, start=None, sport="Run") is None


def test_an_activity_whose_origin_is_strava_is_recognised():
    assert came_from_strava({"activityId": 1, "manufacturer": "STRAVA"})
    assert not came_from_strava({"activityId": 2, "manufacturer": "GARMIN"})
    assert not came_from_strava({"activityId": 3})
