from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stravasync.strava import quota

# 2026-03-02 14:33:20 UTC: inside the 14:30 window, which resets at 14:45.
NOW = datetime(2026, 3, 2, 14, 33, 20, tzinfo=UTC).timestamp()


@pytest.fixture
def clock(monkeypatch, settings):
    settings.QUOTA_WINDOW_SECONDS = 900
    settings.QUOTA_DAY_SECONDS = 86400
    moment = {"ts": NOW}
    monkeypatch.setattr(quota, "now_ts", lambda: moment["ts"])
    return moment


@pytest.fixture
def add_activity():
    from warehouse.models import Activity

    def add(athlete, *, strava_id: int, name: str = "Morning Ride", details: bool = False, distance: float = 42195.0):
        start = datetime(2026, 2, 1, 7, 0, tzinfo=UTC)
        return Activity.objects.create(
            strava_id=strava_id, athlete=athlete, name=name, start_date=start, start_day=start.date(),
            distance=distance, detail_fetched_at=start if details else None,
        )

    return add


@pytest.fixture
def add_upload():
    from uploads.models import Upload, UploadBatch

    def add(athlete, *, status: str, name: str = "ride.fit", reason: str = ""):
        batch = UploadBatch.objects.create(athlete=athlete, source="form")
        return Upload.objects.create(batch=batch, athlete=athlete, original_name=name, sha256=name * 2,
                                     status=status, reason=reason)

    return add
