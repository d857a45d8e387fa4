"""The application-wide Strava budget, shared by every process through one database row.

Strava's limits belong to the client id, so every athlete and every worker draws from the
same windows (200 calls / 15 min, 2,000 / day; reads 100 / 1,000 by default). A caller takes
a permit *before* a call (`acquire`) and the state is reconciled with Strava's headers
*after* it (`reconcile`). Nobody sleeps here: a refusal says when to come back.

Windows are aligned to the epoch, so with the default lengths they restart at :00, :15,
:30, :45 UTC and at midnight UTC, like Strava's; the lengths are settings so benchmarks and
tests can play a day in minutes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction

from .models import QuotaState, QuotaWindow


class Priority(IntEnum):
    """Lower value is served first; each priority leaves a reserve to those above it."""

    INTERACTIVE = 0
    WEBHOOK = 1
    UPLOAD = 2
    PULL = 3
    ENRICH = 4
    BACKFILL = 5


class Kind(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Grant:
    """The outcome of `acquire`: `count` permits, and if fewer than asked, when to return."""

    count: int
    requested: int
    window_index: int
    day_index: int
    not_before: datetime | None = None
    reason: str = ""  # why fewer were granted: "window", "daily", "reserve", "closed", "inactive", "probe"
    at_edge: bool = False  # granted in a window's last seconds: counted in the next window too

    @property
    def granted(self) -> bool:
        return self.count > 0

    def one_permit(self) -> dict:
        """One of this grant's permits, as a task argument (the worker's client spends it)."""
        return asdict(Grant(1, 1, self.window_index, self.day_index, at_edge=self.at_edge))


def now_ts() -> float:
    """Wall-clock seconds; a function so tests can move time."""
    return time.time()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _window_length() -> int:
    return settings.QUOTA_WINDOW_SECONDS


def _day_length() -> int:
    return settings.QUOTA_DAY_SECONDS


def window_bounds(ts: float) -> tuple[int, float, float]:
    length = _window_length()
    index = int(ts // length)
    return index, index * length, (index + 1) * length


def day_bounds(ts: float) -> tuple[int, float, float]:
    length = _day_length()
    index = int(ts // length)
    return index, index * length, (index + 1) * length


def _client_id() -> str:
    return str(settings.STRAVA_CLIENT_ID)


def _locked_state() -> QuotaState:
    """The quota row, locked for the rest of the transaction (created on first use)."""
    client_id = _client_id()
    state = QuotaState.objects.select_for_update().filter(client_id=client_id).first()
    if state is not None:
        return state
    try:
        with transaction.atomic():
            QuotaState.objects.create(
                client_id=client_id,
                limit_short=settings.QUOTA_LIMIT_SHORT,
                limit_daily=settings.QUOTA_LIMIT_DAILY,
                read_limit_short=settings.QUOTA_READ_LIMIT_SHORT,
                read_limit_daily=settings.QUOTA_READ_LIMIT_DAILY,
            )
    except IntegrityError:
        pass  # another process created it first
    return QuotaState.objects.select_for_update().get(client_id=client_id)


def _roll(state: QuotaState, ts: float) -> None:
    """Start new windows when the clock has passed into them."""
    window_index, _, _ = window_bounds(ts)
    day_index, _, _ = day_bounds(ts)
    if state.window_index != window_index:
        _window_keep(state)
        # The chart shows one day: older windows go (one cheap delete per window).
        QuotaWindow.objects.filter(client_id=state.client_id,
                                   window_index__lt=window_index - 2 * _day_length() // _window_length()).delete()
        follows = window_index == state.window_index + 1
        state.used_short = state.edge_short if follows else 0
        state.read_used_short = state.edge_read_short if follows else 0
        state.edge_short = state.edge_read_short = 0
        state.window_index = window_index
        state.probes_short, state.probes_at = 0, None
    if state.day_index != day_index:
        state.day_index = day_index
        state.used_daily = 0
        state.read_used_daily = 0


def _window_keep(state: QuotaState, *, rate_limited: int = 0) -> None:
    """Keep the current window's usage (before it rolls over, or on a 429) for the operator's chart."""
    if not state.used_short and not rate_limited:
        return
    row, _ = QuotaWindow.objects.get_or_create(client_id=state.client_id, window_index=state.window_index)
    row.used, row.read_used = state.used_short, state.read_used_short
    row.rate_limited += rate_limited
    row.save()


def quota_windows(*, since_index: int) -> list[QuotaWindow]:
    """Kept windows from `since_index` on (the current one is still in QuotaState)."""
    return list(QuotaWindow.objects.filter(client_id=_client_id(), window_index__gte=since_index)
                .order_by("window_index"))


def _reserve_fraction(series: list[float], priority: Priority) -> float:
    index = min(int(priority), len(series) - 1)
    return float(series[index]) if series else 0.0


def _reserve_released(ts: float, end: float, length: float) -> bool:
    """In the last part of a window its reserve is given to everyone: unused, it would vanish."""
    return end - ts <= settings.QUOTA_RESERVE_RELEASE * length


@dataclass(frozen=True)
class _Constraint:
    name: str
    limit: int
    used: int
    reserve: int
    release_at: float  # when the reserve is released
    resets_at: float

    def available(self) -> int:
        return max(0, self.limit - self.reserve - self.used)

    def not_before(self, ts: float) -> float:
        if self.used < self.limit and self.release_at > ts:
            return self.release_at
        return self.resets_at


def _probes_left(state: QuotaState, ts: float) -> int | None:
    """Permits still allowed before a response shows this window's real usage (None: it has)."""
    if settings.QUOTA_WINDOW_PROBE_PERMITS <= 0 or state.confirmed_window == state.window_index:
        return None
    if state.probes_at is not None and ts - state.probes_at.timestamp() > settings.QUOTA_WINDOW_PROBE_TIMEOUT:
        state.probes_short = 0  # the probes brought no answer (killed, timed out): probe again
    return max(0, settings.QUOTA_WINDOW_PROBE_PERMITS - state.probes_short)


