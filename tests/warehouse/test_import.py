"""Strava's export zip: read by position, English and German, zero calls; then enrich fetches only what it lacks."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.data.strava_export.make_export import german_csv

from .conftest import api_calls, csv_of, export_csv


@pytest.fixture
def rows():
    return csv_of(export_csv())


def test_the_test_export_has_strava_s_94_columns_with_five_names_twice(rows):
    from collections import Counter

    header = rows[0]
    assert len(header) == 94 and all(len(r) == 94 for r in rows[1:])
    assert sorted(n for n, c in Counter(header).items() if c == 2) == [
        "Commute", "Distance", "Elapsed Time", "Max Heart Rate", "Relative Effort"]
    # csv.DictReader would keep only the second Distance (metres) and lose the first (km): hence by position.
    assert float(rows[1][6]) * 1000 == pytest.approx(float(rows[1][17]), abs=6)


@pytest.mark.django_db
def test_import_creates_every_activity_with_no_call_reading_each_column_by_position(alice, export_zip, rows):
    from warehouse.models import Activity, SyncRun, SyncState
    from warehouse.services import strava_export_import

    result = strava_export_import(athlete_id=alice.pk, path=export_zip())

    assert (result.rows, result.created, result.skipped, result.errors) == (84, 84, 0, [])
    assert result.columns.language == "en" and result.columns.unknown == [] and result.columns.by_position == []
    first = rows[1]
    activity = Activity.objects.get(strava_id=int(first[0]))
    assert activity.start_date == datetime(2013, 7, 16, 18, 27, 40, tzinfo=UTC)  # "Jul 16, 2013, 6:27:40 PM", UTC
    assert activity.distance == pytest.approx(float(first[17]), abs=0.1)  # metres: the second Distance
    assert activity.elapsed_time == int(float(first[15])) and activity.moving_time == int(float(first[16]))
    assert activity.max_heartrate == float(first[30]) and activity.commute is True
    assert (activity.sport_type, activity.gear_name, activity.source) == ("Ride", "Canyon Endurace", "export")
    assert activity.export_file.startswith("activities/") and activity.export_row["Activity ID"] == first[0]
    assert activity.summary_polyline  # the route, read from its FIT file
    assert Activity.objects.filter(athlete=alice, sport_type="VirtualRide").exists()
    assert Activity.objects.filter(name='Semnoz "easy"').exists() or Activity.objects.filter(name__contains=",").exists()
    run = SyncRun.objects.get(kind="import")
    assert (run.created, run.calls, run.finished_at is not None) == (84, 0, True)
    state = SyncState.objects.get(athlete=alice)
    newest = max(Activity.objects.values_list("start_date", flat=True))
    assert state.backfill_done and state.watermark == newest


@pytest.mark.django_db
def test_routes_come_from_fit_gpx_and_tcx_files_and_a_pool_swim_has_none(alice, export_zip):
    from warehouse.models import Activity
    from warehouse.routes import polyline_decode
    from warehouse.services import strava_export_import

    result = strava_export_import(athlete_id=alice.pk, path=export_zip())

    with_files = Activity.objects.exclude(export_file="")
    assert result.routes == with_files.exclude(summary_polyline="").count()
    for ext in (".fit.gz", ".gpx", ".gpx.gz", ".tcx"):
        assert with_files.filter(export_file__endswith=ext).exclude(summary_polyline="").exists(), ext
    karoo = Activity.objects.get(name="Botley – Swanmore – Wickham")
    lat, lng = polyline_decode(karoo.summary_polyline)[0]
    assert (round(lat, 2), round(lng, 2)) == (50.87, -1.26)  # Hampshire, where the real ride started
    swim = Activity.objects.get(name="Pool swim", start_date__year=2015)
    assert swim.summary_polyline == "" and swim.export_file.endswith(".tcx")


@pytest.mark.django_db
def test_manual_activities_are_complete_from_the_export_and_the_rest_wait_for_details(alice, export_zip):
    from warehouse.models import Activity
    from warehouse.selectors import activities_without_details
    from warehouse.services import strava_export_import

    result = strava_export_import(athlete_id=alice.pk, path=export_zip())

    manual = Activity.objects.filter(manual=True)
    assert manual.count() == result.manual_complete == 4
    assert all(a.detail["segment_efforts"] == [] and a.detail_fetched_at for a in manual)
    assert activities_without_details(athlete=alice).count() == 84 - 4


@pytest.mark.django_db
def test_importing_again_changes_nothing_and_filling_keeps_what_strava_said(alice, export_zip, store, rows):
    from warehouse.models import Activity
    from warehouse.services import strava_export_import

    from .conftest import summary_json

    known_id = int(rows[20][0])
    store(summary_json(activity_id=known_id, name="Name from the API", start=datetime(2023, 6, 1, tzinfo=UTC)))
    Activity.objects.filter(strava_id=known_id).update(description="")

    first = strava_export_import(athlete_id=alice.pk, path=export_zip())
    known = Activity.objects.get(strava_id=known_id)
    assert known.name == "Name from the API" and known.source == "api"  # filled, never overwritten
    assert known.export_row is not None and first.created == 83 and first.filled == 1

    again = strava_export_import(athlete_id=alice.pk, path=export_zip())
    assert (again.created, again.filled, again.unchanged) == (0, 0, 84)


@pytest.mark.django_db
def test_a_german_export_is_read_and_unknown_columns_are_reported(alice, export_zip, rows):
    from warehouse.models import Activity
    from warehouse.services import strava_export_import

    result = strava_export_import(athlete_id=alice.pk, path=export_zip(csv_bytes=german_csv(export_csv())))

    assert result.columns.language == "de" and result.created == 84 and result.skipped == 0
    # Columns with German names we do not know sit in Strava's 94-column layout: read by position, and said so.
    assert any("'Weather Condition (de)' read as 'Weather Condition'" in line for line in result.columns.by_position)
    first = rows[1]
    activity = Activity.objects.get(strava_id=int(first[0]))
    assert activity.start_date == datetime(2013, 7, 16, 18, 27, 40, tzinfo=UTC)  # "16.07.2013, 18:27:40"
    assert activity.distance == pytest.approx(float(first[17]), abs=0.1)
    assert Activity.objects.filter(sport_type="Run").count() == sum(1 for r in rows[1:] if r[3] == "Run")


@pytest.mark.django_db
def test_a_missing_required_column_is_said_plainly_and_nothing_is_stored(alice, export_zip, rows):
    from warehouse.models import Activity, SyncRun
    from warehouse.services import strava_export_import
    from warehouse.strava_export import ExportError

    out = io.StringIO()
    writer = csv.writer(out)
    for values in rows:
        writer.writerow([v for i, v in enumerate(values) if i != 1] + ["x"])  # no Activity Date, one odd column
    with pytest.raises(ExportError, match="lacks required column\\(s\\): Activity Date"):
        strava_export_import(athlete_id=alice.pk, path=export_zip(csv_bytes=out.getvalue().encode()))
    assert Activity.objects.count() == 0
    assert "Activity Date" in SyncRun.objects.get(kind="import").error


@pytest.mark.django_db
def test_an_unknown_extra_column_is_reported_and_a_bad_row_is_skipped_with_its_line(alice, export_zip, rows):
    from warehouse.services import strava_export_import

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*rows[0], "Kudos Given"])
    for number, values in enumerate(rows[1:]):
        values = list(values)
        if number == 3:
            values[1] = "the day after tomorrow"
        writer.writerow([*values, "3"])

    result = strava_export_import(athlete_id=alice.pk, path=export_zip(csv_bytes=out.getvalue().encode()))

    assert result.columns.unknown == ["column 95 'Kudos Given'"]
    assert result.skipped == 1 and result.errors == ["line 5: unreadable date 'the day after tomorrow'"]


@pytest.mark.django_db
def test_displayed_sport_names_become_stravas_types_and_unknown_ones_are_reported_as_written(alice, export_zip, rows):
    from warehouse.models import Activity
    from warehouse.services import strava_export_import

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(rows[0])
    named = {"Football (Soccer)": rows[1], "Underwater Basket Weaving": rows[2]}
    for display, values in named.items():
        writer.writerow([display if i == 3 else v for i, v in enumerate(values)])

    result = strava_export_import(athlete_id=alice.pk, path=export_zip(csv_bytes=out.getvalue().encode()))

    soccer, weaving = (Activity.objects.get(strava_id=int(values[0])) for values in named.values())
    assert soccer.sport_type == "Soccer"
    assert weaving.sport_type == "Underwater Basket Weaving"
    assert result.unknown_sports == {"Underwater Basket Weaving": 1}


@pytest.mark.django_db
def test_a_zip_that_is_not_an_export_is_refused_clearly(alice, tmp_path):
    import zipfile

    from warehouse.services import strava_export_import
    from warehouse.strava_export import ExportError

    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("IMG_0001.jpg", b"\xff\xd8")
    with pytest.raises(ExportError, match="no activities.csv in this zip"):
        strava_export_import(athlete_id=alice.pk, path=path)
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(ExportError, match="not a zip file"):
        strava_export_import(athlete_id=alice.pk, path=tmp_path / "junk.zip")


@pytest.mark.django_db
def test_the_import_command_prints_a_summary(alice, export_zip):
    out = StringIO()
    call_command("import_strava_export", str(export_zip()), "--athlete", str(alice.strava_id), stdout=out)
    text = out.getvalue()
    assert "84 rows read (en header), 84 activities created, 0 filled" in text and "0 API calls" in text
    assert "Details still to fetch (one call each, segment efforts included): 80" in text
    with pytest.raises(CommandError, match="No athlete"):
        call_command("import_strava_export", str(export_zip()), "--athlete", "999999", stdout=StringIO())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_import_then_pull_and_enrich_spend_calls_only_on_what_the_export_lacked(sim_connected_athlete, plenty_of_quota,
                                                                                 export_zip, rows):
    """The simulated account holds the export's activities and 30 recorded since; the export is imported first."""
    import random

    from django.utils import timezone

    from sandbox import fakes
    from sandbox.models import SimActivity, SimSegmentEffort
    from sandbox.services import sim_activities_seed, sim_athlete_create, sim_segments_seed
    from warehouse.models import Activity
    from warehouse.services import activities_enrich, activities_pull, strava_export_import

    rng = random.Random(3)
    sim_athlete = sim_athlete_create(firstname="Export", lastname="Rider", rng=rng)
    segments = [s for s in sim_segments_seed(count=30, rng=rng) if s.activity_type == "Ride"]
    efforts = []
    for values in rows[1:]:
        start = datetime.strptime(values[1], "%b %d, %Y, %I:%M:%S %p").replace(tzinfo=UTC)
        sim = fakes.activity_build(rng, athlete=sim_athlete, start_date=start, sport="Ride")
        sim.pk, sim.name, sim.manual = int(values[0]), values[2], not values[12]
        sim.save()
        if not sim.manual:
            efforts += fakes.efforts_build(rng, activity=sim, segments=segments, weights=[1.0] * len(segments))
    SimSegmentEffort.objects.bulk_create(efforts)
    recent = sim_activities_seed(sim_athlete, 30, rng=rng, years=0.2, now=timezone.now())
    athlete = sim_connected_athlete(sim_athlete=sim_athlete)

    strava_export_import(athlete_id=athlete.pk, path=export_zip())
    assert sum(api_calls(sim_athlete.pk).values()) == 0  # the import costs nothing

    pulled = activities_pull(athlete_id=athlete.pk, pull_now=True)
    assert api_calls(sim_athlete.pk) == {"/api/v3/athlete/activities": 1}  # only what is newer than the export
    assert pulled.created == 30

    fetched, failed, _run = activities_enrich(athlete_id=athlete.pk)

    calls = api_calls(sim_athlete.pk)
    manual = sum(1 for r in rows[1:] if not r[12])
    assert manual == 4
    assert (fetched, failed) == (84 - manual + 30, 0)
    detail_calls = {p: n for p, n in calls.items() if p.startswith("/api/v3/activities/")}
    assert len(detail_calls) == 84 - manual + 30 and set(detail_calls.values()) == {1}
    assert not any(f"/api/v3/activities/{int(r[0])}" in detail_calls for r in rows[1:] if not r[12])  # manual: no call
    assert Activity.objects.filter(athlete=athlete).count() == 84 + 30 == SimActivity.objects.filter(athlete=sim_athlete).count()
    assert {a.pk for a in recent} <= set(Activity.objects.values_list("strava_id", flat=True))
