"""The deployment-wide Garmin pacer: one request at a time, spaced, and a 429 backs everyone off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from garmin.models import GarminPacer
from garmin.pacing import PACER_ID, GarminBackingOff, pacer_acquire, pacer_backoff_until, pacer_release

pytestmark = pytest.mark.django_db


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"should not have waited ({seconds} s)")


def test_a_held_turn_makes_the_next_request_wait_rather_than_overlap(settings):
    settings.GARMIN_REQUEST_INTERVAL = 0.0
    pacer_acquire(sleep=_no_sleep)
    with pytest.raises(TimeoutError):
        pacer_acquire(wait_limit=0.0, sleep=lambda s: None)
    pacer_release(status=200)
    pacer_acquire(sleep=_no_sleep)  # free again at once: the interval is 0 here
    assert GarminPacer.objects.get(pk=PACER_ID).requests == 2


def test_after_a_request_the_next_waits_the_interval_with_jitter(settings):
    settings.GARMIN_REQUEST_INTERVAL = 2.0
    pacer_acquire(sleep=_no_sleep)
    before = timezone.now()
    pacer_release(status=200)
    next_at = GarminPacer.objects.get(pk=PACER_ID).next_at
    assert timedelta(seconds=1.8) <= next_at - before <= timedelta(seconds=2.2 + 1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the wait is asked for in short steps, never longer than the gap
        waits.append(seconds)
        GarminPacer.objects.filter(pk=PACER_ID).update(next_at=timezone.now() - timedelta(seconds=1))

    pacer_acquire(sleep=sleep)
    assert len(waits) == 1 and 0 < waits[0] <= 0.25


def test_a_429_backs_off_every_request_doubling_up_to_the_maximum_and_a_success_resets_it(settings):
    settings.GARMIN_REQUEST_INTERVAL = 0.0
    settings.GARMIN_BACKOFF_MIN, settings.GARMIN_BACKOFF_MAX = 60.0, 200.0
    backoffs = []
    for _ in range(3):
        pacer_acquire(sleep=_no_sleep)
        pacer_release(status=429)
        row = GarminPacer.objects.get(pk=PACER_ID)
        backoffs.append(row.backoff_seconds)
        assert pacer_backoff_until() == row.backoff_until
        with pytest.raises(GarminBackingOff):
            pacer_acquire(sleep=_no_sleep)
        GarminPacer.objects.filter(pk=PACER_ID).update(backoff_until=timezone.now() - timedelta(seconds=1))
    assert backoffs == [60.0, 120.0, 200.0]
    assert GarminPacer.objects.get(pk=PACER_ID).rate_limited == 3
    pacer_acquire(sleep=_no_sleep)
    pacer_release(status=200)
    assert GarminPacer.objects.get(pk=PACER_ID).backoff_seconds == 0.0
    assert pacer_backoff_until() is None


def test_a_turn_held_by_a_vanished_worker_expires(settings):
    settings.GARMIN_REQUEST_INTERVAL = 0.0
    pacer_acquire(sleep=_no_sleep)
    GarminPacer.objects.filter(pk=PACER_ID).update(held_until=timezone.now() - timedelta(seconds=1))
    pacer_acquire(sleep=_no_sleep)  # taken over, no release ever came
