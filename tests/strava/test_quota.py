"""The application-wide quota: permits, reserves, windows, headers, 429 and the inactive switch."""

from __future__ import annotations

import pytest

from stravasync.strava import quota
from stravasync.strava.models import QuotaState
from stravasync.strava.quota import Kind, Priority

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch, settings):
    """A movable clock set 100 s into a 900 s window."""
    settings.QUOTA_WINDOW_SECONDS = 900
    settings.QUOTA_DAY_SECONDS = 86400
    moment = {"ts": 1_700_000_100.0 - (1_700_000_100.0 % 900) + 100}
    monkeypatch.setattr(quota, "now_ts", lambda: moment["ts"])
    return moment


@pytest.fixture
def small_limits(settings):
    settings.QUOTA_LIMIT_SHORT = 10
    settings.QUOTA_LIMIT_DAILY = 30
    settings.QUOTA_READ_LIMIT_SHORT = 6
    settings.QUOTA_READ_LIMIT_DAILY = 20
    settings.QUOTA_RESERVE_SHORT = [0, 0, 0, 0, 0, 0.5]
    settings.QUOTA_RESERVE_DAILY = [0, 0, 0, 0, 0, 0]


def test_reads_stop_at_the_read_limit_while_writes_go_on(clock, small_limits):
    reads = quota.acquire(kind=Kind.READ, count=10)
    assert reads.count == 6
    assert reads.reason == "window"
    writes = quota.acquire(kind=Kind.WRITE, count=10)
    assert writes.count == 4  # 10 overall minus the 6 reads


def test_a_refusal_says_when_the_next_window_starts(clock, small_limits):
    quota.acquire(kind=Kind.WRITE, count=10)
    refused = quota.acquire(kind=Kind.WRITE)
    assert refused.count == 0
    assert refused.not_before.timestamp() == clock["ts"] - 100 + 900


def test_permits_return_when_the_window_rolls_over(clock, small_limits):
    quota.acquire(kind=Kind.WRITE, count=10)
    clock["ts"] += 900
    assert quota.acquire(kind=Kind.WRITE, count=10).count == 10