def _constraints(state: QuotaState, kind: Kind, priority: Priority, ts: float) -> list[_Constraint]:
    _, _, w_end = window_bounds(ts)
    _, _, d_end = day_bounds(ts)
    w_len, d_len = _window_length(), _day_length()
    w_frac = 0.0 if _reserve_released(ts, w_end, w_len) else _reserve_fraction(settings.QUOTA_RESERVE_SHORT, priority)
    d_frac = 0.0 if _reserve_released(ts, d_end, d_len) else _reserve_fraction(settings.QUOTA_RESERVE_DAILY, priority)
    w_release = w_end - settings.QUOTA_RESERVE_RELEASE * w_len
    d_release = d_end - settings.QUOTA_RESERVE_RELEASE * d_len

    def make(name: str, limit: int, used: int, frac: float, release: float, end: float) -> _Constraint:
        return _Constraint(name, limit, used, math.ceil(limit * frac), release, end)

    constraints = [
        make("window", state.limit_short, state.used_short, w_frac, w_release, w_end),
        make("daily", state.limit_daily, state.used_daily, d_frac, d_release, d_end),
    ]
    if kind == Kind.READ:
        constraints += [
            make("window", state.read_limit_short, state.read_used_short, w_frac, w_release, w_end),
            make("daily", state.read_limit_daily, state.read_used_daily, d_frac, d_release, d_end),
        ]
    return constraints


