"""django-q2 entry points: load by id, call a service; safe to run twice (the lease and the rows decide)."""

from __future__ import annotations

from . import services


def garmin_check(athlete_id: int) -> dict:
    """A check the dispatcher handed over with the lease already taken."""
    result = services.garmin_check(athlete_id=athlete_id, leased=True)
    return {"downloaded": result.downloaded, "on_strava": result.on_strava, "error": result.error}
