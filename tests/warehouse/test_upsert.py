"""Bulk upsert and rollups: a constant number of queries per page, changes overwrite, details survive."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from .conftest import summary_json

pytestmark = pytest.mark.django_db


def page(count: int, *, base: datetime | None = None, **overrides) -> list[dict]:
    base = base or datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
    return [summary_json(activity_id=9_000_000_000 + i, start=base - timedelta(hours=7 * i), **overrides)
            for i in range(count)]


def test_a_page_of_200_is_stored_in_a_handful_of_queries_never_one_per_row(alice):
    from warehouse.models import Activity
    from warehouse.services import activities_upsert

    with CaptureQueriesContext(connection) as queries:
        result = activities_upsert(athlete_id=alice.pk, summaries=page(200))
    assert result.created == 200 and Activity.objects.count() == 200
    inserts = [q for q in queries if 'INSERT INTO "warehouse_activity"' in q["sql"]]
    assert len(inserts) == 1 and inserts[0]["sql"].startswith("200 times")  # one executemany for the page
    assert len(queries) <= 10  # plus the lookup of known ids, the rollups and the transaction

    with CaptureQueriesContext(connection) as queries:
        again = activities_upsert(athlete_id=alice.pk, summaries=page(200))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 200)
    assert len(queries) <= 3  # nothing changed: one SELECT, no write


def test_changed_names_types_and_privacy_overwrite_and_details_stay(alice):
    from warehouse.models import Activity
    from warehouse.services import activities_upsert

    first = page(3)
    activities_upsert(athlete_id=alice.pk, summaries=first)
    Activity.objects.update(detail={"kept": True}, detail_fetched_at=timezone.now(), description="mine")
    changed = [dict(first[0], name="Renamed"), dict(first[1], sport_type="GravelRide"), dict(first[2], private=True)]

    result = activities_upsert(athlete_id=alice.pk, summaries=changed)

    assert result.updated == 3
    rows = {a.strava_id: a for a in Activity.objects.all()}
    assert rows[first[0]["id"]].name == "Renamed"
    assert rows[first[1]["id"]].sport_type == "GravelRide"
    assert rows[first[2]["id"]].private is True
    assert all(a.detail == {"kept": True} and a.detail_fetched_at and a.description == "mine" for a in rows.values())


def test_a_cropped_activity_goes_back_to_the_enrich_backlog(alice):
    from warehouse.models import Activity
    from warehouse.services import activities_upsert

    summary = page(1)[0]
    activities_upsert(athlete_id=alice.pk, summaries=[summary])
    Activity.objects.update(detail={"old": True}, detail_fetched_at=timezone.now())
    activities_upsert(athlete_id=alice.pk, summaries=[dict(summary, kudos_count=99)])
    assert Activity.objects.get().detail_fetched_at is not None  # kudos are not the recording
    activities_upsert(athlete_id=alice.pk, summaries=[dict(summary, distance=30_000.0, elapsed_time=4000)])
    assert Activity.objects.get().detail_fetched_at is None


def test_another_athlete_s_activity_is_never_moved(alice, bob):
    from warehouse.models import Activity
    from warehouse.services import activities_upsert

    summary = page(1)[0]
    activities_upsert(athlete_id=alice.pk, summaries=[summary])
    result = activities_upsert(athlete_id=bob.pk, summaries=[dict(summary, name="Bob's now")])
    assert result.skipped == 1 and Activity.objects.get().athlete_id == alice.pk


def test_broken_summaries_are_skipped_not_fatal(alice):
    from warehouse.services import activities_upsert

    result = activities_upsert(athlete_id=alice.pk, summaries=[{"id": 1}, {"name": "no id"}, "junk", *page(1)])
    assert result.created == 1 and result.skipped == 1


def test_summary_columns_follow_strava_s_fields(alice):
    from warehouse.models import Activity
    from warehouse.services import activities_upsert

    summary = summary_json(start=datetime(2025, 5, 1, 22, 30, tzinfo=UTC))
    activities_upsert(athlete_id=alice.pk, summaries=[summary])
    a = Activity.objects.get()
    assert a.start_day == date(2025, 5, 2)  # 00:30 local: the local calendar day
    assert (a.start_lat, a.end_lng, a.gear_id, a.weighted_average_watts) == (38.5, -126.453, "b1234", 214)
    assert a.photo_count == 1 and a.summary_polyline.startswith("_p~iF") and a.summary == summary


def test_rollups_sum_weeks_and_months_per_sport_and_follow_changes(alice):
    from warehouse.models import Activity, Rollup
    from warehouse.services import activities_upsert, activity_store_detail

    monday = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
    summaries = [
        summary_json(activity_id=1_000_000_001, start=monday, sport_type="Ride", distance=10_000.0, moving_time=1800),
        summary_json(activity_id=1_000_000_002, start=monday + timedelta(days=2), sport_type="Ride", distance=5_000.0,
                     moving_time=900),
        summary_json(activity_id=1_000_000_003, start=monday + timedelta(days=3), sport_type="Run", distance=8_000.0,
                     moving_time=2400),
    ]
    activities_upsert(athlete_id=alice.pk, summaries=summaries)
    week = Rollup.objects.get(athlete=alice, period="week", start=date(2025, 3, 3), sport_type="Ride")
    assert (week.count, week.distance, week.moving_time) == (2, 15_000.0, 2700)
    month = Rollup.objects.get(athlete=alice, period="month", start=date(2025, 3, 1), sport_type="Run")
    assert (month.count, month.distance) == (1, 8_000.0)

    # The ride turns out to be a gravel ride: its old and new sports are both recomputed.
    activity = Activity.objects.get(strava_id=1_000_000_002)
    activity_store_detail(activity=activity, detail=dict(summaries[1], sport_type="GravelRide"))
    assert Rollup.objects.get(athlete=alice, period="week", sport_type="Ride").count == 1
    assert Rollup.objects.get(athlete=alice, period="week", sport_type="GravelRide").distance == 5_000.0

    # Rebuilt from scratch, the rollups are the same.
    before = sorted(Rollup.objects.values_list("period", "start", "sport_type", "count", "distance"))
    from warehouse.services import rollups_refresh

    rollups_refresh(athlete_id=alice.pk)
    assert sorted(Rollup.objects.values_list("period", "start", "sport_type", "count", "distance")) == before
