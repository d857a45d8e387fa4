"""The window probe: until a response shows a window's real usage, only a few permits are granted."""

from __future__ import annotations

import pytest

from stravasync.strava import quota
from stravasync.strava.quota import Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch, settings):
    """A movable clock 10 s into a 900 s window, probing on with one permit."""
    settings.QUOTA_WINDOW_SECONDS = 900
    settings.QUOTA_DAY_SECONDS = 86400
    settings.QUOTA_LIMIT_SHORT = 100
    settings.QUOTA_READ_LIMIT_SHORT = 100
    settings.QUOTA_LIMIT_DAILY = settings.QUOTA_READ_LIMIT_DAILY = 10_000
    settings.QUOTA_RESERVE_SHORT = settings.QUOTA_RESERVE_DAILY = [0]
    settings.QUOTA_WINDOW_PROBE_PERMITS = 1
    settings.QUOTA_WINDOW_PROBE_RETRY = 0.5
    settings.QUOTA_WINDOW_PROBE_TIMEOUT = 30
    moment = {"ts": 1_700_000_100.0 - (1_700_000_100.0 % 900) + 10}
    monkeypatch.setattr(quota, "now_ts", lambda: moment["ts"])
    return moment


def usage(short: int) -> dict[str, str]:
    return {"X-RateLimit-Limit": "100,10000", "X-RateLimit-Usage": f"{short},{short}",
            "X-ReadRateLimit-Limit": "100,10000", "X-ReadRateLimit-Usage": f"{short},{short}"}


def test_a_window_whose_usage_is_unknown_grants_one_probe_and_asks_to_come_back_soon(clock):
    grant = quota.acquire(kind=Kind.READ, count=50)
    assert grant.count == 1
    assert grant.reason == "probe"
    assert grant.not_before.timestamp() == clock["ts"] + 0.5
    refused = quota.acquire(kind=Kind.READ, count=50)
    assert refused.count == 0 and refused.reason == "probe"


def test_after_the_probe_answers_permits_follow_the_real_usage(clock):
    probe = quota.acquire(kind=Kind.READ, count=50)
    quota.reconcile(usage(61), grant=probe)  # another client spent 60 before us
    rest = quota.acquire(kind=Kind.READ, count=50)
    assert rest.count == 39
    assert rest.reason == "window"


def test_an_answer_computed_in_the_previous_window_does_not_end_the_probe(clock):
    old = quota.acquire(kind=Kind.READ)
    quota.reconcile(usage(1), grant=old)
    clock["ts"] += 900
    quota.reconcile(usage(90), grant=old)  # in flight across the reset: says nothing of this window
    assert quota.acquire(kind=Kind.READ, count=10).count == 1


def test_every_new_window_is_probed_again(clock):
    quota.reconcile(usage(5), grant=quota.acquire(kind=Kind.READ))
    assert quota.acquire(kind=Kind.READ, count=10).count == 10
    clock["ts"] += 900
    assert quota.acquire(kind=Kind.READ, count=10).count == 1


def test_a_probe_given_back_unspent_can_be_taken_again(clock):
    probe = quota.acquire(kind=Kind.READ, count=5)
    quota.release(probe, 1, kind=Kind.READ)
    assert quota.acquire(kind=Kind.READ, count=5).count == 1


def test_a_probe_that_never_answers_is_granted_again_after_the_timeout(clock):
    quota.acquire(kind=Kind.READ)  # its worker was killed: no headers will come
    assert quota.acquire(kind=Kind.READ).count == 0
    clock["ts"] += 31
    assert quota.acquire(kind=Kind.READ).count == 1


def test_a_429_on_the_probe_still_closes_the_window(clock):
    probe = quota.acquire(kind=Kind.READ)
    until = quota.record_rate_limited(usage(101), grant=probe)
    assert until.timestamp() == clock["ts"] - 10 + 900
    assert quota.acquire(kind=Kind.READ).reason == "closed"


def test_probing_off_grants_from_our_own_count(clock, settings):
    settings.QUOTA_WINDOW_PROBE_PERMITS = 0
    assert quota.acquire(kind=Kind.READ, count=50).count == 50
