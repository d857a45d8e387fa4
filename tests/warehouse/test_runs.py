"""Every run that is opened is closed, with its error, whatever the work raises."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from .conftest import summary_json

pytestmark = pytest.mark.django_db


class Boom(RuntimeError):
    pass


def explode(*args, **kwargs):
    raise Boom("the database went away")


def test_the_run_context_closes_a_run_with_the_error_and_raises_it_again(alice):
    from warehouse.models import SyncRun
    from warehouse.services import sync_run

    with pytest.raises(KeyError), sync_run(kind="pull", athlete_id=alice.pk, trigger="task"):
        raise KeyError("cursor")

    run = SyncRun.objects.get()
    assert run.finished_at is not None and run.error == "KeyError: 'cursor'"


def test_an_error_booked_before_the_failure_is_kept_as_the_run_s_reason(alice):
    from warehouse.models import SyncRun
    from warehouse.services import sync_run, sync_run_book

    with pytest.raises(Boom), sync_run(kind="enrich", athlete_id=alice.pk, trigger="task") as run:
        sync_run_book(run, error="activity 7: will retry: Server Error")
        explode()

    assert SyncRun.objects.get().error == "activity 7: will retry: Server Error"


def test_a_pull_task_that_meets_an_unexpected_error_finishes_its_run_with_it(alice, monkeypatch):
    from stravasync.strava.client import StravaClient
    from warehouse.models import SyncRun
    from warehouse.tasks import pull_athlete

    monkeypatch.setattr(StravaClient, "list_activities", explode)

    with pytest.raises(Boom):
        pull_athlete(alice.pk)

    run = SyncRun.objects.get(kind="pull", athlete=alice)
    assert run.finished_at is not None and run.error == "Boom: the database went away"


def test_a_dispatcher_s_pull_waiting_for_the_quota_keeps_its_run_open_for_the_next_page(alice, monkeypatch):
    from stravasync.strava.client import StravaClient
    from stravasync.strava.errors import RateLimited
    from warehouse.models import SyncRun
    from warehouse.services import activities_pull

    def limited(*args, **kwargs):
        raise RateLimited("Rate Limit Exceeded", retry_at=timezone.now() + timedelta(minutes=5))

    monkeypatch.setattr(StravaClient, "list_activities", limited)
    with pytest.raises(RateLimited):
        activities_pull(athlete_id=alice.pk, trigger=SyncRun.Trigger.DISPATCHER)
    run = SyncRun.objects.get(kind="pull", athlete=alice)
    assert run.finished_at is None and "waiting for the Strava quota" in run.error

    monkeypatch.setattr(StravaClient, "list_activities", explode)
    with pytest.raises(Boom):
        activities_pull(athlete_id=alice.pk, trigger=SyncRun.Trigger.DISPATCHER)
    run.refresh_from_db()
    assert run.finished_at is not None and SyncRun.objects.filter(finished_at__isnull=True).count() == 0


def test_an_enrich_task_that_meets_an_unexpected_error_finishes_its_run_and_frees_the_activity(alice, store, monkeypatch):
    from stravasync.strava.client import StravaClient
    from warehouse.models import Activity, SyncRun
    from warehouse.tasks import enrich_activity, enrich_athlete

    first, _second = store(summary_json(), summary_json(start=timezone.now() - timedelta(days=2)))
    monkeypatch.setattr(StravaClient, "get_activity", explode)

    with pytest.raises(Boom):
        enrich_activity(first.pk)  # the dispatcher's worker: the athlete's shared run
    with pytest.raises(Boom):
        enrich_athlete(alice.pk)  # a task walking the backlog

    runs = SyncRun.objects.filter(kind="enrich", athlete=alice)
    assert runs.count() == 2
    assert all(r.finished_at is not None and r.error == "Boom: the database went away" for r in runs)
    assert Activity.objects.filter(enrich_claimed_until__isnull=False).count() == 0
