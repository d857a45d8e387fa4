"""Pulls a person waits for: "Sync now" and a newly connected athlete's first page, at priority interactive.

Both fetch only what is new (the newest page); the rest of a history follows at priority pull,
handed out by the dispatcher. The athlete's SyncState is claimed as the dispatcher claims it,
so a worker and a person never fetch the same page at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from stravasync.strava.client import Patience
from stravasync.strava.errors import NetworkError, ServerError, StravaError
from stravasync.strava.quota import Priority
from warehouse.models import SyncRun, SyncState
from warehouse.services.pull import PullResult, activities_pull
from warehouse.services.runs import sync_state_for

logger = logging.getLogger(__name__)

# A person waits for the answer: a few pages (up to 1,000 new activities) at request time; a longer
# pull goes on at priority pull from where this one stopped.
SYNC_NOW_MAX_CALLS = 5


class SyncBusy(Exception):
    """Another worker is pulling this athlete's activities right now."""


def _claim(state: SyncState) -> bool:
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WAREHOUSE_CLAIM_TIMEOUT)
    free = SyncState.objects.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=state.pk)
    return free.update(claimed_until=lease) == 1


def activities_sync_now(*, athlete_id: int, trigger: str = SyncRun.Trigger.WEB,
                        max_calls: int = SYNC_NOW_MAX_CALLS, patience: Patience | None = None) -> PullResult:
    """An incremental pull at priority interactive; raises SyncBusy, or the StravaError that stopped it."""
    state = sync_state_for(athlete_id=athlete_id)
    if not _claim(state):
        raise SyncBusy("A pull of your activities is already running.")
    try:
        return activities_pull(athlete_id=athlete_id, pull_now=True, history=False, priority=Priority.INTERACTIVE,
                               max_calls=max_calls, trigger=trigger, patience=patience)
    finally:
        SyncState.objects.filter(pk=state.pk).update(claimed_until=None)


def sync_queue(*, athlete_id: int) -> None:
    """The athlete's pull is due now: the dispatcher takes it at priority pull when the quota allows."""
    SyncState.objects.filter(athlete_id=athlete_id).update(next_pull_at=timezone.now())


def athlete_first_page(*, athlete_id: int) -> PullResult | None:
    """A newly connected athlete's newest activities, fetched at once at priority interactive.

    Never fails nor holds up the login: one try with a short timeout (WAREHOUSE_FIRST_PAGE_TIMEOUT),
    no retries. When the quota or Strava says no, the dispatcher takes the first page at priority
    pull, as it takes the rest of the history, and the dashboard says why it waits (the SyncState's
    last error).
    """
    patience = Patience(retries=0, timeout=settings.WAREHOUSE_FIRST_PAGE_TIMEOUT)
    try:
        return activities_sync_now(athlete_id=athlete_id, trigger=SyncRun.Trigger.WEB, max_calls=1,
                                   patience=patience)
    except (ServerError, NetworkError) as exc:
        # One impatient try says little about Strava: the dispatcher tries at once, with its own
        # timeout and retries, rather than after the rest a failed pull otherwise gets.
        SyncState.objects.filter(athlete_id=athlete_id).update(not_before=None)
        logger.info("first page of athlete %s left to the dispatcher: %s", athlete_id, type(exc).__name__)
    except (StravaError, SyncBusy) as exc:
        logger.info("first page of athlete %s left to the dispatcher: %s", athlete_id, type(exc).__name__)
    except Exception:
        # A login must never fail for the sake of its first page: the dispatcher fetches it anyway.
        logger.exception("first page of athlete %s failed; left to the dispatcher", athlete_id)
    return None
