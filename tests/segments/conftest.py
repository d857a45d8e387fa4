"""Activities with stored details, built without HTTP, and the simulator's history turned into warehouse rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

_ids = count(900_000_001)


def effort_json(*, effort_id: int, segment_id: int, activity_id: int, athlete_strava_id: int, start: datetime,
                elapsed: int, segment_name: str = "", pr_rank: int | None = None, **extra) -> dict:
    """A DetailedSegmentEffort as Strava sends it inside a detailed activity."""
    return {
        "id": effort_id,
        "resource_state": 2,
        "name": segment_name or f"Segment {segment_id}",
        "activity": {"id": activity_id},
        "activity_id": activity_id,
        "athlete": {"id": athlete_strava_id},
        "elapsed_time": elapsed,
        "moving_time": elapsed - 1,
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_date_local": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "distance": 1234.5,
        "start_index": 10,
        "end_index": 10 + elapsed,
        "average_cadence": 88.0,
        "device_watts": True,
        "average_watts": 250.0,
        "average_heartrate": 150.0,
        "max_heartrate": 171.0,
        "pr_rank": pr_rank,
        "kom_rank": None,
        "hidden": False,
        "segment": {
            "id": segment_id,
            "resource_state": 2,
            "name": segment_name or f"Segment {segment_id}",
            "activity_type": "Ride",
            "distance": 1230.0,
            "average_grade": 4.2,
            "maximum_grade": 9.1,
            "elevation_high": 140.0,
            "elevation_low": 88.0,
            "start_latlng": [51.5, -0.1],
            "end_latlng": [51.51, -0.09],
            "climb_category": 1,
            "city": "London",
            "state": "England",
            "country": "United Kingdom",
            "private": False,
            "hazardous": False,
            "starred": False,
        },
        **extra,
    }


@pytest.fixture
def make_activity(db):
    """A warehouse activity; `efforts=[(segment_id, elapsed), ...]` puts a detail with those efforts on it."""
    from warehouse.models import Activity

    def make(athlete, *, efforts: list[tuple[int, int]] | None = None, start: datetime | None = None,
             detail: dict | None = None, strava_id: int | None = None, pr_on: set[int] | None = None) -> Activity:
        strava_id = strava_id or next(_ids)
        start = start or datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
        if efforts is not None and detail is None:
            detail = {
                "id": strava_id,
                "name": "Morning Ride",
                "segment_efforts": [
                    effort_json(effort_id=strava_id * 100 + i, segment_id=segment_id, activity_id=strava_id,
                                athlete_strava_id=athlete.strava_id, start=start + timedelta(minutes=5 * i),
                                elapsed=elapsed, pr_rank=1 if segment_id in (pr_on or set()) else None)
                    for i, (segment_id, elapsed) in enumerate(efforts)
                ],
            }
        return Activity.objects.create(
            strava_id=strava_id, athlete=athlete, name="Morning Ride", sport_type="Ride", start_date=start,
            distance=20_000.0, moving_time=3600, elapsed_time=3700, detail=detail,
            detail_fetched_at=start if detail is not None else None,
        )

    return make
