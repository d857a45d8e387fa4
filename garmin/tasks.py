"""django-q2 entry points: load by id, call a service; safe to run twice (the lease and the rows decide)."""

from __future__ import annotations

from datetime import datetime

from . import services


def garmin_check(athlete_id: int, lease: str) -> dict:
    """A check the dispatcher handed over with its lease (ISO 8601): runs only while the row holds that lease."""
    result = services.garmin_check(athlete_id=athlete_id, lease=datetime.fromisoformat(lease))
    return {"downloaded": result.downloaded, "on_strava": result.on_strava, "error": result.error,
            "skipped": result.skipped}
