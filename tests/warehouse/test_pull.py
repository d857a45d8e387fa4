"""Pull and backfill against the simulator, over HTTP: the acceptance counts, read from the simulator's log."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from .conftest import api_calls, list_queries

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_backfill_of_2000_activities_costs_at_most_ceil_2000_over_200_plus_1_list_calls(sim_history):
    from sandbox.models import SimActivity
    from warehouse.models import Activity, SyncRun, SyncState
    from warehouse.services import activities_pull

    athlete, sim_athlete = sim_history(2000)

    result = activities_pull(athlete_id=athlete.pk)

    calls = list_queries(sim_athlete.pk)
    assert len(calls) <= math.ceil(2000 / 200) + 1 == 11
    assert len(set(calls)) == len(calls)  # no page asked for twice
    assert api_calls(sim_athlete.pk) == {"/api/v3/athlete/activities": len(calls)}  # nothing else spent
    assert result.calls == len(calls) and result.done and result.backfill_done
    stored = set(Activity.objects.filter(athlete=athlete).values_list("strava_id", flat=True))
    assert stored == set(SimActivity.objects.filter(athlete=sim_athlete).values_list("pk", flat=True))
    state = SyncState.objects.get(athlete=athlete)
    assert state.watermark == max(SimActivity.objects.filter(athlete=sim_athlete).values_list("start_date", flat=True))
    run = SyncRun.objects.get(athlete=athlete, kind="pull")
    assert (run.calls, run.pages, run.created, run.finished_at is not None) == (len(calls), len(calls), 2000, True)


@pytest.mark.parametrize("now", [
    datetime(2026, 11, 30, 0, 0, 0, 500_000, tzinfo=UTC),
    datetime(2026, 11, 30, 4, 0, 0, 700_000, tzinfo=UTC),
    datetime(2026, 11, 30, 23, 59, 59, 900_000, tzinfo=UTC),
], ids=["just-after-midnight", "early-morning", "just-before-midnight"])
def test_a_history_seeded_at_any_hour_is_backfilled_within_the_acceptance_counts(sim_history, now):
    """Seeding clamps starts later than `now` to `now`: at every hour they must keep Strava's whole seconds."""
    from sandbox.models import SimActivity
    from sandbox.services import sim_activities_seed
    from warehouse.models import Activity, SyncState
    from warehouse.services import activities_pull

    athlete, sim_athlete = sim_history(380, now=now)
    sim_activities_seed(sim_athlete, 20, years=1 / (365 * 24), now=now)  # the last hour: most are clamped to `now`
    assert SimActivity.objects.filter(athlete=sim_athlete, start_date=now.replace(microsecond=0)).exists()

    result = activities_pull(athlete_id=athlete.pk)

    calls = list_queries(sim_athlete.pk)
    assert len(calls) <= math.ceil(400 / 200) + 1 and len(set(calls)) == len(calls)
    assert result.done and result.backfill_done
    assert Activity.objects.filter(athlete=athlete).count() == 400
    assert SyncState.objects.get(athlete=athlete).watermark == now.replace(microsecond=0)


def test_a_pull_with_nothing_new_costs_one_call_and_a_new_activity_is_found_by_the_next(sim_history):
    from sandbox.services import sim_activities_seed
    from warehouse.models import Activity
    from warehouse.services import activities_pull

    athlete, sim_athlete = sim_history(150)
    activities_pull(athlete_id=athlete.pk)
    before = len(list_queries(sim_athlete.pk))

    activities_pull(athlete_id=athlete.pk, pull_now=True)
    assert len(list_queries(sim_athlete.pk)) == before + 1
    assert list_queries(sim_athlete.pk)[-1].startswith("page=1&per_page=200&after=")

    # An activity recorded since: the next pull stores it, still one call.
    from django.utils import timezone

    new = sim_activities_seed(sim_athlete, 1, years=0.001, now=timezone.now())[0]
    result = activities_pull(athlete_id=athlete.pk, pull_now=True)
    assert len(list_queries(sim_athlete.pk)) == before + 2
    assert result.created == 1 and Activity.objects.filter(strava_id=new.pk).exists()