def acquire(*, kind: Kind | str = Kind.READ, priority: Priority | int = Priority.INTERACTIVE, count: int = 1) -> Grant:
    """Take up to `count` permits now; never waits. A short grant carries `not_before`."""
    kind, priority = Kind(kind), Priority(priority)
    ts = now_ts()
    with transaction.atomic():
        state = _locked_state()
        _roll(state, ts)
        window_index, day_index, requested = state.window_index, state.day_index, count
        if state.inactive_since is not None:
            probe_at = state.inactive_probe_at.timestamp() if state.inactive_probe_at else ts
            if ts < probe_at:
                state.save()
                return Grant(0, requested, window_index, day_index, not_before=_dt(probe_at), reason="inactive")
            # One probe call is let through now and then, so calls resume when Strava does.
            count = 1
            state.inactive_probe_at = _dt(ts + settings.QUOTA_INACTIVE_PROBE_SECONDS)
        if state.closed_until is not None and state.closed_until.timestamp() > ts:
            state.save()
            return Grant(0, requested, window_index, day_index, not_before=state.closed_until, reason="closed")

        constraints = _constraints(state, kind, priority, ts)
        granted = max(0, min([count] + [c.available() for c in constraints]))
        probes_left = _probes_left(state, ts)
        probing = probes_left is not None and probes_left < granted
        if probes_left is not None:
            granted = min(granted, probes_left)
            state.probes_short += granted
            state.probes_at = _dt(ts) if granted else state.probes_at
        state.used_short += granted
        state.used_daily += granted
        at_edge = window_bounds(ts)[2] - ts <= settings.QUOTA_EDGE_SECONDS
        if at_edge:
            state.edge_short += granted
        if kind == Kind.READ:
            state.read_used_short += granted
            state.read_used_daily += granted
            if at_edge:
                state.edge_read_short += granted
        state.save()

    edge = at_edge and granted > 0
    if granted >= count:
        return Grant(granted, requested, window_index, day_index, at_edge=edge)
    if probing:
        # Come back soon: once a probe's answer has shown the window's usage, permits flow again.
        retry_at = min(ts + settings.QUOTA_WINDOW_PROBE_RETRY, window_bounds(ts)[2])
        return Grant(granted, requested, window_index, day_index, not_before=_dt(retry_at), reason="probe", at_edge=edge)
    binding = [c for c in constraints if c.available() <= granted]
    retry = max(c.not_before(ts) for c in binding)
    reason = "reserve" if all(c.used + granted < c.limit for c in binding) else binding[0].name
    if any(c.name == "daily" and c.used + granted >= c.limit for c in binding):
        reason = "daily"
    return Grant(granted, requested, window_index, day_index, not_before=_dt(retry), reason=reason, at_edge=edge)


def release(grant: Grant, count: int = 1, *, kind: Kind | str = Kind.READ) -> None:
    """Give back permits that were granted but not spent (the work item was gone)."""
    kind = Kind(kind)
    read = kind == Kind.READ

    def less(value: int) -> int:
        return max(0, value - count)

    with transaction.atomic():
        state = _locked_state()
        _roll(state, now_ts())
        if state.window_index == grant.window_index:
            state.used_short = less(state.used_short)
            state.probes_short = less(state.probes_short)
            state.read_used_short = less(state.read_used_short) if read else state.read_used_short
            if grant.at_edge:
                state.edge_short = less(state.edge_short)
                state.edge_read_short = less(state.edge_read_short) if read else state.edge_read_short
        elif grant.at_edge and state.window_index == grant.window_index + 1:
            # The edge permit was carried into this window when it rolled over.
            state.used_short = less(state.used_short)
            state.read_used_short = less(state.read_used_short) if read else state.read_used_short
        if state.day_index == grant.day_index:
            state.used_daily = less(state.used_daily)
            state.read_used_daily = less(state.read_used_daily) if read else state.read_used_daily
        state.save()


