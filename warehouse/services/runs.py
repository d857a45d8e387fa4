"""The audit trail: each athlete's SyncState and the SyncRun rows every pull, enrich and import leaves."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from stravasync.strava.errors import (
    NotFound,
    RateLimited,
    ReconnectNeeded,
    StravaError,
    SubscriptionInactive,
    Unauthorized,
)
from stravasync.strava.quota import Grant
from warehouse.models import SyncRun, SyncState
from warehouse.strava_export import ExportError

logger = logging.getLogger(__name__)

# --- runs and state -------------------------------------------------------------------------------
def sync_state_for(*, athlete_id: int) -> SyncState:
    state, _ = SyncState.objects.get_or_create(athlete_id=athlete_id)
    return state


def sync_run_open(*, kind: str, athlete_id: int | None, trigger: str, notes: dict | None = None) -> SyncRun:
    """A run for the audit log; the dispatcher keeps one open per athlete and kind across its tasks."""
    if trigger == SyncRun.Trigger.DISPATCHER:
        # A run of no athlete is matched with IS NULL, as Django turns `athlete_id=None` into anyway.
        owner = Q(athlete_id=athlete_id) if athlete_id is not None else Q(athlete__isnull=True)
        run = SyncRun.objects.filter(owner, kind=kind, trigger=trigger, finished_at__isnull=True).first()
        if run is not None:
            return run
    return SyncRun.objects.create(kind=kind, athlete_id=athlete_id, trigger=trigger, notes=notes or {})


def sync_run_book(run: SyncRun, *, calls: int = 0, pages: int = 0, created: int = 0, updated: int = 0,
                  error: str | None = None) -> None:
    updates: dict[str, Any] = {
        "calls": F("calls") + calls, "pages": F("pages") + pages, "created": F("created") + created,
        "updated": F("updated") + updated,
    }
    if error is not None:
        updates["error"] = error[:2000]
    SyncRun.objects.filter(pk=run.pk).update(**updates)


def sync_run_finish(run: SyncRun, *, error: str | None = None, notes: dict | None = None) -> SyncRun:
    updates: dict[str, Any] = {"finished_at": timezone.now()}
    if error is not None:
        updates["error"] = error[:2000]
    if notes:
        updates["notes"] = {**run.notes, **notes}
    SyncRun.objects.filter(pk=run.pk).update(**updates)
    run.refresh_from_db()
    return run


@contextmanager
def sync_run(*, kind: str, athlete_id: int | None, trigger: str, notes: dict | None = None,
             finish: bool = True, open_on: tuple[type[BaseException], ...] = ()) -> Iterator[SyncRun]:
    """A run that is closed whatever its body raises: `with sync_run(kind=..., athlete_id=..., trigger=...) as run:`.

    Any exception finishes the run with its text (an error booked earlier, more precise, is kept)
    and is raised again, so the task queue records the failure too. On success the run is finished
    unless `finish=False`: the dispatcher's runs stay open across tasks, and their body decides.
    `open_on`: exceptions the body has booked on the run and after which it goes on in a later task
    (a dispatcher's run waiting for the quota).
    """
    run = sync_run_open(kind=kind, athlete_id=athlete_id, trigger=trigger, notes=notes)
    try:
        yield run
    except BaseException as exc:
        if not isinstance(exc, open_on):
            sync_run_fail(run, exc)
        raise
    if finish:
        sync_run_finish(run)


def sync_run_fail(run: SyncRun, exc: BaseException) -> None:
    """Finish a run with the exception's text; never masks the exception being handled."""
    # An export's refusal is already a sentence for the athlete; anything else is named by its type.
    text = str(exc) if isinstance(exc, ExportError) else (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    try:
        SyncRun.objects.filter(pk=run.pk, error="").update(error=text[:2000])
        sync_run_finish(run)
    except Exception:  # the database itself may be what failed: log, and let the original error go on
        logger.exception("could not close %s after %s", run, type(exc).__name__)


def _rest_until(exc: StravaError, *, attempts: int, now: datetime) -> tuple[datetime, str]:
    """How long a failed call's work waits, and what to say about it."""
    if isinstance(exc, RateLimited):
        return exc.retry_at, "waiting for the Strava quota"
    if isinstance(exc, SubscriptionInactive):
        return now + timedelta(seconds=settings.QUOTA_INACTIVE_PROBE_SECONDS), "Strava API subscription inactive: paused"
    if isinstance(exc, ReconnectNeeded):
        return now + timedelta(days=1), "the athlete must connect with Strava again"
    if isinstance(exc, Unauthorized) and exc.missing_scope:
        return now + timedelta(days=1), f"permission {exc.missing_scope} not granted: reconnect and allow it"
    if isinstance(exc, NotFound):
        return now + timedelta(days=30), "Strava no longer shows it (deleted, or private without activity:read_all)"
    delay = min(86_400, 60 * 2 ** min(attempts, 10))
    return now + timedelta(seconds=delay), f"will retry: {exc.message or type(exc).__name__}"


def _permit(grant: dict | Grant | None) -> Grant | None:
    if grant is None or isinstance(grant, Grant):
        return grant
    return Grant(**grant)