def test_a_backfill_killed_half_way_resumes_where_it_stopped_and_fetches_no_page_twice(sim_history):
    from sandbox.models import SimActivity
    from warehouse.models import Activity, SyncState
    from warehouse.services import activities_pull

    athlete, sim_athlete = sim_history(2000)
    pages = []

    class Killed(Exception):
        pass

    def kill_after_five(step, listed, upserted):
        pages.append(listed)
        if len(pages) == 5:
            raise Killed  # the process dies right after its fifth page is saved

    with pytest.raises(Killed):
        activities_pull(athlete_id=athlete.pk, on_page=kill_after_five)
    state = SyncState.objects.get(athlete=athlete)
    assert not state.backfill_done and state.backfill_cursor is not None
    assert Activity.objects.filter(athlete=athlete).count() >= 5 * 199

    activities_pull(athlete_id=athlete.pk)  # the restart

    calls = list_queries(sim_athlete.pk)
    assert len(calls) == len(set(calls))  # every query differs: no page fetched twice
    assert len(calls) <= math.ceil(2000 / 200) + 1
    assert Activity.objects.filter(athlete=athlete).count() == SimActivity.objects.filter(athlete=sim_athlete).count()


def test_a_full_pull_overwrites_changed_names_types_and_privacy_and_keeps_details(sim_history):
    from django.utils import timezone

    from sandbox.models import SimActivity
    from warehouse.models import Activity
    from warehouse.services import activities_pull

    athlete, sim_athlete = sim_history(60)
    activities_pull(athlete_id=athlete.pk)
    oldest = SimActivity.objects.filter(athlete=sim_athlete).order_by("start_date").first()
    Activity.objects.filter(strava_id=oldest.pk).update(detail={"kept": True}, detail_fetched_at=timezone.now())
    SimActivity.objects.filter(pk=oldest.pk).update(name="Renamed", sport_type="GravelRide", type="Ride", private=True)

    result = activities_pull(athlete_id=athlete.pk, full=True)

    stored = Activity.objects.get(strava_id=oldest.pk)
    assert (stored.name, stored.sport_type, stored.private) == ("Renamed", "GravelRide", True)
    assert stored.detail == {"kept": True} and stored.detail_fetched_at is not None
    assert result.updated == 1 and result.created == 0


def test_the_pull_command_prints_a_summary_and_leaves_a_run(sim_history):
    from warehouse.models import SyncRun

    athlete, sim_athlete = sim_history(250)
    out = StringIO()
    call_command("pull", "--athlete", str(athlete.strava_id), stdout=out)

    assert "2 page(s), 2 call(s), 250 created, 0 updated; history complete" in out.getvalue()
    out = StringIO()
    call_command("pull", "--athlete", str(athlete.strava_id), stdout=out)
    assert "1 page(s), 1 call(s), 0 created" in out.getvalue()
    assert SyncRun.objects.filter(athlete=athlete, kind="pull", finished_at__isnull=False).count() == 2


def test_a_pull_interrupted_before_its_first_page_says_so_instead_of_crashing(sim_history):
    """Ctrl+C on a new athlete's first pull: no page walked yet, so the history has no cursor."""
    from warehouse.management.commands.pull import Command

    class Interrupted(Command):
        def should_stop(self) -> bool:
            self.stopping = True  # as the first Ctrl+C does
            return True

    athlete, _ = sim_history(30)
    out = StringIO()
    call_command(Interrupted(), "--athlete", str(athlete.strava_id), stdout=out)

    assert "0 page(s), 0 call(s), 0 created" in out.getvalue()
    assert "history not started yet" in out.getvalue() and "stopped on request" in out.getvalue()


def test_pull_names_the_reason_when_no_athlete_is_connected(db):
    out = StringIO()
    call_command("pull", stdout=out)
    assert "no athlete is connected" in out.getvalue() and "Connect Strava in the web app first" in out.getvalue()


def test_pull_refuses_an_athlete_who_never_connected_and_says_where_to_connect(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Connect Strava in the web app first"):
        call_command("pull", "--athlete", "demo2", stdout=StringIO())
