"""Strava's application-wide quota: counters per client id in windows aligned to the epoch.

Every counted request is added before it is judged, so refused requests still count, as on Strava.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from sandbox.models import SimRateCounter


@dataclass(frozen=True)
class Usage:
    short: int
    daily: int
    read_short: int
    read_daily: int
    limit_short: int
    limit_daily: int
    read_limit_short: int
    read_limit_daily: int

    def exceeded(self, *, read: bool) -> bool:
        if self.short > self.limit_short or self.daily > self.limit_daily:
            return True
        return read and (self.read_short > self.read_limit_short or self.read_daily > self.read_limit_daily)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": f"{self.limit_short},{self.limit_daily}",
            "X-RateLimit-Usage": f"{self.short},{self.daily}",
            "X-ReadRateLimit-Limit": f"{self.read_limit_short},{self.read_limit_daily}",
            "X-ReadRateLimit-Usage": f"{self.read_short},{self.read_daily}",
        }


def window_indexes(epoch: float) -> tuple[int, int]:
    """The short window and the day that `epoch` falls in (900 s and 86400 s give Strava's)."""
    return int(epoch // settings.SANDBOX_WINDOW_SECONDS), int(epoch // settings.SANDBOX_DAY_SECONDS)


def _usage(counter: SimRateCounter) -> Usage:
    return Usage(
        short=counter.short_count,
        daily=counter.daily_count,
        read_short=counter.read_short_count,
        read_daily=counter.read_daily_count,
        limit_short=settings.SANDBOX_LIMIT_SHORT,
        limit_daily=settings.SANDBOX_LIMIT_DAILY,
        read_limit_short=settings.SANDBOX_READ_LIMIT_SHORT,
        read_limit_daily=settings.SANDBOX_READ_LIMIT_DAILY,
    )


def _roll(counter: SimRateCounter, epoch: float) -> None:
    window, day = window_indexes(epoch)
    if counter.window_index != window:
        counter.window_index, counter.short_count, counter.read_short_count = window, 0, 0
    if counter.day_index != day:
        counter.day_index, counter.daily_count, counter.read_daily_count = day, 0, 0


def usage_count(*, client_id: str, read: bool, epoch: float | None = None) -> Usage:
    """Count one request for `client_id` and return the usage including it."""
    epoch = time.time() if epoch is None else epoch
    # IMMEDIATE transactions on SQLite and the row lock elsewhere serialise concurrent requests.
    with transaction.atomic():
        counter, _ = SimRateCounter.objects.select_for_update().get_or_create(client_id=client_id)
        _roll(counter, epoch)
        counter.short_count += 1
        counter.daily_count += 1
        if read:
            counter.read_short_count += 1
            counter.read_daily_count += 1
        counter.save()
    return _usage(counter)


def usage_peek(*, client_id: str, epoch: float | None = None) -> Usage:
    """The current usage without counting a request."""
    counter = SimRateCounter.objects.filter(client_id=client_id).first() or SimRateCounter(client_id=client_id)
    _roll(counter, time.time() if epoch is None else epoch)
    return _usage(counter)
