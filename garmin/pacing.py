"""One Garmin request at a time across the deployment, spaced ~2 s apart with jitter; 429 backs off.

Every athlete's requests leave from the same server address, and Garmin answers bursts from one
address with 429s (and, after repeated logins, locked accounts). So the spacing is shared by every
process through one database row (GarminPacer): a request takes its lease with a conditional
UPDATE, which works the same on SQLite and PostgreSQL and needs no lock held across the request;
a worker killed mid-request leaves a lease that simply expires.

`PacedAdapter` applies it to everything the garminconnect library sends through `requests`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter, HTTPAdapter

from .models import GarminPacer

log = logging.getLogger(__name__)
PACER_ID = 1


class GarminBackingOff(Exception):
    """Garmin said 429 lately: no request until `until` (deployment-wide)."""

    def __init__(self, until: Any) -> None:
        super().__init__(f"Garmin asked us to slow down; resuming after {until:%Y-%m-%d %H:%M} UTC")
        self.until = until


def _pacer() -> None:
    GarminPacer.objects.get_or_create(pk=PACER_ID)


def pacer_acquire(*, wait_limit: float | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait for our turn, then hold the lease for one request (raises GarminBackingOff during a back-off)."""
    _pacer()
    lease = timedelta(seconds=settings.GARMIN_HTTP_TIMEOUT + 10)
    deadline = time.monotonic() + (wait_limit if wait_limit is not None else settings.GARMIN_HTTP_TIMEOUT * 4)
    while True:
        now = timezone.now()
        with transaction.atomic():
            taken = GarminPacer.objects.filter(
                Q(held_until__isnull=True) | Q(held_until__lt=now),
                Q(next_at__isnull=True) | Q(next_at__lte=now),
                Q(backoff_until__isnull=True) | Q(backoff_until__lte=now),
                pk=PACER_ID,
            ).update(held_until=now + lease, requests=F("requests") + 1)
        if taken:
            return
        row = GarminPacer.objects.filter(pk=PACER_ID).values("held_until", "next_at", "backoff_until").get()
        if row["backoff_until"] and row["backoff_until"] > now:
            raise GarminBackingOff(row["backoff_until"])
        if time.monotonic() >= deadline:
            raise TimeoutError("waited too long for our turn at Garmin (another worker holds it)")
        waits = [(t - now).total_seconds() for t in (row["held_until"], row["next_at"]) if t and t > now]
        sleep(min(max(waits, default=0.05), 0.25))


def pacer_release(*, status: int | None) -> None:
    """Give the turn back; the next request waits the interval (±10 %); a 429 starts or doubles a back-off."""
    now = timezone.now()
    interval = settings.GARMIN_REQUEST_INTERVAL * random.uniform(0.9, 1.1)  # spacing, not secrecy
    update: dict[str, Any] = {"held_until": None, "next_at": now + timedelta(seconds=interval)}
    if status == 429:
        current = GarminPacer.objects.filter(pk=PACER_ID).values_list("backoff_seconds", flat=True).first() or 0.0
        backoff = min(settings.GARMIN_BACKOFF_MAX, max(settings.GARMIN_BACKOFF_MIN, current * 2))
        update |= {"backoff_until": now + timedelta(seconds=backoff), "backoff_seconds": backoff,
                   "rate_limited": F("rate_limited") + 1}
        log.warning("Garmin answered 429: no Garmin requests for %.0f s", backoff)
    elif status is not None and status < 400:
        update["backoff_seconds"] = 0.0
    GarminPacer.objects.filter(pk=PACER_ID).update(**update)


def pacer_backoff_until() -> Any:
    """When a 429's back-off ends, or None when there is none now."""
    until = GarminPacer.objects.filter(pk=PACER_ID).values_list("backoff_until", flat=True).first()
    return until if until and until > timezone.now() else None


@dataclass
class Turn:
    """One request's turn at Garmin; its answer's status decides the spacing (a 429 backs off)."""

    status: int | None = None


@contextmanager
def pacer_turn() -> Iterator[Turn]:
    """Hold the pacer's turn around one request (or one login, which makes its own): set `turn.status`."""
    pacer_acquire()
    turn = Turn()
    try:
        yield turn
    finally:
        pacer_release(status=turn.status)


class PacedAdapter(BaseAdapter):
    """A requests adapter that takes the pacer's turn around each request it sends through `inner`."""

    def __init__(self, inner: BaseAdapter | None = None) -> None:
        super().__init__()
        self.inner = inner or HTTPAdapter()

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        with pacer_turn() as turn:
            response = self.inner.send(request, *args, **kwargs)
            turn.status = response.status_code
            return response

    def close(self) -> None:
        self.inner.close()