def test_the_daily_limit_holds_across_windows(clock, small_limits):
    for _ in range(3):
        assert quota.acquire(kind=Kind.WRITE, count=10).count == 10
        clock["ts"] += 900
    refused = quota.acquire(kind=Kind.WRITE)
    assert refused.count == 0 and refused.reason == "daily"
    day_end = (clock["ts"] // 86400 + 1) * 86400
    assert refused.not_before.timestamp() == day_end


def test_low_priorities_leave_a_reserve_to_higher_ones(clock, small_limits):
    backfill = quota.acquire(kind=Kind.WRITE, priority=Priority.BACKFILL, count=10)
    assert backfill.count == 5
    assert backfill.reason == "reserve"
    interactive = quota.acquire(kind=Kind.WRITE, priority=Priority.INTERACTIVE, count=10)
    assert interactive.count == 5


def test_the_reserve_is_released_near_the_end_of_the_window(clock, small_limits, settings):
    settings.QUOTA_RESERVE_RELEASE = 0.1
    quota.acquire(kind=Kind.WRITE, priority=Priority.BACKFILL, count=10)
    refused = quota.acquire(kind=Kind.WRITE, priority=Priority.BACKFILL)
    window_end = clock["ts"] - 100 + 900
    assert refused.not_before.timestamp() == window_end - 90
    clock["ts"] = window_end - 60
    assert quota.acquire(kind=Kind.WRITE, priority=Priority.BACKFILL, count=10).count == 5


def test_headers_raise_our_usage_to_what_strava_counted(clock, small_limits):
    grant = quota.acquire(kind=Kind.READ)
    quota.reconcile(
        {"X-RateLimit-Limit": "10,30", "X-RateLimit-Usage": "8,25", "X-ReadRateLimit-Limit": "6,20",
         "X-ReadRateLimit-Usage": "5,19"},
        grant=grant,
    )
    state = QuotaState.objects.get()
    assert (state.used_short, state.used_daily, state.read_used_short, state.read_used_daily) == (8, 25, 5, 19)
    assert quota.acquire(kind=Kind.READ, count=5).count == 1


def test_headers_teach_us_higher_limits(clock, small_limits):
    grant = quota.acquire(kind=Kind.WRITE)
    quota.reconcile({"X-RateLimit-Limit": "600,6000", "X-RateLimit-Usage": "1,1"}, grant=grant)
    assert quota.acquire(kind=Kind.WRITE, count=100).count == 100


def test_headers_never_lower_the_count_of_permits_in_flight(clock, small_limits):
    grant = quota.acquire(kind=Kind.WRITE, count=7)
    quota.reconcile({"X-RateLimit-Limit": "10,30", "X-RateLimit-Usage": "1,1"}, grant=grant)
    assert QuotaState.objects.get().used_short == 7


def test_headers_from_a_past_window_do_not_count_in_the_new_one(clock, small_limits):
    grant = quota.acquire(kind=Kind.WRITE)
    clock["ts"] += 900
    quota.reconcile({"X-RateLimit-Limit": "10,30", "X-RateLimit-Usage": "9,9"}, grant=grant)
    state = QuotaState.objects.get()
    assert state.used_short == 0 and state.used_daily == 9


def test_a_429_closes_the_window_until_it_resets(clock, small_limits):
    grant = quota.acquire(kind=Kind.WRITE)
    until = quota.record_rate_limited({"X-RateLimit-Usage": "10,12"}, grant=grant)
    assert until.timestamp() == clock["ts"] - 100 + 900
    refused = quota.acquire(kind=Kind.WRITE)
    assert refused.reason == "closed" and refused.not_before == until
    clock["ts"] = until.timestamp()
    assert quota.acquire(kind=Kind.WRITE).count == 1


def test_a_429_honours_retry_after_when_later(clock, small_limits):
    until = quota.record_rate_limited({"Retry-After": "3600"})
    assert until.timestamp() == clock["ts"] + 3600


def test_a_429_with_the_day_spent_closes_until_midnight(clock, small_limits):
    until = quota.record_rate_limited({"X-RateLimit-Limit": "10,30", "X-RateLimit-Usage": "10,30"})
    assert until.timestamp() == (clock["ts"] // 86400 + 1) * 86400


def test_released_permits_can_be_taken_again(clock, small_limits):
    grant = quota.acquire(kind=Kind.WRITE, count=10)
    quota.release(grant, 3, kind=Kind.WRITE)
    assert quota.acquire(kind=Kind.WRITE, count=10).count == 3


def test_an_inactive_subscription_stops_permits_but_lets_a_probe_through(clock, small_limits, settings):
    settings.QUOTA_INACTIVE_PROBE_SECONDS = 600
    quota.mark_inactive("Inactive")
    refused = quota.acquire(kind=Kind.WRITE)
    assert refused.reason == "inactive"
    assert refused.not_before.timestamp() == clock["ts"] + 600
    assert quota.subscription_inactive_message() == "Inactive"
    clock["ts"] += 600
    probe = quota.acquire(kind=Kind.WRITE, count=5)
    assert probe.count == 1
    assert quota.acquire(kind=Kind.WRITE).reason == "inactive"
    quota.reconcile({}, grant=probe, succeeded=True)
    assert quota.subscription_inactive_message() is None
    assert quota.acquire(kind=Kind.WRITE).count == 1


def test_status_reports_permits_per_priority(clock, small_limits):
    quota.acquire(kind=Kind.READ, count=2)
    status = quota.quota_status()
    assert status["usage"]["read"]["window"] == 2
    assert status["available_now"]["interactive"] == {"read": 4, "write": 8}
    assert status["available_now"]["backfill"]["write"] == 3
    assert status["subscription_inactive"] is False


def test_the_estimate_counts_whole_windows_and_days(clock, small_limits):
    # 6 reads now, then 6 per window, 20 per day: 20 today, the rest tomorrow.
    assert quota.estimate_finish(6, kind=Kind.READ).timestamp() == clock["ts"]
    window_end = clock["ts"] - 100 + 900
    assert quota.estimate_finish(12, kind=Kind.READ).timestamp() == window_end + 900
    day_end = (clock["ts"] // 86400 + 1) * 86400
    assert quota.estimate_finish(26, kind=Kind.READ).timestamp() == day_end + 900


def test_permits_granted_at_the_very_end_of_a_window_also_count_in_the_next(clock, small_limits, settings):
    settings.QUOTA_EDGE_SECONDS = 2
    clock["ts"] = clock["ts"] - 100 + 899  # one second before the reset
    assert quota.acquire(kind=Kind.WRITE, count=3).count == 3
    clock["ts"] += 2
    assert quota.acquire(kind=Kind.WRITE, count=10).count == 7


def test_an_edge_permit_given_back_is_not_counted_in_the_next_window(clock, small_limits, settings):
    settings.QUOTA_EDGE_SECONDS = 2
    clock["ts"] = clock["ts"] - 100 + 899
    grant = quota.acquire(kind=Kind.WRITE)
    assert grant.at_edge
    quota.release(grant, kind=Kind.WRITE)
    clock["ts"] += 2
    assert quota.acquire(kind=Kind.WRITE, count=10).count == 10


def test_an_edge_permit_released_after_the_rollover_is_returned_to_the_new_window(clock, small_limits, settings):
    settings.QUOTA_EDGE_SECONDS = 2
    clock["ts"] = clock["ts"] - 100 + 899
    grant = quota.acquire(kind=Kind.WRITE)
    clock["ts"] += 2
    quota.release(grant, kind=Kind.WRITE)
    assert quota.acquire(kind=Kind.WRITE, count=10).count == 10


def test_a_permit_handed_to_a_worker_keeps_its_edge_mark(clock, small_limits, settings):
    settings.QUOTA_EDGE_SECONDS = 2
    clock["ts"] = clock["ts"] - 100 + 899
    permit = quota.acquire(kind=Kind.WRITE, count=3).one_permit()
    assert permit["count"] == 1 and permit["at_edge"] is True
