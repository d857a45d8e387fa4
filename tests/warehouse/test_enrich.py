"""Enrich against the simulator: one call per activity, the efforts stored from the same payload."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from .conftest import api_calls

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_enrich_costs_exactly_one_call_per_activity_and_stores_its_efforts(sim_history):
    from sandbox.models import SimActivity, SimSegmentEffort
    from warehouse.models import Activity
    from warehouse.selectors import activities_without_details
    from warehouse.services import activities_enrich, activities_pull

    athlete, sim_athlete = sim_history(60)
    activities_pull(athlete_id=athlete.pk)
    assert activities_without_details(athlete=athlete).count() == 60

    fetched, failed, run = activities_enrich(athlete_id=athlete.pk)

    calls = api_calls(sim_athlete.pk)
    detail_paths = [p for p in calls if p.startswith("/api/v3/activities/")]
    assert (fetched, failed) == (60, 0)
    assert len(detail_paths) == 60 and set(calls[p] for p in detail_paths) == {1}  # one call each, never two
    assert sum(calls.values()) == 60 + calls["/api/v3/athlete/activities"]  # and no other call (no effort lookups)
    assert activities_without_details(athlete=athlete).count() == 0
    assert run.calls == 60 and run.finished_at is not None
    for activity in Activity.objects.filter(athlete=athlete):
        expected = SimSegmentEffort.objects.filter(activity_id=activity.strava_id).count()
        assert len(activity.detail["segment_efforts"]) == expected
        if apps.is_installed("segments"):
            assert activity.efforts_stored_at is not None
            assert activity.segment_efforts.count() == expected
    with_efforts = SimSegmentEffort.objects.filter(activity__athlete=sim_athlete).values("activity_id").distinct().count()
    assert with_efforts > 10  # the simulated history does have efforts to store
    # The details brought the columns up to date too (description, calories, device).
    sample = Activity.objects.filter(athlete=athlete, manual=False).first()
    assert sample.calories == SimActivity.objects.get(pk=sample.strava_id).calories

    # A second enrich has nothing to fetch.
    assert activities_enrich(athlete_id=athlete.pk)[0] == 0
    assert sum(api_calls(sim_athlete.pk).values()) == sum(calls.values())


def test_enrich_goes_newest_first_and_honours_limit_ids_and_dates(sim_history):
    from warehouse.models import Activity
    from warehouse.services import activities_enrich, activities_pull

    athlete, sim_athlete = sim_history(40)
    activities_pull(athlete_id=athlete.pk)
    newest = list(Activity.objects.filter(athlete=athlete).order_by("-start_date").values_list("strava_id", flat=True))

    out = StringIO()
    call_command("enrich", "--athlete", str(athlete.strava_id), "--limit", "3", stdout=out)
    assert set(Activity.objects.filter(detail_fetched_at__isnull=False).values_list("strava_id", flat=True)) == set(newest[:3])
    assert "3 activities enriched, 0 failed" in out.getvalue() and "37 still without details" in out.getvalue()

    oldest = newest[-1]
    call_command("enrich", "--ids", str(oldest), stdout=StringIO())
    assert Activity.objects.get(strava_id=oldest).detail_fetched_at is not None

    middle = Activity.objects.get(strava_id=newest[20]).start_date
    call_command("enrich", "--after", middle.date().isoformat(), "--before", middle.isoformat(), stdout=StringIO())
    assert Activity.objects.filter(start_date__date=middle.date(), start_date__lt=middle,
                                   detail_fetched_at__isnull=True).count() == 0

    assert activities_enrich(athlete_id=athlete.pk, strava_ids=[oldest])[0] == 0  # already there: no call
    assert activities_enrich(athlete_id=athlete.pk, strava_ids=[oldest], force=True)[0] == 1


def test_an_activity_gone_from_strava_is_recorded_and_rests(sim_history):
    from sandbox.models import SimActivity
    from warehouse.models import Activity, SyncRun
    from warehouse.selectors import activities_without_details
    from warehouse.services import activities_enrich, activities_pull, enrich_dispatch

    athlete, sim_athlete = sim_history(5)
    activities_pull(athlete_id=athlete.pk)
    gone = Activity.objects.filter(athlete=athlete).order_by("-start_date").first()
    SimActivity.objects.filter(pk=gone.strava_id).delete()

    fetched, failed, _run = activities_enrich(athlete_id=athlete.pk)

    assert (fetched, failed) == (4, 1)
    gone.refresh_from_db()
    assert "no longer shows it" in gone.enrich_error and gone.enrich_not_before is not None
    assert activities_without_details(athlete=athlete).count() == 1  # still owed, but resting
    assert enrich_dispatch(inline=True) == 0  # the dispatcher leaves it alone for now
    assert "no longer shows it" in SyncRun.objects.filter(kind="enrich").first().error
