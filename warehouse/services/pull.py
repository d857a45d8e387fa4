"""Pull and backfill: `GET /athlete/activities` page by page, each page's rows and position in one transaction.

A stop anywhere resumes where it was and no page is fetched twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stravasync.strava import quota
from stravasync.strava.client import Patience, StravaClient
from stravasync.strava.errors import StravaError
from stravasync.strava.quota import Grant, Kind, Priority
from warehouse.models import SyncRun, SyncState
from warehouse.services.runs import _permit, _rest_until, sync_run, sync_run_book, sync_run_finish, sync_state_for
from warehouse.services.store import UpsertResult, _when, activities_upsert

PER_PAGE = 200  # Strava's maximum page size: the fewest calls for a history


# Checks registered by a higher app (webhooks) telling whether Strava pushes events to us.
_push_live_checks: list[Callable[[], bool]] = []


def push_live_register(check: Callable[[], bool]) -> None:
    """Register a check of live push events: while one says yes, pulls only reconcile, daily."""
    if check not in _push_live_checks:
        _push_live_checks.append(check)


def push_live() -> bool:
    """Whether Strava pushes events to us (a higher app registered a check that says so)."""
    return any(check() for check in _push_live_checks)


def pull_interval() -> int:
    """Seconds between two pulls of an athlete: hourly, or a daily reconciliation while events are pushed."""
    if push_live():
        return max(60, int(settings.WAREHOUSE_RECONCILE_INTERVAL))
    return max(60, int(settings.WAREHOUSE_PULL_INTERVAL))


def next_pull_slot(*, athlete_id: int, now: datetime) -> datetime:
    """The athlete's next sweep slot: a fixed phase per athlete, so a sweep never comes as one burst.

    Phases are spread by the golden ratio (any number of athletes lands evenly over the
    interval); the slot is at least half an interval away.
    """
    interval = pull_interval()
    phase = ((athlete_id * 0.6180339887498949) % 1.0) * interval
    ts = now.timestamp()
    slot = math.floor(ts / interval) * interval + phase
    while slot <= ts + interval / 2:
        slot += interval
    return datetime.fromtimestamp(slot, tz=now.tzinfo)


# --- pull and backfill -------------------------------------------------------------------------------
@dataclass
class PullResult:
    calls: int = 0
    pages: int = 0
    created: int = 0
    updated: int = 0
    done: bool = False  # nothing more to fetch now (backfill finished, incremental not due)
    backfill_done: bool = False
    run_id: int | None = None


PageCallback = Callable[[str, int, UpsertResult], None]


def _pull_step(state: SyncState, *, now: datetime, incremental_done: bool, pull_now: bool,
               history: bool = True) -> str | None:
    if state.pull_page > 0:
        return "incremental"  # finish the incremental pull in progress first
    # Without `history`, only a fresh walk's first page (the newest activities) is taken from the backfill.
    if not state.backfill_done and (history or (state.backfill_cursor is None and not incremental_done)):
        return "backfill"
    if incremental_done:
        return None
    if pull_now or state.next_pull_at is None or state.next_pull_at <= now:
        return "incremental"
    return None


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def activities_pull(
    *,
    athlete_id: int,
    full: bool = False,
    max_calls: int | None = None,
    pull_now: bool = False,
    history: bool = True,
    priority: Priority = Priority.PULL,
    grant: dict | Grant | None = None,
    trigger: str = SyncRun.Trigger.COMMAND,
    run: SyncRun | None = None,
    on_page: PageCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    patience: Patience | None = None,
) -> PullResult:
    """Bring the athlete's activities up to date: finish any backfill, then pull what is new.

    * A fresh athlete's backfill walks back from now, `before=<oldest start seen + 1 s>`, 200 a
      page; its first page also sets the watermark, so a whole history costs ceil(n/200) + 1
      calls. The one-second overlap re-lists one activity a page (one extra call per ~40,000
      activities) so that two activities sharing a second across a page boundary are never lost.
    * The incremental pull asks `after=<watermark>` page by page; the watermark moves only
      when the last page is in.
    * Position is saved with each page's rows, in one transaction: a stop anywhere resumes
      where it was and no page is fetched twice.
    `max_calls` bounds the calls (the dispatcher gives one permit per task); `pull_now` pulls
    new activities even if the athlete's sweep slot has not come; `full` walks the history again;
    `history=False` fetches only what is new (a person waiting): the rest of a backfill is left to the
    dispatcher at its own priority. `priority` is the quota priority of every call; `patience` how long
    each call may wait on Strava (default: the settings' timeout and retries).
    StravaErrors are recorded on the SyncState and the run, then raised. A `run` given by the
    caller (a command that waits for the quota and calls again) is booked but left open.
    """
    state = sync_state_for(athlete_id=athlete_id)
    if full:
        SyncState.objects.filter(pk=state.pk).update(backfill_cursor=None, backfill_done=False, backfill_done_at=None)
        state.refresh_from_db()
    own_run = run is None
    with ExitStack() as scope:
        if run is None:
            # Closed with the error by whatever raises, except a dispatcher's run, which a Strava error
            # (booked on it and on the state) only pauses until its next page.
            dispatched = trigger == SyncRun.Trigger.DISPATCHER
            run = scope.enter_context(sync_run(kind=SyncRun.Kind.PULL, athlete_id=athlete_id, trigger=trigger,
                                               notes={"full": True} if full else None, finish=False,
                                               open_on=(StravaError,) if dispatched else ()))
        result = _pull_pages(state, run, max_calls=max_calls, pull_now=pull_now, history=history, priority=priority,
                             grant=grant, on_page=on_page, should_stop=should_stop, patience=patience)
        if own_run and (result.done or trigger != SyncRun.Trigger.DISPATCHER):
            sync_run_finish(run)
    return result


def _pull_pages(state: SyncState, run: SyncRun, *, max_calls: int | None, pull_now: bool, history: bool,
                priority: Priority,
                grant: dict | Grant | None, on_page: PageCallback | None,
                should_stop: Callable[[], bool] | None, patience: Patience | None = None) -> PullResult:
    client = StravaClient(athlete_id=state.athlete_id, priority=priority, grant=_permit(grant), patience=patience)
    result = PullResult(run_id=run.pk)
    incremental_done = False
    booked = 0
    try:
        while True:
            now = timezone.now()
            step = _pull_step(state, now=now, incremental_done=incremental_done, pull_now=pull_now, history=history)
            if step is None:
                result.done = True
                break
            if (max_calls is not None and client.calls >= max_calls) or (should_stop and should_stop()):
                break
            calls_before = client.calls
            if step == "backfill":
                listed, upserted, fresh = _backfill_page(client, state, now)
                incremental_done = incremental_done or fresh
            else:
                listed, upserted, finished = _incremental_page(client, state, now)
                incremental_done = incremental_done or finished
            result.pages += 1
            result.created += upserted.created
            result.updated += upserted.updated
            sync_run_book(run, calls=client.calls - calls_before, pages=1, created=upserted.created,
                          updated=upserted.updated)
            booked = client.calls
            if on_page is not None:
                on_page(step, listed, upserted)
    except StravaError as exc:
        _pull_failed(state, run, exc, calls=client.calls - booked)
        raise
    finally:
        result.calls = client.calls
        if grant is not None and client.calls == 0:
            permit = _permit(grant)
            if permit is not None:
                quota.release(permit, 1, kind=Kind.READ)  # the dispatcher's permit was not needed
    result.backfill_done = state.backfill_done
    return result


def _pull_failed(state: SyncState, run: SyncRun, exc: StravaError, *, calls: int) -> None:
    now = timezone.now()
    rest, reason = _rest_until(exc, attempts=1, now=now)
    message = f"{type(exc).__name__}: {exc.message}" if exc.message else type(exc).__name__
    SyncState.objects.filter(pk=state.pk).update(not_before=rest, last_error=f"{reason} ({message})"[:2000],
                                                 last_error_at=now)
    sync_run_book(run, calls=calls, error=f"{reason} ({message})")


def _save_page(state: SyncState, athlete_id: int, items: list[dict], now: datetime, **fields: Any) -> UpsertResult:
    with transaction.atomic():
        upserted = activities_upsert(athlete_id=athlete_id, summaries=items)
        fields.update(last_success_at=now, last_error="", last_error_at=None, not_before=None)
        SyncState.objects.filter(pk=state.pk).update(**fields)
    for name, value in fields.items():
        setattr(state, name, value)
    return upserted


def _backfill_page(client: StravaClient, state: SyncState, now: datetime) -> tuple[int, UpsertResult, bool]:
    """One page of the walk back; returns (listed, upserted, whether this was a fresh walk's first page)."""
    fresh = state.backfill_cursor is None
    # One second of overlap: activities sharing the cursor's second are listed again rather
    # than lost if a page ended between them (the upsert makes the repeat harmless).
    before = _epoch(state.backfill_cursor) + 1 if state.backfill_cursor else None
    items = client.list_activities(before=before, page=1, per_page=PER_PAGE)
    starts = [s for s in (_when(i.get("start_date")) for i in items) if s is not None]
    fields: dict[str, Any] = {}
    if fresh:
        # The first page of a walk from now is also this slot's incremental pull.
        if starts:
            fields["watermark"] = max([*starts, *([state.watermark] if state.watermark else [])])
        fields["next_pull_at"] = next_pull_slot(athlete_id=state.athlete_id, now=now)
    if len(items) < PER_PAGE or not starts:
        fields.update(backfill_done=True, backfill_done_at=now, backfill_cursor=None)
    else:
        oldest = min(starts)
        if state.backfill_cursor is not None and oldest >= state.backfill_cursor:
            oldest = state.backfill_cursor - timedelta(seconds=1)  # a whole page in one second: step past it
        fields["backfill_cursor"] = oldest
    return len(items), _save_page(state, client.athlete_id or state.athlete_id, items, now, **fields), fresh


def _incremental_page(client: StravaClient, state: SyncState, now: datetime) -> tuple[int, UpsertResult, bool]:
    """One page of `after=<watermark>`; returns (listed, upserted, whether the pull is complete)."""
    page = state.pull_page or 1
    after = _epoch(state.watermark) if state.watermark else 0
    items = client.list_activities(after=after, page=page, per_page=PER_PAGE)
    starts = [s for s in (_when(i.get("start_date")) for i in items) if s is not None]
    newest = max([*starts, *[m for m in (state.pull_newest, state.watermark) if m is not None]], default=None)
    if len(items) < PER_PAGE:
        fields: dict[str, Any] = {"watermark": newest, "pull_page": 0, "pull_newest": None,
                                  "next_pull_at": next_pull_slot(athlete_id=state.athlete_id, now=now)}
        finished = True
    else:
        fields = {"pull_page": page + 1, "pull_newest": newest}
        finished = False
    return len(items), _save_page(state, client.athlete_id or state.athlete_id, items, now, **fields), finished
