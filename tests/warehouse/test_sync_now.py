""""Sync now" (the button and `/api/sync/`) and a new athlete's first page: priority interactive, over HTTP."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import list_queries


def _spend_reads(priority) -> int:
    """Background work takes every read permit its priority may have this window."""
    from stravasync.strava import quota

    spent = 0
    while True:
        grant = quota.acquire(kind=quota.Kind.READ, priority=priority, count=10)
        if not grant.granted:
            return spent
        spent += grant.count


@pytest.fixture(autouse=True)
def mid_window(monkeypatch, settings):
    """The quota's clock held in the middle of a window: spending a window must not see it roll over
    (these tests ran into the :30 boundary once and found a fresh window's permits)."""
    from stravasync.strava import quota

    length = settings.QUOTA_WINDOW_SECONDS
    moment = (time.time() // length) * length + length / 2
    monkeypatch.setattr(quota, "now_ts", lambda: moment)


@pytest.fixture
def signed_in(client):
    def sign_in(athlete) -> Client:
        client.force_login(athlete.user)
        return client

    return sign_in


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_post_api_sync_pulls_the_new_activities_and_answers_the_counts_and_the_rate_limit(
    sim_history, signed_in, settings
):
    from sandbox.services import sim_activities_seed
    from warehouse.models import Activity, SyncRun
    from warehouse.services import activities_pull

    athlete, sim_athlete = sim_history(30)
    activities_pull(athlete_id=athlete.pk)
    sim_activities_seed(sim_athlete, 3, years=1 / 365)  # a person rides three times more

    response = signed_in(athlete).post(reverse("sync-api"))

    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["new"], body["updated"], body["pages"], body["calls"]) == (True, 3, 0, 1, 1)
    assert Activity.objects.filter(athlete=athlete).count() == 33
    limits = body["rate_limit"]
    assert limits["read"]["window"]["used"] >= 1
    assert limits["read"]["window"]["remaining"] == limits["read"]["window"]["limit"] - limits["read"]["window"]["used"]
    assert set(limits["overall"]["daily"]) == {"limit", "used", "remaining"}
    assert limits["window_resets_in"] > 0 and limits["day_resets_in"] > 0
    run = SyncRun.objects.get(pk=body["run_id"])
    assert (run.trigger, run.created, run.calls, run.finished_at is not None) == ("web", 3, 1, True)


@pytest.mark.django_db
def test_post_api_sync_takes_its_calls_at_priority_interactive(alice, client, monkeypatch):
    from stravasync.strava.quota import Priority
    from warehouse.services import interactive
    from warehouse.services.pull import PullResult

    seen = {}

    def fake_pull(**kwargs):
        seen.update(kwargs)
        return PullResult(calls=1, pages=1, created=2, done=True)

    monkeypatch.setattr(interactive, "activities_pull", fake_pull)
    client.force_login(alice.user)
    body = client.post(reverse("sync-api")).json()
    assert seen["priority"] == Priority.INTERACTIVE and seen["pull_now"] and seen["history"] is False
    assert (body["new"], body["calls"]) == (2, 1)


@pytest.mark.django_db
def test_when_the_quota_says_wait_post_api_sync_answers_429_with_the_wait_and_its_reason(alice, client):
    from stravasync.strava.quota import Priority
    from warehouse.models import SyncRun

    _spend_reads(Priority.INTERACTIVE)
    client.force_login(alice.user)

    response = client.post(reverse("sync-api"))

    assert response.status_code == 429
    body = response.json()
    assert body["ok"] is False and body["reason"] == "rate_limited"
    assert 0 < body["retry_after"] <= 24 * 3600 and int(response["Retry-After"]) >= 1
    assert "try again in" in body["detail"]
    assert body["rate_limit"]["read"]["window"]["remaining"] == 0
    assert SyncRun.objects.get(athlete=alice).error  # the audit log says why
    # Queued, as the page's form queues it: the dispatcher pulls when the window reopens.
    from warehouse.models import SyncState

    assert body["queued"] is True and SyncState.objects.get(athlete=alice).next_pull_at is not None


@pytest.mark.django_db
def test_post_api_sync_needs_the_csrf_token_like_the_rest_of_the_api(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    assert client.post(reverse("sync-api")).status_code == 403


@pytest.mark.django_db
def test_api_sync_needs_a_signed_in_athlete(client):
    assert client.get(reverse("sync-api")).status_code == 302


@pytest.mark.django_db
def test_get_api_sync_lists_only_the_athletes_own_sync_runs(alice, bob, client):
    from warehouse.models import SyncRun

    mine = SyncRun.objects.create(kind="pull", athlete=alice, trigger="web", calls=2, created=5)
    SyncRun.objects.create(kind="pull", athlete=bob, trigger="web", calls=7)
    SyncRun.objects.create(kind="enrich", athlete=None, trigger="dispatcher")
    client.force_login(alice.user)

    body = client.get(reverse("sync-api")).json()

    assert [run["id"] for run in body["runs"]] == [mine.pk]
    assert (body["runs"][0]["new"], body["runs"][0]["calls"], body["runs"][0]["trigger"]) == (5, 2, "web")
    assert "rate_limit" in body


@pytest.mark.django_db
def test_a_second_sync_while_a_worker_pulls_the_athlete_answers_busy_and_fetches_nothing(alice, client):
    from datetime import timedelta

    from django.utils import timezone

    from warehouse.models import SyncState

    SyncState.objects.create(athlete=alice, claimed_until=timezone.now() + timedelta(minutes=5))
    client.force_login(alice.user)
    response = client.post(reverse("sync-api"))
    assert response.status_code == 409 and response.json()["reason"] == "busy"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_sync_now_button_pulls_at_once_and_says_how_many_came(sim_history, signed_in):
    from sandbox.services import sim_activities_seed
    from warehouse.models import Activity
    from warehouse.services import activities_pull

    athlete, sim_athlete = sim_history(10)
    activities_pull(athlete_id=athlete.pk)
    sim_activities_seed(sim_athlete, 2, years=1 / 365)

    response = signed_in(athlete).post(reverse("warehouse:sync"), follow=True)

    assert Activity.objects.filter(athlete=athlete).count() == 12
    assert "Pulled 2 new and 0 updated activities (1 Strava calls)." in response.content.decode()


@pytest.mark.django_db
def test_the_sync_now_button_queues_the_pull_when_the_quota_says_wait(alice, client):
    from stravasync.strava.quota import Priority
    from warehouse.models import SyncState

    _spend_reads(Priority.INTERACTIVE)
    client.force_login(alice.user)
    response = client.post(reverse("warehouse:sync"), follow=True)
    assert "your pull is queued and resumes at" in response.content.decode()
    assert SyncState.objects.get(athlete=alice).next_pull_at is not None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_new_athlete_sees_their_first_activities_when_background_work_spent_all_but_the_reserve(
    strava_sim, sim_connected_athlete, settings
):
    from sandbox.services import sim_activities_seed, sim_athlete_create
    from stravasync.strava import quota
    from stravasync.strava.quota import Priority
    from warehouse.models import Activity, SyncRun, SyncState

    settings.WAREHOUSE_FIRST_PAGE_AT_CONNECT = True
    quota.reset_for_tests()
    sim_athlete = sim_athlete_create(firstname="New", lastname="Rider")
    sim_activities_seed(sim_athlete, 450, years=3)
    # Background work (enrichment, pulls, uploads, webhooks) has had the window: only the reserve is left.
    spent = sum(_spend_reads(p) for p in (Priority.ENRICH, Priority.PULL, Priority.UPLOAD, Priority.WEBHOOK))
    assert spent == 98 and not quota.acquire(kind="read", priority=Priority.WEBHOOK).granted

    athlete = sim_connected_athlete(sim_athlete=sim_athlete)  # the login, as the OAuth callback runs it

    assert Activity.objects.filter(athlete=athlete).count() == 200  # the newest page, at once
    assert len(list_queries(sim_athlete.pk)) == 1
    run = SyncRun.objects.get(athlete=athlete)
    assert (run.trigger, run.calls, run.created, run.error) == ("web", 1, 200, "")
    state = SyncState.objects.get(athlete=athlete)
    assert state.watermark is not None and not state.backfill_done  # the rest follows at priority pull


@pytest.mark.django_db
def test_a_first_page_refused_by_the_quota_never_fails_the_login(alice, settings):
    from accounts.services import athlete_connect
    from stravasync.strava.quota import Priority
    from warehouse.models import Activity

    settings.WAREHOUSE_FIRST_PAGE_AT_CONNECT = True
    _spend_reads(Priority.INTERACTIVE)
    athlete = athlete_connect(user=alice.user, athlete_data={"id": alice.strava_id, "firstname": "Alice"},
                              token_payload={"access_token": "a", "refresh_token": "r", "expires_in": 21600},
                              scopes="read,activity:read_all")
    assert athlete.pk == alice.pk and not Activity.objects.filter(athlete=alice).exists()
