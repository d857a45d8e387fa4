from __future__ import annotations

import io
import random
import time
from collections import Counter

import pytest
from django.core.management import call_command

from sandbox import services
from sandbox.models import SimActivity, SimAthlete, SimSegment, SimSegmentEffort

pytestmark = pytest.mark.django_db


def test_the_seed_command_creates_athletes_with_histories_and_runs_again():
    out = io.StringIO()
    call_command("sandbox_seed", "--athletes", "2", "--activities", "50", "--segments", "30", "--seed", "7", stdout=out)
    call_command("sandbox_seed", "--athletes", "1", "--activities", "10", "--segments", "30", stdout=io.StringIO())

    assert SimAthlete.objects.count() == 3
    assert list(SimAthlete.objects.order_by("id").values_list("username", flat=True)) == ["sim1", "sim2", "sim3"]
    assert SimActivity.objects.count() == 110
    assert SimSegment.objects.count() == 30
    assert "Seeded 2 athletes, 100 activities" in out.getvalue()


def test_a_seeded_history_is_a_plausible_mix(alice, segments):
    activities = services.sim_activities_seed(alice, 400, segments=segments, rng=random.Random(11))

    sports = Counter(a.type for a in activities)
    assert {"Ride", "Run", "Swim", "VirtualRide"} <= set(sports)
    assert sports["Ride"] > sports["Swim"]
    rides = [a for a in activities if a.type == "Ride"]
    assert all(3_000 < a.distance < 250_000 and 4 < a.average_speed < 12 for a in rides)
    assert any(a.average_watts for a in rides) and any(a.average_watts is None for a in rides)
    assert any(a.private for a in activities) and any(a.commute for a in activities)
    assert all(a.trainer and not a.summary_polyline for a in activities if a.type == "VirtualRide")
    assert len({a.start_date for a in activities}) == len(activities)
    assert all(a.gear_id for a in rides)


def test_efforts_crowd_onto_a_few_popular_segments(alice, segments):
    services.sim_activities_seed(alice, 300, segments=segments, rng=random.Random(12))

    per_segment = Counter(SimSegmentEffort.objects.values_list("segment_id", flat=True))
    per_activity = Counter(SimSegmentEffort.objects.values_list("activity_id", flat=True))
    top = sum(n for _, n in per_segment.most_common(5))

    assert max(per_activity.values()) <= 12
    assert top > 0.3 * sum(per_segment.values())
    assert SimSegmentEffort.objects.filter(pr_rank__isnull=False).exists()
    assert SimSegmentEffort.objects.exclude(activity__type__in=["Ride", "Run"]).count() == 0


def test_ten_athletes_with_two_thousand_activities_seed_quickly():
    started = time.monotonic()

    result = services.sim_seed(athletes=10, activities=2000, segments=300, seed=1)

    assert result.activities == 20_000
    assert SimActivity.objects.count() == 20_000
    assert time.monotonic() - started < 30


def test_the_demo_seed_fills_an_empty_simulator_once():
    call_command("sandbox_seed", "--demo", stdout=io.StringIO())
    athletes = SimAthlete.objects.count()

    out = io.StringIO()
    call_command("sandbox_seed", "--demo", stdout=out)

    assert athletes == 3
    assert SimAthlete.objects.count() == 3
    assert "already" in out.getvalue()


def test_every_start_date_the_seed_writes_has_strava_s_one_second_resolution(api, alice, segments):
    history = services.sim_activities_seed(alice, 60, segments=segments, rng=random.Random(4))
    efforts = SimSegmentEffort.objects.filter(athlete=alice)
    assert efforts.exists()

    stored = list(SimActivity.objects.filter(athlete=alice).values_list("start_date", flat=True))
    stored += list(efforts.values_list("start_date", flat=True))
    assert all(moment.microsecond == 0 for moment in stored)
    run = next(a for a in history if a.type == "Run" and not a.private and a.distance > 1000)
    body = api.get(f"/activities/{run.pk}").json()
    starts = [e["start_date"] for e in body["laps"] + body["best_efforts"] + body["segment_efforts"]]
    assert starts and all(s.endswith("Z") and len(s) == len("2024-05-01T06:12:00Z") for s in starts)
