"""The segments app's tables in the warehouse export: the athlete's efforts and the segments they rode."""

from __future__ import annotations

from typing import Any

from warehouse.exporting import Column, ExportTable, columns

from .models import Segment, SegmentEffort
from .services import PER_ATHLETE_KEYS


def _shared_only(details: Any) -> Any:
    """A DetailedSegment without the parts about whichever athlete's token fetched it (as stored, and again here)."""
    return {k: v for k, v in details.items() if k not in PER_ATHLETE_KEYS} if isinstance(details, dict) else details


SEGMENT_EFFORTS = ExportTable(
    name="segment_efforts",
    description="one row per segment effort of the athlete (seconds, metres); pr_rank 1-3 among their own",
    rows=lambda athlete: SegmentEffort.objects.filter(athlete=athlete).order_by("start_date", "id"),
    columns=columns(
        {
            "effort_id": "int", "activity_id": "int", "segment_id": "int", "name": "str", "elapsed_time": "int",
            "moving_time": "int", "start_date": "ts", "start_date_local": "local_ts", "distance": "float",
            "start_index": "int", "end_index": "int", "average_heartrate": "float", "max_heartrate": "float",
            "average_watts": "float", "device_watts": "bool", "average_cadence": "float", "pr_rank": "int",
            "kom_rank": "int", "hidden": "bool",
        },
        effort_id="strava_id", activity_id="activity__strava_id", segment_id="segment__strava_id",
    ),
)

SEGMENTS = ExportTable(
    name="segments",
    description="the segments the athlete has efforts on (climb_category: 0 none to 5 HC); details as JSON",
    # Only segments this athlete rode; a subquery, so a segment ridden often is still one row.
    rows=lambda athlete: Segment.objects.filter(
        pk__in=SegmentEffort.objects.filter(athlete=athlete).values("segment_id")).order_by("strava_id"),
    columns=(
        *columns(
            {
                "segment_id": "int", "name": "str", "activity_type": "str", "distance": "float",
                "average_grade": "float", "maximum_grade": "float", "elevation_high": "float",
                "elevation_low": "float", "total_elevation_gain": "float", "climb_category": "int", "city": "str",
                "state": "str", "country": "str", "start_latlng": "json", "end_latlng": "json", "private": "bool",
                "hazardous": "bool", "effort_count": "int", "athlete_count": "int", "star_count": "int",
                "details_fetched_at": "ts",
            },
            segment_id="strava_id",
        ),
        Column("details", "details", "json", clean=_shared_only),
    ),
)