def _pair(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        first, second = (int(part.strip()) for part in value.split(",")[:2])
    except ValueError:
        return None
    return first, second


def _apply_headers(state: QuotaState, headers: Mapping[str, str], grant: Grant | None) -> None:
    limits = _pair(headers.get("X-RateLimit-Limit"))
    usage = _pair(headers.get("X-RateLimit-Usage"))
    read_limits = _pair(headers.get("X-ReadRateLimit-Limit"))
    read_usage = _pair(headers.get("X-ReadRateLimit-Usage"))
    if limits:
        state.limit_short, state.limit_daily = limits
    if read_limits:
        state.read_limit_short, state.read_limit_daily = read_limits
    # A response computed in an earlier window says nothing about the current one.
    same_window = grant is None or grant.window_index == state.window_index
    same_day = grant is None or grant.day_index == state.day_index
    if usage:
        if same_window:
            state.used_short = max(state.used_short, usage[0])
            state.confirmed_window = state.window_index  # the window's real usage is known now
        if same_day:
            state.used_daily = max(state.used_daily, usage[1])
    if read_usage:
        if same_window:
            state.read_used_short = max(state.read_used_short, read_usage[0])
        if same_day:
            state.read_used_daily = max(state.read_used_daily, read_usage[1])


def reconcile(headers: Mapping[str, str], *, grant: Grant | None = None, succeeded: bool = True) -> None:
    """After a call: Strava's headers are the truth (other deployments spend too)."""
    with transaction.atomic():
        state = _locked_state()
        _roll(state, now_ts())
        _apply_headers(state, headers, grant)
        if succeeded and state.inactive_since is not None:
            state.inactive_since = None
            state.inactive_message = ""
            state.inactive_probe_at = None
        state.save()


def record_rate_limited(headers: Mapping[str, str], *, grant: Grant | None = None) -> datetime:
    """A 429 closes the window until it resets (or the day, if that is spent); returns when."""
    ts = now_ts()
    with transaction.atomic():
        state = _locked_state()
        _roll(state, ts)
        _apply_headers(state, headers, grant)
        _, _, w_end = window_bounds(ts)
        _, _, d_end = day_bounds(ts)
        until = w_end
        if state.used_daily >= state.limit_daily or state.read_used_daily >= state.read_limit_daily:
            until = d_end
        retry_after = headers.get("Retry-After")
        if retry_after and retry_after.strip().isdigit():
            until = max(until, ts + int(retry_after))
        # Whatever we thought, Strava says this window is spent.
        state.used_short = max(state.used_short, state.limit_short)
        state.closed_until = _dt(until)
        state.rate_limited_total += 1
        _window_keep(state, rate_limited=1)
        state.save()
    return _dt(until)


def mark_inactive(message: str) -> None:
    """Strava answered 403 "Inactive": pause every call until a probe succeeds."""
    ts = now_ts()
    with transaction.atomic():
        state = _locked_state()
        if state.inactive_since is None:
            state.inactive_since = _dt(ts)
        state.inactive_message = message[:500]
        state.inactive_probe_at = _dt(ts + settings.QUOTA_INACTIVE_PROBE_SECONDS)
        state.save()


def clear_inactive() -> None:
    """The operator says the subscription is back: let calls through now."""
    QuotaState.objects.filter(client_id=_client_id()).update(
        inactive_since=None, inactive_message="", inactive_probe_at=None
    )


def subscription_inactive_message() -> str | None:
    row = QuotaState.objects.filter(client_id=_client_id()).values("inactive_since", "inactive_message").first()
    if not row or row["inactive_since"] is None:
        return None
    return row["inactive_message"] or "Strava reports this application's API subscription as inactive."


def _capacity(limit: int, read_limit: int, kind: Kind, frac: float) -> int:
    usable = limit if kind == Kind.WRITE else min(limit, read_limit)
    return max(0, usable - math.ceil(usable * frac))


def estimate_finish(calls: int, *, kind: Kind | str = Kind.READ, priority: Priority | int = Priority.INTERACTIVE) -> datetime:
    """When `calls` more calls at this priority could be done at the current limits."""
    kind, priority = Kind(kind), Priority(priority)
    ts = now_ts()
    if calls <= 0:
        return _dt(ts)
    status = quota_snapshot(ts)
    state: QuotaState = status["state"]
    available_now = status["available"][priority][kind]
    remaining = calls - available_now
    if remaining <= 0:
        return _dt(ts)
    w_len, d_len = _window_length(), _day_length()
    per_window = _capacity(state.limit_short, state.read_limit_short, kind, 0.0)
    per_day = _capacity(state.limit_daily, state.read_limit_daily, kind, _reserve_fraction(settings.QUOTA_RESERVE_DAILY, priority))
    per_window = max(1, per_window)
    per_day = max(1, min(per_day, per_window * max(1, d_len // w_len)))
    _, _, w_end = window_bounds(ts)
    _, _, d_end = day_bounds(ts)
    start = max(w_end, state.closed_until.timestamp() if state.closed_until else 0)
    used_today = state.used_daily if kind == Kind.WRITE else max(state.used_daily, state.read_used_daily)
    left_today = max(0, per_day - used_today - available_now)
    windows_left_today = max(0, int((d_end - start) // w_len))
    today = min(left_today, windows_left_today * per_window)
    if remaining <= today:
        return _dt(start + (math.ceil(remaining / per_window) - 1) * w_len + w_len)
    remaining -= today
    full_days, rest = divmod(remaining, per_day)
    if rest == 0:
        full_days, rest = full_days - 1, per_day
    return _dt(d_end + full_days * d_len + math.ceil(rest / per_window) * w_len)


def quota_snapshot(ts: float | None = None) -> dict:
    """Limits, usage, resets and permits available now per priority and kind."""
    ts = now_ts() if ts is None else ts
    with transaction.atomic():
        state = _locked_state()
        _roll(state, ts)
    available: dict[Priority, dict[Kind, int]] = {}
    closed = state.closed_until is not None and state.closed_until.timestamp() > ts
    for priority in Priority:
        available[priority] = {}
        for kind in Kind:
            if closed or state.inactive_since is not None:
                available[priority][kind] = 0
            else:
                available[priority][kind] = min(c.available() for c in _constraints(state, kind, priority, ts))
    _, _, w_end = window_bounds(ts)
    _, _, d_end = day_bounds(ts)
    return {
        "state": state,
        "available": available,
        "window_resets_at": _dt(w_end),
        "day_resets_at": _dt(d_end),
        "closed": closed,
    }


def next_permit_at(*, kind: Kind | str = Kind.READ, priority: Priority | int = Priority.INTERACTIVE) -> datetime | None:
    """When a call of this kind and priority may next be granted; None when one may be now.

    What `acquire` would put in its `not_before`, without taking a permit: for a command that
    says how long it waits ("quota spent; resumes at 14:45").
    """
    kind, priority = Kind(kind), Priority(priority)
    ts = now_ts()
    snap = quota_snapshot(ts)
    state: QuotaState = snap["state"]
    if state.inactive_since is not None:
        probe_at = state.inactive_probe_at
        return probe_at if probe_at is not None and probe_at.timestamp() > ts else None
    if snap["closed"]:
        return state.closed_until
    constraints = _constraints(state, kind, priority, ts)
    if min(c.available() for c in constraints) > 0:
        if _probes_left(state, ts) == 0:  # a probe's answer opens the window in a moment
            return _dt(min(ts + settings.QUOTA_WINDOW_PROBE_RETRY, window_bounds(ts)[2]))
        return None
    return _dt(max(c.not_before(ts) for c in constraints if c.available() == 0))


def quota_status() -> dict:
    """A JSON-ready view of the quota, for `quota_status` and /api/rate-limit/."""
    snap = quota_snapshot()
    state: QuotaState = snap["state"]
    return {
        "client_id": state.client_id,
        "limits": {
            "overall": {"window": state.limit_short, "daily": state.limit_daily},
            "read": {"window": state.read_limit_short, "daily": state.read_limit_daily},
        },
        "usage": {
            "overall": {"window": state.used_short, "daily": state.used_daily},
            "read": {"window": state.read_used_short, "daily": state.read_used_daily},
        },
        "window_seconds": _window_length(),
        "window_resets_at": snap["window_resets_at"].isoformat(),
        "day_resets_at": snap["day_resets_at"].isoformat(),
        "closed_until": state.closed_until.isoformat() if snap["closed"] and state.closed_until else None,
        "rate_limited_total": state.rate_limited_total,
        # False until a response's headers have shown this window's usage: only probe permits till then.
        "window_usage_known": state.confirmed_window == state.window_index,
        "available_now": {
            p.name.lower(): {k.value: snap["available"][p][k] for k in Kind} for p in Priority
        },
        "subscription_inactive": state.inactive_since is not None,
        "subscription_message": subscription_inactive_message(),
        "backlog": backlog_status(),
    }


def backlog_status() -> list[dict]:
    """Work waiting for calls, per backlog (settings.QUOTA_BACKLOGS), with when it could be done."""
    from django.utils.module_loading import import_string

    rows = []
    for name, priority_name, kind, path in settings.QUOTA_BACKLOGS:
        calls = int(import_string(path)())
        priority = Priority[priority_name.upper()]
        finish = estimate_finish(calls, kind=kind, priority=priority)
        rows.append({"backlog": name, "priority": priority.name.lower(), "calls": calls,
                     "estimated_finish": finish.isoformat() if calls else None})
    return rows


def seconds_until(moment: datetime) -> float:
    return max(0.0, moment.timestamp() - now_ts())


def reset_for_tests() -> None:
    """Forget all quota state (tests and benchmarks start from a clean budget)."""
    QuotaState.objects.all().delete()


__all__ = [
    "Grant",
    "Kind",
    "Priority",
    "acquire",
    "clear_inactive",
    "estimate_finish",
    "mark_inactive",
    "next_permit_at",
    "quota_status",
    "reconcile",
    "record_rate_limited",
    "release",
]
