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
        if state.closed_until > window_reset:
            return f"Strava's daily allowance is spent; resumes at {clock(state.closed_until)}"
        return f"Strava's 15-minute allowance is spent; resumes at {clock(state.closed_until)}"
    if snapshot["available"][priority][kind] > 0:
        return None
    read = kind == Kind.READ
    if state.used_daily >= state.limit_daily or (read and state.read_used_daily >= state.read_limit_daily):
        return f"Strava's daily allowance is spent; resumes at {clock(day_reset)}"
    if state.used_short >= state.limit_short or (read and state.read_used_short >= state.read_limit_short):
        return f"Strava's 15-minute allowance is spent; resumes at {clock(window_reset)}"
    return ("the rest of Strava's 15-minute allowance is kept for people waiting on a page; "
            f"resumes at {clock(window_reset)}")


def finish_estimate(*, calls: int, priority: Priority, kind: Kind) -> datetime | None:
    return quota.estimate_finish(calls, kind=kind, priority=priority) if calls > 0 else None
