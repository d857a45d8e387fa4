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

from stravasync.strava.errors import StravaError
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
                        max_calls: int = SYNC_NOW_MAX_CALLS) -> PullResult:
    """An incremental pull at priority interactive; raises SyncBusy, or the StravaError that stopped it."""
    state = sync_state_for(athlete_id=athlete_id)
    if not _claim(state):
        raise SyncBusy("A pull of your activities is already running.")
    try:
        return activities_pull(athlete_id=athlete_id, pull_now=True, history=False, priority=Priority.INTERACTIVE,
                               max_calls=max_calls, trigger=trigger)
    finally:
        SyncState.objects.filter(pk=state.pk).update(claimed_until=None)


def athlete_first_page(*, athlete_id: int) -> PullResult | None:
    """A newly connected athlete's newest activities, fetched at once at priority interactive.

    Never fails the login: when the quota or Strava says no, the dispatcher takes the first page
    at priority pull, as it takes the rest of the history.
    """
    try:
        return activities_sync_now(athlete_id=athlete_id, trigger=SyncRun.Trigger.WEB, max_calls=1)
    except (StravaError, SyncBusy) as exc:
        logger.info("first page of athlete %s left to the dispatcher: %s", athlete_id, type(exc).__name__)
        return None
