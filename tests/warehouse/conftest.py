"""Warehouse fixtures: Strava-shaped JSON built without HTTP, the test export, the simulator's history."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest

from tests.conftest import DATA_DIR

EXPORT_ZIP = DATA_DIR / "strava_export" / "strava_export.zip"
_ids = count(5_000_000_001)


def summary_json(*, activity_id: int | None = None, start: datetime | None = None, athlete_strava_id: int = 1001,
                 **overrides) -> dict:
    """A SummaryActivity as Strava lists it."""
    activity_id = activity_id or next(_ids)
    start = start or datetime(2025, 5, 1, 7, 0, tzinfo=UTC)
    data = {
        "resource_state": 2, "athlete": {"id": athlete_strava_id, "resource_state": 1}, "name": "Morning Ride",
        "distance": 42_195.5, "moving_time": 5400, "elapsed_time": 5700, "total_elevation_gain": 420.0, "type": "Ride",
        "sport_type": "Ride", "workout_type": None, "id": activity_id, "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_date_local": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": "(GMT+01:00) Europe/Paris", "utc_offset": 7200.0, "achievement_count": 2, "kudos_count": 5,
        "comment_count": 0, "athlete_count": 1, "photo_count": 0, "total_photo_count": 1,
        "map": {"id": f"a{activity_id}", "summary_polyline": "_p~iF~ps|U_ulLnnqC_mqNvxq`@", "resource_state": 2},
        "trainer": False, "commute": False, "manual": False, "private": False, "visibility": "everyone",
        "flagged": False, "gear_id": "b1234", "start_latlng": [38.5, -120.2], "end_latlng": [43.252, -126.453],
        "average_speed": 7.81, "max_speed": 15.2, "average_cadence": 86.0, "average_watts": 201.3,
        "weighted_average_watts": 214, "max_watts": 702, "kilojoules": 1087.0, "device_watts": True,
        "has_heartrate": True, "average_heartrate": 141.2, "max_heartrate": 177.0, "elev_high": 812.0,
        "elev_low": 390.0, "upload_id": activity_id + 7, "external_id": f"garmin_{activity_id}.fit", "pr_count": 1,
    }
    data.update(overrides)
    return data


def detail_json(summary: dict, *, efforts: int = 2) -> dict:
    """A DetailedActivity for a summary: splits, a full polyline, segment efforts."""
    start = datetime.fromisoformat(summary["start_date"].replace("Z", "+00:00"))
    detail = {
        **summary, "resource_state": 3, "description": "Windy, coffee after.", "calories": 1210.0,
        "device_name": "Garmin Edge 530", "gear": {"id": summary.get("gear_id"), "name": "Canyon Endurace"},
        "map": {**summary["map"], "polyline": summary["map"]["summary_polyline"]},
        "splits_metric": [{"split": i + 1, "distance": 1000.0, "elapsed_time": 240, "moving_time": 236,
                           "elevation_difference": 3.0, "average_speed": 4.2 + i / 10, "average_heartrate": 140.0,
                           "pace_zone": 2} for i in range(3)],
        "segment_efforts": [
            {"id": summary["id"] * 10 + i, "name": f"Climb {i}", "elapsed_time": 300 + i, "moving_time": 299,
             "start_date": (start + timedelta(minutes=10 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "start_date_local": (start + timedelta(minutes=10 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "distance": 1500.0, "activity": {"id": summary["id"]}, "athlete": {"id": summary["athlete"]["id"]},
             "pr_rank": 1 if i == 0 else None, "kom_rank": None, "hidden": False,
             "segment": {"id": 700 + i, "name": f"Climb {i}", "activity_type": "Ride", "distance": 1500.0,
                         "average_grade": 5.0, "maximum_grade": 9.0, "elevation_high": 500.0, "elevation_low": 420.0,
                         "climb_category": 1, "city": "Annecy", "state": "", "country": "France", "private": False,
                         "hazardous": False}}
            for i in range(efforts)
        ],
    }
    return detail


@pytest.fixture
def store(alice):
    """Put summaries in alice's warehouse: `store(summary_json(...), ...)` -> activities."""
    from warehouse.models import Activity
    from warehouse.services import activities_upsert

    def put(*summaries: dict, athlete=None):
        athlete = athlete or alice
        activities_upsert(athlete_id=athlete.pk, summaries=list(summaries))
        return list(Activity.objects.filter(strava_id__in=[s["id"] for s in summaries]).order_by("-start_date"))

    return put


@pytest.fixture
def export_zip(tmp_path):
    """A copy of the test export, optionally with activities.csv replaced."""
    def make(*, csv_bytes: bytes | None = None, name: str = "export.zip") -> Path:
        target = tmp_path / name
        if csv_bytes is None:
            target.write_bytes(EXPORT_ZIP.read_bytes())
            return target
        with zipfile.ZipFile(EXPORT_ZIP) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in source.infolist():
                out.writestr(info, csv_bytes if info.filename == "activities.csv" else source.read(info))
        return target

    return make


def export_csv() -> bytes:
    with zipfile.ZipFile(EXPORT_ZIP) as archive:
        return archive.read("activities.csv")


def api_calls(sim_athlete_id: int | None = None) -> Counter:
    """Requests the simulator answered under /api/v3, by path (and the query, for list calls)."""
    from sandbox.models import SimRequestLog

    rows = SimRequestLog.objects.filter(path__startswith="/api/v3/")
    if sim_athlete_id is not None:
        rows = rows.filter(athlete_id=sim_athlete_id)
    return Counter(rows.values_list("path", flat=True))


def list_queries(sim_athlete_id: int) -> list[str]:
    from sandbox.models import SimRequestLog

    return list(SimRequestLog.objects.filter(athlete_id=sim_athlete_id, path="/api/v3/athlete/activities")
                .order_by("id").values_list("query", flat=True))


@pytest.fixture
def plenty_of_quota(settings):
    """Strava's real read limits (100 / 15 min) would make a 2,000-activity test last hours; the counts are the same."""
    from stravasync.strava import quota

    for name in ("LIMIT_SHORT", "LIMIT_DAILY", "READ_LIMIT_SHORT", "READ_LIMIT_DAILY"):
        setattr(settings, f"SANDBOX_{name}", 1_000_000)
        setattr(settings, f"QUOTA_{name}", 1_000_000)
    quota.reset_for_tests()


@pytest.fixture
def sim_history(sim_connected_athlete, plenty_of_quota):
    """A connected athlete whose simulated Strava account holds `activities` activities with efforts."""
    import random

    from sandbox.services import sim_activities_seed, sim_athlete_create, sim_segments_seed

    def make(activities: int, *, seed: int = 11, firstname: str = "Sim", now: datetime | None = None):
        rng = random.Random(seed)
        sim_athlete = sim_athlete_create(firstname=firstname, lastname="Rider", rng=rng)
        segments = sim_segments_seed(count=40, rng=rng, now=now)
        sim_activities_seed(sim_athlete, activities, segments=segments, rng=rng, years=4, now=now)
        athlete = sim_connected_athlete(sim_athlete=sim_athlete)
        return athlete, sim_athlete

    return make


def csv_of(data: bytes) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
