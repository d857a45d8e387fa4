"""An athlete with a bit of everything (activities over many years, details, segments, uploads), and sign-in.

Built straight into the database, no HTTP: the page tests look at layout, not at syncing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.test import Client

from tests.warehouse.conftest import detail_json, summary_json

# The years of the blob (2013, 2018, 2019) and a few more, every one with close totals.
YEARS = (2013, 2016, 2018, 2019, 2021, 2023, 2024, 2025)
SPORTS = ("Ride", "GravelRide", "Walk", "Hike", "Run")
# (elapsed seconds, Strava's pr_rank at the time) in date order
EFFORTS_ON_700 = ((1740, 1), (1716, 1), (1686, 1), (1700, 2), (1750, None))
BEST_ON_700 = "28:06"
LONG_NAME = "2024-06-01-07-31-12-a-very-long-garmin-export-file-name-without-any-space-in-it.fit"


@dataclass
class Seeded:
    activity_id: int  # a detailed activity with segment efforts
    segment_pk: int
    batch_pk: int
    upload_ids: dict[str, int]


def sign_in(page, base_url: str, user) -> None:
    """Give the browser a session of `user` (the OAuth dance has its own tests)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}])


def seed_everything(athlete) -> Seeded:
    from uploads.models import Upload, UploadBatch
    from warehouse.models import Activity
    from warehouse.services import activities_upsert, activity_store_detail

    summaries = []
    for year in YEARS:
        for n, sport in enumerate(SPORTS):
            for month in (2, 5, 8, 11):
                start = datetime(year, month, 3 + n, 7, 0, tzinfo=UTC)
                summaries.append(summary_json(start=start, athlete_strava_id=athlete.strava_id, sport_type=sport,
                                              type=sport, distance=20_000.0 + 500 * n + year % 7,
                                              name=f"{sport} of {start:%B %Y}"))
    activities_upsert(athlete_id=athlete.pk, summaries=summaries)
    # Five detailed activities, in date order, whose first effort is on segment 700: the best (28:06) is
    # neither the first nor the last, and Strava ranked three of them #1 when each was ridden.
    detailed = sorted(summaries[-5:], key=lambda s: s["start_date"])
    for summary, (elapsed, pr_rank) in zip(detailed, EFFORTS_ON_700, strict=True):
        detail = detail_json(summary, efforts=2)
        detail["segment_efforts"][0].update(elapsed_time=elapsed, pr_rank=pr_rank)
        # On the first two points of the activity's polyline (Google's example line).
        detail["segment_efforts"][0]["segment"].update(start_latlng=[38.5, -120.2], end_latlng=[40.7, -120.95])
        activity_store_detail(activity=Activity.objects.get(strava_id=summary["id"]), detail=detail)

    from segments.models import Segment

    segment = Segment.objects.get(strava_id=700)
    batch = UploadBatch.objects.create(athlete=athlete, source=UploadBatch.Source.WEB, label="browser upload",
                                       file_count=5)
    rows = {
        "done": dict(status=Upload.Status.DONE, activity_id=summaries[0]["id"], file_type="activity"),
        "sleep": dict(status=Upload.Status.JUNK, reason="junk: 49 file", file_type="49"),
        "broken": dict(status=Upload.Status.FAILED, reason="unreadable: unclosed token: line 1, column 76",
                       file_type="gpx"),
        "duplicate": dict(status=Upload.Status.DUPLICATE, duplicate_of_activity=summaries[1]["id"],
                          reason="Strava already has an activity starting at the same time "
                                 f"(activity {summaries[1]['id']})"),
        "queued": dict(status=Upload.Status.QUEUED),
    }
    ids = {}
    for i, (key, fields) in enumerate(rows.items()):
        upload = Upload.objects.create(batch=batch, athlete=athlete, original_name=f"{key}-{LONG_NAME}",
                                       sha256=f"{i:064d}", start_time=datetime(2024, 6, 1, tzinfo=UTC)
                                       + timedelta(days=i), **fields)
        ids[key] = upload.pk
    return Seeded(activity_id=detailed[2]["id"], segment_pk=segment.pk, batch_pk=batch.pk, upload_ids=ids)
