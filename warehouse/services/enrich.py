"""Enrich: one `GET /activities/{id}?include_all_efforts=true` per activity, under the activity's lease.

An activity without details is the enrich backlog itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from stravasync.strava import quota
from stravasync.strava.client import StravaClient
from stravasync.strava.errors import RateLimited, StravaError, SubscriptionInactive
from stravasync.strava.quota import Grant, Kind, Priority
from warehouse.models import Activity, SyncRun
from warehouse.selectors import activities_to_enrich
from warehouse.services.runs import _permit, _rest_until, sync_run, sync_run_book
from warehouse.services.store import activity_store_detail


def _activity(activity_id: int) -> Activity | None:
    """By our primary key; a Strava id is accepted too (they never overlap: Strava's exceed 10^9)."""
    return Activity.objects.filter(pk=activity_id).first() or Activity.objects.filter(strava_id=activity_id).first()


def activity_enrich(
    *,
    activity_id: int,
    priority: Priority = Priority.ENRICH,
    grant: dict | Grant | None = None,
    force: bool = False,
    run: SyncRun | None = None,
) -> bool:
    """Fetch the activity's details once (`GET /activities/{id}?include_all_efforts=true`) and store them.

    The same payload carries every segment effort: subscribers of `activity_detail_stored` (the
    segments app) read them from `detail`, so efforts never cost a second call. Returns True
    if a call was made. StravaErrors are recorded on the activity and the run, then raised,
    so the caller can reschedule. A permit handed in but not spent is given back.
    """
    activity = _activity(activity_id)
    permit = _permit(grant)
    # A row known only from a file has nothing at Strava to fetch (yet).
    if activity is None or activity.strava_id is None or (activity.detail_fetched_at is not None and not force):
        if permit is not None:
            quota.release(permit, 1, kind=Kind.READ)
        return False
    with ExitStack() as scope:
        if run is None:  # a run of its own, closed (with the error) whatever happens
            run = scope.enter_context(sync_run(kind=SyncRun.Kind.ENRICH, athlete_id=activity.athlete_id,
                                               trigger=SyncRun.Trigger.TASK))
        client = StravaClient(athlete_id=activity.athlete_id, priority=priority, grant=permit)
        try:
            detail = client.get_activity(activity.strava_id, include_all_efforts=True)
        except StravaError as exc:
            _enrich_failed(activity, exc, run=run, calls=client.calls)
            raise
        changed = activity_store_detail(activity=activity, detail=detail)
        sync_run_book(run, calls=client.calls, pages=1, updated=1 if changed else 0)
    return True


def _enrich_failed(activity: Activity, exc: StravaError, *, run: SyncRun, calls: int) -> None:
    now = timezone.now()
    waiting = isinstance(exc, RateLimited | SubscriptionInactive)
    attempts = activity.enrich_attempts + (0 if waiting else 1)
    rest, reason = _rest_until(exc, attempts=attempts, now=now)
    Activity.objects.filter(pk=activity.pk).update(
        enrich_not_before=rest, enrich_error=reason[:300], enrich_attempts=attempts, enrich_claimed_until=None
    )
    sync_run_book(run, calls=calls, error=f"activity {activity.strava_id}: {reason}")


def activities_enrich(
    *,
    athlete_id: int | None = None,
    limit: int | None = None,
    strava_ids: list[int] | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    force: bool = False,
    priority: Priority = Priority.ENRICH,
    trigger: str = SyncRun.Trigger.COMMAND,
    on_activity: Callable[[Activity, bool], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[int, int, SyncRun | None]:
    """Enrich the activities without details, newest first, or the ones named: (fetched, failed, run).

    Stops at the first "not before" from the quota (RateLimited / SubscriptionInactive are raised
    after the run is closed), so a caller can wait and call again: it resumes where it stopped.
    """
    targets = activities_to_enrich(athlete_id=athlete_id, strava_ids=strava_ids, after=after, before=before, force=force)
    if limit is not None:
        targets = targets[:limit]
    # Ids first: the loop writes to the rows it walks, and SQLite cursors do not like that.
    ids = list(targets.values_list("pk", flat=True))
    runs: dict[int, SyncRun] = {}
    fetched = failed = 0
    # One run per athlete met, each closed when the walk ends, with the error if one stops it.
    with ExitStack() as scope:
        for activity in _in_chunks(ids):
            if should_stop and should_stop():
                break
            run = runs.get(activity.athlete_id)
            if run is None:
                run = runs[activity.athlete_id] = scope.enter_context(
                    sync_run(kind=SyncRun.Kind.ENRICH, athlete_id=activity.athlete_id, trigger=trigger))
            if not activity_claim(activity_id=activity.pk, force=force):
                continue  # a dispatcher's worker is fetching it right now: never two calls for one activity
            try:
                done = activity_enrich(activity_id=activity.pk, priority=priority, force=force, run=run)
            except (RateLimited, SubscriptionInactive):
                raise
            except StravaError:
                failed += 1
                done = False
            finally:
                activity_release(activity_id=activity.pk)
            fetched += int(done)
            if on_activity is not None:
                on_activity(activity, done)
    last = next(iter(runs.values()), None) if len(runs) == 1 else None
    return fetched, failed, last


def _in_chunks(ids: list[int], size: int = 200) -> Iterable[Activity]:
    for start in range(0, len(ids), size):
        by_pk = Activity.objects.in_bulk(ids[start : start + size])
        yield from (by_pk[pk] for pk in ids[start : start + size] if pk in by_pk)


def activity_claim(*, activity_id: int, now: datetime | None = None, seconds: int | None = None,
                   force: bool = False) -> bool:
    """Take the activity's lease on its detail call (a conditional UPDATE whose row count must be 1):
    True for exactly one taker, so no two workers ever fetch one activity. Without `force` only an
    activity still lacking its details is taken; the lease lasts `seconds` (WAREHOUSE_CLAIM_TIMEOUT)."""
    now = now or timezone.now()
    free = Activity.objects.filter(Q(enrich_claimed_until__isnull=True) | Q(enrich_claimed_until__lt=now), pk=activity_id)
    if not force:
        free = free.filter(detail_fetched_at__isnull=True)
    lease = now + timedelta(seconds=settings.WAREHOUSE_CLAIM_TIMEOUT if seconds is None else seconds)
    return free.update(enrich_claimed_until=lease) == 1


def activities_claim(*, activity_ids: list[int], now: datetime) -> list[int]:
    """activity_claim for the dispatcher's batch in two statements instead of one each: the ids taken, in
    the order given. The rows are locked as they are chosen (others' locks skipped), so no two takers
    ever share one; SQLite's write transaction serialises the takers instead."""
    lease = now + timedelta(seconds=settings.WAREHOUSE_CLAIM_TIMEOUT)
    with transaction.atomic():
        free = Activity.objects.filter(Q(enrich_claimed_until__isnull=True) | Q(enrich_claimed_until__lt=now),
                                       pk__in=activity_ids, detail_fetched_at__isnull=True)
        taken = set(free.select_for_update(skip_locked=True).values_list("pk", flat=True))
        Activity.objects.filter(pk__in=taken).update(enrich_claimed_until=lease)
    return [pk for pk in activity_ids if pk in taken]


def activity_release(*, activity_id: int) -> None:
    """Give the lease back (a killed worker's simply expires)."""
    Activity.objects.filter(pk=activity_id).update(enrich_claimed_until=None)
