"""django-q2 entry points: load by id, call a service. Safe to run twice or never."""

from __future__ import annotations

from stravasync.strava.quota import Priority

from . import services


def fetch_segment(segment_id: int, claim: str = "", priority: int = Priority.BACKFILL, grant: dict | None = None) -> str:
    return services.fetch_claimed(segment_id=segment_id, grant=grant, claim=claim, priority=priority)


def refresh_segment(segment_id: int, athlete_id: int | None = None) -> str:
    return services.segment_refresh(segment_id=segment_id, athlete_id=athlete_id)
