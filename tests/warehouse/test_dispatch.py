"""The dispatcher's steps: permits first, claims second, one call per task; a new athlete fills by itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from .conftest import api_calls, summary_json


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_newly_connected_athlete_s_warehouse_fills_by_itself_through_the_dispatcher(sim_history):
    from stravasync.strava.dispatch import dispatch_tick
    from warehouse.models import Activity, SyncRun, SyncState

    athlete, sim_athlete = sim_history(210)
    assert not SyncState.objects.filter(athlete=athlete).exists()  # nobody asked for anything

    for _ in range(60):
        done = dispatch_tick()
        if not any(done.values()):
            break

    assert Activity.objects.filter(athlete=athlete).count() == 210
    assert Activity.objects.filter(athlete=athlete, detail_fetched_at__isnull=True).count() == 0
    calls = api_calls(sim_athlete.pk)
    assert calls["/api/v3/athlete/activities"] == 2  # 210 in pages of 200: ceil(210 / 200)
    details = {p: n for p, n in calls.items() if p.startswith("/api/v3/activities/")}
    assert len(details) == 210 and set(details.values()) == {1}  # (the segments app spends its own calls on segments)
    state = SyncState.objects.get(athlete=athlete)
    assert state.backfill_done and state.claimed_until is None and state.next_pull_at > timezone.now()
    pull_run = SyncRun.objects.get(athlete=athlete, kind="pull", trigger="dispatcher")
    assert (pull_run.calls, pull_run.created, pull_run.finished_at is not None) == (2, 210, True)
    enrich_run = SyncRun.objects.get(athlete=athlete, kind="enrich", trigger="dispatcher")
    assert enrich_run.calls == 210 and enrich_run.finished_at is not None


@pytest.mark.django_db
def test_enrich_dispatch_takes_only_the_permits_granted_and_hands_out_newest_first_athletes_in_turn(
        alice, bob, store, settings, monkeypatch):
    from stravasync.strava import quota
    from warehouse.models import Activity
    from warehouse.services import dispatch as services

    base = datetime(2025, 1, 1, tzinfo=UTC)
    store(*[summary_json(start=base + timedelta(days=i)) for i in range(6)])
    store(*[summary_json(start=base + timedelta(days=i), athlete_strava_id=bob.strava_id) for i in range(6)], athlete=bob)
    settings.QUOTA_READ_LIMIT_SHORT = 3
    settings.QUOTA_RESERVE_SHORT = [0, 0, 0, 0, 0, 0]
    quota.reset_for_tests()
    handed = []
    monkeypatch.setattr(services, "enrich_claimed", lambda *, activity_id, grant: handed.append((activity_id, grant)))

    assert services.enrich_dispatch(inline=True) == 3

    chosen = Activity.objects.filter(pk__in=[pk for pk, _ in handed])
    assert {a.athlete_id for a in chosen} == {alice.pk, bob.pk}  # both athletes served
    for athlete in (alice, bob):
        mine = chosen.filter(athlete=athlete)
        newest = Activity.objects.filter(athlete=athlete).order_by("-start_date")[: mine.count()]
        assert set(mine) == set(newest)  # each athlete's newest first
    assert all(grant["count"] == 1 for _, grant in handed)
    assert Activity.objects.filter(enrich_claimed_until__isnull=False).count() == 3  # claimed before handed out
    assert services.enrich_dispatch(inline=True) == 0  # the window is spent: nothing more, nothing claimed
    assert quota.quota_status()["usage"]["read"]["window"] == 3


@pytest.mark.django_db
def test_a_claim_whose_activity_got_its_details_meanwhile_gives_the_permit_back(alice, store):
    from stravasync.strava import quota
    from warehouse.models import Activity
    from warehouse.services import enrich_claimed

    activity = store(summary_json())[0]
    Activity.objects.filter(pk=activity.pk).update(detail={"id": 1}, detail_fetched_at=timezone.now())
    grant = quota.acquire(priority=quota.Priority.ENRICH)
    assert quota.quota_status()["usage"]["read"]["window"] == 1

    from dataclasses import asdict

    assert enrich_claimed(activity_id=activity.pk, grant=asdict(grant)) is False
    assert quota.quota_status()["usage"]["read"]["window"] == 0


@pytest.mark.django_db
def test_a_batch_claim_takes_only_free_activities_still_lacking_details_once_in_the_order_given(alice, store):
    from warehouse.models import Activity
    from warehouse.services.enrich import activities_claim

    now = timezone.now()
    first, second, third, fourth = store(*(summary_json(start=datetime(2025, 5, day, tzinfo=UTC)) for day in (4, 3, 2, 1)))
    Activity.objects.filter(pk=second.pk).update(detail_fetched_at=now)
    Activity.objects.filter(pk=third.pk).update(enrich_claimed_until=now + timedelta(seconds=60))

    assert activities_claim(activity_ids=[fourth.pk, third.pk, second.pk, first.pk], now=now) == [fourth.pk, first.pk]
    assert activities_claim(activity_ids=[fourth.pk, first.pk], now=now) == []  # taken: nobody takes them twice
    assert Activity.objects.get(pk=first.pk).enrich_claimed_until > now


@pytest.mark.django_db
def test_pulls_are_due_for_new_athletes_at_once_then_at_their_spread_out_slot(alice, bob, make_athlete, settings):
    from warehouse.models import SyncState
    from warehouse.services import next_pull_slot, sync_states_ensure
    from warehouse.services.dispatch import _pulls_due

    carol = make_athlete(strava_id=1003, firstname="Carol", scopes="read")  # no activity scope: never pulled
    assert sync_states_ensure() == 2
    now = timezone.now()
    assert set(_pulls_due(now).values_list("athlete_id", flat=True)) == {alice.pk, bob.pk}
    assert not SyncState.objects.filter(athlete=carol).exists()

    SyncState.objects.update(backfill_done=True, next_pull_at=now + timedelta(minutes=30))
    assert not _pulls_due(now).exists()

    settings.WAREHOUSE_PULL_INTERVAL = 3600
    slots = [next_pull_slot(athlete_id=pk, now=now) for pk in range(1, 101)]
    assert all(now + timedelta(minutes=30) < s <= now + timedelta(minutes=90) for s in slots)
    minutes = sorted({int((s.timestamp() % 3600) // 60) for s in slots})
    assert len(minutes) > 50  # 100 athletes land all over the hour, not in one burst
    assert next_pull_slot(athlete_id=7, now=now) == next_pull_slot(athlete_id=7, now=now + timedelta(seconds=5))


@pytest.mark.django_db
def test_a_pull_refused_by_the_quota_rests_until_then_and_releases_its_claim(alice, settings, monkeypatch):
    from stravasync.strava.errors import RateLimited
    from warehouse import services
    from warehouse.models import SyncState

    retry_at = timezone.now() + timedelta(minutes=7)

    def refuse(self, **kwargs):
        raise RateLimited("no permit", retry_at=retry_at, status=0)

    monkeypatch.setattr("stravasync.strava.client.StravaClient.list_activities", refuse)
    assert services.pulls_dispatch(inline=True) == 1

    state = SyncState.objects.get(athlete=alice)
    assert state.not_before == retry_at and state.claimed_until is None
    assert "waiting for the Strava quota" in state.last_error
    assert services.pulls_dispatch(inline=True) == 0  # resting


@pytest.mark.django_db
def test_backlogs_appear_in_the_quota_status_with_an_estimate(alice, store):
    from stravasync.strava.quota import quota_status

    store(*[summary_json(start=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=i)) for i in range(5)])
    rows = {row["backlog"]: row for row in quota_status()["backlog"]}
    assert rows["enrich"]["calls"] == 5 and rows["enrich"]["priority"] == "enrich" and rows["enrich"]["estimated_finish"]
    assert rows["pull"]["calls"] == 1  # alice has never been pulled


@pytest.mark.django_db
def test_the_tasks_run_a_whole_pull_or_enrich_through_the_quota_and_stop_when_it_says_wait(alice, store, monkeypatch):
    from stravasync.strava.errors import RateLimited
    from warehouse import tasks
    from warehouse.models import SyncRun

    listed = [summary_json(start=datetime(2025, 2, 1, tzinfo=UTC) - timedelta(days=i)) for i in range(3)]
    monkeypatch.setattr("stravasync.strava.client.StravaClient.list_activities",
                        lambda self, **kw: listed if kw.get("before") is None and not kw.get("after") else [])
    assert tasks.pull_athlete(alice.pk) == {"calls": 0, "created": 3, "updated": 0, "done": True}

    def refuse(self, activity_id, **kw):
        raise RateLimited("no permit", retry_at=timezone.now() + timedelta(minutes=3), status=0)

    monkeypatch.setattr("stravasync.strava.client.StravaClient.get_activity", refuse)
    assert tasks.enrich_athlete(alice.pk) == {"stopped": "no permit"}
    assert SyncRun.objects.filter(kind="enrich", trigger="task", finished_at__isnull=False).exists()


@pytest.mark.django_db
def test_the_admin_lists_activities_states_and_runs_and_its_actions_work(admin_client, alice, store):
    from django.urls import reverse

    from warehouse.models import Activity, SyncState
    from warehouse.services import sync_states_ensure

    activity = store(summary_json())[0]
    Activity.objects.filter(pk=activity.pk).update(detail={"id": 1}, detail_fetched_at=timezone.now())
    sync_states_ensure()
    for name in ("activity", "syncstate", "syncrun"):
        assert admin_client.get(reverse(f"admin:warehouse_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:warehouse_activity_change", args=[activity.pk])).status_code == 200
    admin_client.post(reverse("admin:warehouse_activity_changelist"),
                      {"action": "fetch_details_again", "_selected_action": [activity.pk]})
    assert Activity.objects.get(pk=activity.pk).detail_fetched_at is None
    state = SyncState.objects.get(athlete=alice)
    admin_client.post(reverse("admin:warehouse_syncstate_changelist"),
                      {"action": "walk_history_again", "_selected_action": [state.pk]})
    assert SyncState.objects.get(pk=state.pk).backfill_done is False
