"""Why work waits, in plain words: the quota's state read for one priority and kind of call."""

from __future__ import annotations

from datetime import datetime

from stravasync.strava import quota
from stravasync.strava.quota import Kind, Priority

INACTIVE = "Strava says this application is inactive; calls resume by themselves when Strava does"
RECONNECT = "reconnect Strava to continue"
GARMIN_SIGNIN = "Garmin needs you to sign in again (on the Garmin page)"


def clock(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC"


def quota_wait(*, snapshot: dict, priority: Priority, kind: Kind) -> str | None:
    """The reason calls of this priority and kind cannot go now, or None when they can."""
    state = snapshot["state"]
    if state.inactive_since is not None:
        return INACTIVE
    window_reset, day_reset = snapshot["window_resets_at"], snapshot["day_resets_at"]
    if snapshot["closed"] and state.closed_until is not None:
        resume = clock(state.closed_until)
        daily_spent = state.used_daily >= state.limit_daily or state.read_used_daily >= state.read_limit_daily
        if daily_spent or state.closed_until >= day_reset:
            return f"Strava's daily allowance is spent; resumes at {resume}"
        if state.closed_until > window_reset:
            # A 429's Retry-After reached past the window: the day is not spent, Strava asked for a pause.
            return f"Strava asked us to pause; resumes at {resume}"
        return f"Strava's 15-minute allowance is spent; resumes at {resume}"
    if snapshot["available"][priority][kind] > 0:
        return None
    read = kind == Kind.READ
    if state.used_daily >= state.limit_daily or (read and state.read_used_daily >= state.read_limit_daily):
        return f"Strava's daily allowance is spent; resumes at {clock(day_reset)}"
    if state.used_short >= state.limit_short or (read and state.read_used_short >= state.read_limit_short):
        return f"Strava's 15-minute allowance is spent; resumes at {clock(window_reset)}"
    return ("the rest of Strava's 15-minute allowance is kept for people waiting on a page; "
            f"resumes at {clock(window_reset)}")


def _failure_cause(last_error: str) -> str:
    # warehouse's pull books "<reason> (<ErrorClass>: <Strava's message>)" on the SyncState.
    if "(ServerError" in last_error:
        return "Strava answered with an error"
    if "(NetworkError" in last_error:
        return "Strava did not answer in time"
    return "Strava refused the pull"


def pull_failed_wait(*, last_error: str, retry_at: datetime | None, now: datetime, first: bool) -> str:
    """Why the athlete's activities wait after a failed pull (the quota's own waits are said by quota_wait)."""
    when = f"at {clock(retry_at)}" if retry_at is not None and retry_at > now else "in a moment"
    cause = _failure_cause(last_error)
    if first:
        return f"{cause}, so your first activities are queued: the background sync fetches them {when}"
    return f"{cause} on the last pull; the background sync tries again {when}"


def finish_estimate(*, calls: int, priority: Priority, kind: Kind) -> datetime | None:
    return quota.estimate_finish(calls, kind=kind, priority=priority) if calls > 0 else None
