"""The DuckDB / Parquet export: the README's queries answer as the stats page does, one athlete's rows only."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from tests.processes import ROOT

from .conftest import detail_json, summary_json

pytestmark = pytest.mark.django_db

SPORTS = ("Ride", "Run", "GravelRide", "Walk")


def readme_queries() -> dict[str, str]:
    """The README's example queries, by their first line's comment ("-- longest rides")."""
    blocks = re.findall(r"```sql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return {block.splitlines()[0].removeprefix("-- ").strip(): block for block in blocks}


@pytest.fixture
def history(alice, bob, store):
    """Alice: 40 activities over four years and four sports, half with details (and so efforts); Bob: a few of his own."""
    from warehouse.models import Activity
    from warehouse.services import activity_store_detail

    start = datetime(2021, 3, 1, 6, 30, tzinfo=UTC)
    for i in range(40):
        summary = summary_json(start=start + timedelta(days=29 * i, hours=i % 5), sport_type=SPORTS[i % 4],
                               type=SPORTS[i % 4], distance=5_000.0 + 1_234.5 * i, moving_time=1_800 + 60 * i,
                               total_elevation_gain=10.0 * (i % 7), name=f"Outing {i}")
        (activity,) = store(summary)
        if i % 2 == 0:
            detail = detail_json(summary, efforts=1 + i % 3)
            detail["device_name"] = "Garmin Edge 530" if i % 4 else "Wahoo ELEMNT"
            activity_store_detail(activity=activity, detail=detail)
    for i in range(3):
        summary = summary_json(athlete_strava_id=bob.strava_id, start=start + timedelta(days=i), name="Bob's ride",
                               distance=99_999.0)
        (activity,) = store(summary, athlete=bob)
        detail = detail_json(summary, efforts=1)
        detail["segment_efforts"][0]["segment"]["id"] = 999  # a segment only Bob rode
        activity_store_detail(activity=activity, detail=detail)
    assert Activity.objects.filter(athlete=alice).count() == 40
    return alice


def export(athlete, fmt: str, tmp_path: Path) -> Path:
    out = StringIO()
    call_command("export_warehouse", "--athlete", str(athlete.strava_id), "--format", fmt, "--output",
                 str(tmp_path / f"export.{fmt}"), stdout=out)
    assert "wrote" in out.getvalue()
    return tmp_path / f"export.{fmt}"


def test_the_readme_queries_answer_with_the_stats_pages_counts_and_sums(history, tmp_path):
    from segments.selectors import segments_for_athlete
    from warehouse.models import Activity
    from warehouse.selectors import stats_years_compared

    queries = readme_queries()
    assert {"distance per year by sport", "longest rides", "most-ridden segments"} <= set(queries)
    db = duckdb.connect(str(export(history, "duckdb", tmp_path)), read_only=True)

    per_year = db.execute(queries["distance per year by sport"]).fetchall()
    stats = stats_years_compared(athlete=history)
    expected = sorted(
        ((row["year"], sport, int(t["count"]), round(t["distance"] / 1000, 1), round(t["moving_time"] / 3600, 1),
          round(t["elevation_gain"]))
         for row in stats["table"] for sport, t in row["sports"].items()),
        key=lambda r: (-r[0], -r[3]))
    assert [(y, s, n, km, h, round(m)) for y, s, n, km, h, m in per_year] == expected
    assert sum(r[2] for r in per_year) == 40 and len({r[0] for r in per_year}) == 4

    longest = db.execute(queries["longest rides"]).fetchall()
    rides = Activity.objects.filter(athlete=history, sport_type__endswith="Ride").order_by("-distance", "strava_id")[:10]
    assert [(r[1], r[3]) for r in longest] == [(a.name, round(a.distance / 1000, 1)) for a in rides]

    ridden = db.execute(queries["most-ridden segments"]).fetchall()
    mine = list(segments_for_athlete(athlete=history, order="rides")[:10])
    assert [(r[0], r[2], r[3]) for r in ridden] == [(s.strava_id, s.rides, s.best) for s in mine]
    assert 999 not in {r[0] for r in db.execute("SELECT segment_id FROM segments").fetchall()}

    devices = dict(db.execute(queries["activities per recording device, from the JSON details"]).fetchall())
    assert devices == {"Garmin Edge 530": 10, "Wahoo ELEMNT": 10}


def test_only_the_athletes_own_rows_are_exported_and_no_ones_personal_segment_stats(history, bob, tmp_path):
    from segments.models import Segment, SegmentEffort

    # A segment as another athlete's token might have brought it, their PR inside.
    Segment.objects.filter(strava_id=700).update(details={"id": 700, "athlete_segment_stats": {"pr_elapsed_time": 1},
                                                          "athlete_pr_effort": {"id": 5}, "star_count": 3})
    db = duckdb.connect(str(export(history, "duckdb", tmp_path)), read_only=True)

    assert db.execute("SELECT count(*) FROM activities").fetchone() == (40,)
    assert db.execute("SELECT count(*) FROM activities WHERE name = 'Bob''s ride'").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM activity_details").fetchone() == (20,)
    assert db.execute("SELECT count(*) FROM segment_efforts").fetchone() == (
        SegmentEffort.objects.filter(athlete=history).count(),)
    assert db.execute("SELECT count(*) FROM segment_efforts WHERE activity_id NOT IN (SELECT activity_id FROM activities)"
                  ).fetchone() == (0,)
    details = db.execute("SELECT details FROM segments WHERE segment_id = 700").fetchone()[0]
    assert "athlete_segment_stats" not in details and "athlete_pr_effort" not in details and '"star_count":3' in details
    assert db.execute("SELECT typeof(detail) FROM activity_details LIMIT 1").fetchone() == ("JSON",)
    assert db.execute("SELECT typeof(start_date), typeof(start_day) FROM activities LIMIT 1").fetchone() == (
        "TIMESTAMP WITH TIME ZONE", "DATE")


def test_parquet_is_one_file_per_table_in_a_zip_with_the_same_rows(history, tmp_path):
    with zipfile.ZipFile(export(history, "parquet", tmp_path)) as archive:
        assert sorted(archive.namelist()) == ["activities.parquet", "activity_details.parquet",
                                              "segment_efforts.parquet", "segments.parquet"]
        tables = {name: pq.read_table(io.BytesIO(archive.read(name))) for name in archive.namelist()}
    assert tables["activities.parquet"].num_rows == 40
    assert tables["activity_details.parquet"].num_rows == 20
    assert set(tables["activities.parquet"].column_names) >= {"activity_id", "sport_type", "distance", "start_day"}


def test_rows_are_read_and_written_a_batch_at_a_time(history):
    from warehouse.services.analytics_export import ACTIVITIES, _batches

    counted: dict[str, int] = {}
    sizes = [batch.num_rows for batch in _batches(ACTIVITIES, history, 15, counted)]
    assert sizes == [15, 15, 10] and counted == {"activities": 40}


def test_an_athlete_with_no_activities_gets_empty_tables_and_is_told_why(alice, tmp_path):
    out = StringIO()
    call_command("export_warehouse", "--athlete", str(alice.strava_id), "--output", str(tmp_path), stdout=out)
    assert "no activities in the warehouse yet" in out.getvalue()
    db = duckdb.connect(str(tmp_path / f"stravasync-{alice.strava_id}.duckdb"), read_only=True)
    assert db.execute("SELECT count(*) FROM activities").fetchone() == (0,)


def test_the_activities_page_offers_the_download_of_ones_own_file(history, client, tmp_path):
    client.force_login(history.user)
    page = client.get("/activities/")
    assert 'id="export-duckdb"' in page.content.decode() and 'id="export-parquet"' in page.content.decode()

    response = client.get("/activities/export.duckdb")
    assert response.status_code == 200
    assert f"stravasync-{history.strava_id}-" in response["Content-Disposition"]
    path = tmp_path / "download.duckdb"
    path.write_bytes(b"".join(response.streaming_content))
    db = duckdb.connect(str(path), read_only=True)
    assert db.execute("SELECT count(*) FROM activities").fetchone() == (40,)

    response = client.get("/activities/export.parquet")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"


def test_anonymous_visitors_get_no_export(client, history):
    response = client.get("/activities/export.duckdb")
    assert response.status_code == 302 and "next=/activities/export.duckdb" in response["Location"]
