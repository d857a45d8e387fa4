"""The dispatcher's steps for the warehouse: pulls and enrich take permits, claim rows, hand them to workers."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Athlete
from stravasync.strava import quota
from stravasync.strava.dispatch import permits_hand_out, ready_up_to
from stravasync.strava.errors import StravaError
from stravasync.strava.quota import Grant, Kind, Priority
from warehouse.models import Activity, SyncRun, SyncState
from warehouse.services.enrich import activities_claim, activity_enrich, activity_release
from warehouse.services.pull import PullResult, activities_pull
from warehouse.services.runs import sync_run, sync_run_finish


def connected_athletes() -> QuerySet[Athlete]:
    """Athletes whose activities we may read now."""
    return Athlete.objects.filter(
        token__isnull=False, needs_reconnect=False, disconnected_at__isnull=True, scopes__contains="activity:read"
    )


def _connected() -> Q:
    """The row's athlete is connected, as a probe of that one athlete per row: a scalar subquery, which
    PostgreSQL keeps as such (as IN or EXISTS it became a merge join that walked the athlete table from its
    first row at every step of fair_pick's walk through the backlog in athlete order)."""
    return Q(athlete_id=Subquery(connected_athletes().filter(pk=OuterRef("athlete_id")).order_by().values("pk")[:1]))


def sync_states_ensure() -> int:
    """A SyncState for every connected athlete: a newly connected one is due for its first pull at once."""
    missing = list(connected_athletes().filter(sync_state__isnull=True).values_list("pk", flat=True))
    SyncState.objects.bulk_create([SyncState(athlete_id=pk) for pk in missing], ignore_conflicts=True)
    return len(missing)


def _pulls_due(now: datetime) -> QuerySet[SyncState]:
    return SyncState.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        Q(backfill_done=False) | Q(pull_page__gt=0) | Q(next_pull_at__isnull=True) | Q(next_pull_at__lte=now),
        _connected(),
    )


def _enrich_ready(now: datetime) -> QuerySet[Activity]:
    return Activity.objects.filter(
        Q(enrich_not_before__isnull=True) | Q(enrich_not_before__lte=now),
        Q(enrich_claimed_until__isnull=True) | Q(enrich_claimed_until__lt=now),
        _connected(),
        detail_fetched_at__isnull=True,
    )


def pulls_dispatch(*, inline: bool = False) -> int:
    """Dispatcher step: take pull permits for the athletes due, claim each, hand one page to a worker."""
    now = timezone.now()
    sync_states_ensure()
    due = _pulls_due(now)
    lease = now + timedelta(seconds=settings.WAREHOUSE_CLAIM_TIMEOUT)

    def claim(pk: int) -> int | None:
        free = SyncState.objects.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=pk)
        if free.update(claimed_until=lease) != 1:
            return None
        return SyncState.objects.filter(pk=pk).values_list("athlete_id", flat=True).first()

    return permits_hand_out(
        ready=due, wanted=ready_up_to(due, settings.WAREHOUSE_PULL_BATCH), kind=Kind.READ,
        priority=Priority.PULL, fair_key="warehouse-pull", order_by=("id",), claim=claim,
        run=lambda athlete_id, permit: pull_claimed(athlete_id=athlete_id, grant=permit),
        task="warehouse.tasks.pull_page", label="warehouse pull athlete", inline=inline,
    )


def pull_claimed(*, athlete_id: int, grant: dict | None = None) -> PullResult | None:
    """A worker's half: one page of the athlete's pull with the dispatcher's permit, then the claim goes."""
    try:
        return activities_pull(athlete_id=athlete_id, max_calls=1, grant=grant, trigger=SyncRun.Trigger.DISPATCHER)
    except StravaError:
        return None  # recorded on the SyncState, which now rests until it may try again
    finally:
        SyncState.objects.filter(athlete_id=athlete_id).update(claimed_until=None)


def enrich_dispatch(*, inline: bool = False) -> int:
    """Dispatcher step: take enrich permits, claim that many activities (newest first, athletes in turn)."""
    now = timezone.now()
    ready = _enrich_ready(now)
    return permits_hand_out(
        ready=ready, wanted=ready_up_to(ready, settings.WAREHOUSE_ENRICH_BATCH),
        kind=Kind.READ, priority=Priority.ENRICH, fair_key="warehouse-enrich", order_by=("-start_date", "-id"),
        claim_all=lambda pks: activities_claim(activity_ids=pks, now=now),
        run=lambda pk, permit: enrich_claimed(activity_id=pk, grant=permit),
        task="warehouse.tasks.enrich_activity", label="warehouse enrich activity", inline=inline,
    )


def enrich_claimed(*, activity_id: int, grant: dict | None = None) -> bool:
    """A worker's half: enrich one claimed activity with the dispatcher's permit; book it on the athlete's run."""
    athlete_id = Activity.objects.filter(pk=activity_id).values_list("athlete_id", flat=True).first()
    if athlete_id is None:
        if grant:
            quota.release(Grant(**grant), 1, kind=Kind.READ)
        return False
    # The athlete's run is shared by the dispatcher's tasks: it ends with the backlog, or with an
    # error nobody expected (the next task opens a new one).
    with sync_run(kind=SyncRun.Kind.ENRICH, athlete_id=athlete_id, trigger=SyncRun.Trigger.DISPATCHER,
                  finish=False) as run:
        try:
            return activity_enrich(activity_id=activity_id, grant=grant, run=run)
        except StravaError:
            return False  # recorded on the activity, which rests until it may try again
        finally:
            activity_release(activity_id=activity_id)
            # Claimed ones still count: their tasks are running.
            owed = Activity.objects.filter(Q(enrich_not_before__isnull=True) | Q(enrich_not_before__lte=timezone.now()),
                                           athlete_id=athlete_id, detail_fetched_at__isnull=True)
            if not owed.exists():
                sync_run_finish(run)


def pull_pending_calls() -> int:
    """Calls the pull backlog needs now (a floor: an unfinished backfill's length is unknown)."""
    return _pulls_due(timezone.now()).count() + connected_athletes().filter(sync_state__isnull=True).count()


def enrich_pending_calls() -> int:
    """One call per activity still without details, for connected athletes."""
    return Activity.objects.filter(detail_fetched_at__isnull=True, athlete__in=connected_athletes()).count()

