"""Files first, piece by piece (no HTTP): a file becomes an activity, Strava's copy merges into it, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from activityfiles import read_activity
from tests.conftest import DATA_DIR
from tests.warehouse.conftest import summary_json
from warehouse.models import Activity, Rollup
from warehouse.services import activities_upsert
from warehouse.services.files import FileActivity, activities_from_files, activity_file_on_strava, file_columns

pytestmark = pytest.mark.django_db

RIDE_FIT = DATA_DIR / "tormoder_fit__testdata_misc_0134902991.fit"
RUN_GPX = DATA_DIR / "jimmykane_sports-lib__samples_gpx_garmin.gpx"


def file_activity(path, *, upload_pk: int, **kwargs) -> FileActivity:
    summary = read_activity(path.read_bytes())
    assert summary is not None
    return FileActivity(upload_pk=upload_pk, columns=file_columns(summary, name=path.name), **kwargs)


def strava_copy(item: FileActivity, **overrides) -> dict:
    """Strava's SummaryActivity of the same recording, as a listing gives it."""
    fields = {"start": item.columns["start_date"], "sport_type": item.columns["sport_type"],
              "type": item.columns["sport_type"], "distance": item.columns["distance"], **overrides}
    return summary_json(**fields)


def rollup_count(athlete) -> int:
    return sum(Rollup.objects.filter(athlete=athlete, period="month").values_list("count", flat=True))


def test_a_file_becomes_an_activity_with_the_file_s_figures_and_no_strava_id(alice):
    item = file_activity(RIDE_FIT, upload_pk=11)
    summary = read_activity(RIDE_FIT.read_bytes())
    assert summary is not None

    result = activities_from_files(athlete_id=alice.pk, files=[item])

    row = Activity.objects.get(athlete=alice)
    assert result.created == 1
    assert row.strava_id is None and row.source == "file" and row.upload_pk == 11
    assert row.start_date == summary.start_time
    assert row.sport_type == summary.sport
    assert row.distance == pytest.approx(summary.distance)
    assert row.moving_time == round(summary.moving_time or 0)
    assert row.elapsed_time == round(summary.elapsed_time or 0)
    assert row.total_elevation_gain == pytest.approx(summary.elevation_gain or 0.0)
    assert row.device_name == summary.device_name
    assert row.summary_polyline  # the track, thinned, as the route
    assert row.detail_fetched_at is not None  # no call owed: nothing at Strava to fetch
    month = Rollup.objects.get(athlete=alice, period="month")
    assert (month.count, month.distance) == (1, pytest.approx(row.distance))


def test_reading_the_same_file_again_adds_nothing(alice):
    item = file_activity(RIDE_FIT, upload_pk=11)
    activities_from_files(athlete_id=alice.pk, files=[item])
    again = activities_from_files(athlete_id=alice.pk, files=[item])
    assert (again.created, again.linked) == (0, 1)
    assert Activity.objects.count() == 1 and rollup_count(alice) == 1


def test_strava_s_copy_fills_the_file_s_row_by_start_and_sport(alice):
    item = file_activity(RIDE_FIT, upload_pk=11)
    activities_from_files(athlete_id=alice.pk, files=[item])
    row = Activity.objects.get()
    copy = strava_copy(item, start=item.columns["start_date"] + timedelta(seconds=90), name="Lunch Ride")

    result = activities_upsert(athlete_id=alice.pk, summaries=[copy])

    assert (result.created, result.merged) == (0, 1)
    merged = Activity.objects.get()
    assert merged.pk == row.pk and merged.strava_id == copy["id"] and merged.name == "Lunch Ride"
    assert merged.detail_fetched_at is None  # now Strava's detail (and efforts) is owed
    assert merged.upload_pk == 11 and merged.device_name == row.device_name
    assert rollup_count(alice) == 1


def test_a_run_three_minutes_away_or_a_run_at_the_same_time_as_a_ride_stays_apart(alice):
    item = file_activity(RIDE_FIT, upload_pk=11)
    activities_from_files(athlete_id=alice.pk, files=[item])
    start = item.columns["start_date"]
    far = strava_copy(item, start=start + timedelta(minutes=3))
    run = strava_copy(item, sport_type="Run", type="Run")

    activities_upsert(athlete_id=alice.pk, summaries=[far, run])

    assert Activity.objects.count() == 3
    assert Activity.objects.filter(strava_id__isnull=True).count() == 1
    assert rollup_count(alice) == 3


def test_our_upload_is_found_by_its_external_id_even_if_strava_moved_the_start(alice):
    item = file_activity(RIDE_FIT, upload_pk=77)
    activities_from_files(athlete_id=alice.pk, files=[item])
    copy = strava_copy(item, start=item.columns["start_date"] + timedelta(hours=5), external_id="stravasync-77")

    activities_upsert(athlete_id=alice.pk, summaries=[copy])

    assert Activity.objects.get().strava_id == copy["id"]


def test_another_athlete_s_file_is_never_merged(alice, bob):
    item = file_activity(RIDE_FIT, upload_pk=11)
    activities_from_files(athlete_id=bob.pk, files=[item])
    activities_upsert(athlete_id=alice.pk, summaries=[strava_copy(item)])
    assert Activity.objects.filter(athlete=bob, strava_id__isnull=True).count() == 1
    assert Activity.objects.filter(athlete=alice).count() == 1


def test_a_file_of_an_activity_already_pulled_links_to_it_instead_of_a_second_row(alice):
    item = file_activity(RUN_GPX, upload_pk=5)
    activities_upsert(athlete_id=alice.pk, summaries=[strava_copy(item, map={"summary_polyline": ""})])

    result = activities_from_files(athlete_id=alice.pk, files=[item])

    assert (result.created, result.linked) == (0, 1)
    row = Activity.objects.get()
    assert row.strava_id is not None and row.upload_pk == 5
    assert row.summary_polyline  # Strava showed no map; the file's track fills it


def test_an_upload_s_answer_gives_the_file_row_its_strava_id_or_folds_it_into_the_pulled_row(alice):
    ride, run = file_activity(RIDE_FIT, upload_pk=1), file_activity(RUN_GPX, upload_pk=2)
    activities_from_files(athlete_id=alice.pk, files=[ride, run])
    ride_row = Activity.objects.get(upload_pk=1)
    assert activity_file_on_strava(athlete_id=alice.pk, upload_pk=1, strava_id=9_000_000_001)
    ride_row.refresh_from_db()
    assert ride_row.strava_id == 9_000_000_001 and ride_row.detail_fetched_at is None

    # The run was pulled (moved by Strava beyond the window) before its upload settled as "duplicate of" it.
    pulled = strava_copy(run, start=run.columns["start_date"] + timedelta(hours=1), id=9_000_000_002)
    activities_upsert(athlete_id=alice.pk, summaries=[pulled])
    assert Activity.objects.count() == 3
    assert activity_file_on_strava(athlete_id=alice.pk, upload_pk=2, strava_id=9_000_000_002)
    assert Activity.objects.count() == 2
    assert Activity.objects.get(strava_id=9_000_000_002).upload_pk == 2
    assert rollup_count(alice) == 2


def test_garmin_s_check_counts_only_what_strava_has(alice):
    from garmin.services import strava_match

    item = file_activity(RIDE_FIT, upload_pk=3)
    activities_from_files(athlete_id=alice.pk, files=[item])
    start = item.columns["start_date"]
    assert strava_match(athlete_id=alice.pk, start=start, sport="Ride") is None
    activity_file_on_strava(athlete_id=alice.pk, upload_pk=3, strava_id=9_000_000_003)
    assert strava_match(athlete_id=alice.pk, start=start, sport="Ride") == 9_000_000_003


def test_enrich_spends_no_call_on_a_file_row(alice):
    from warehouse.services import activity_enrich

    activities_from_files(athlete_id=alice.pk, files=[file_activity(RIDE_FIT, upload_pk=3)])
    row = Activity.objects.get()
    Activity.objects.filter(pk=row.pk).update(detail_fetched_at=None)  # even if someone put it back in the backlog
    assert activity_enrich(activity_id=row.pk) is False


def test_the_export_import_fills_the_file_row_of_the_same_activity(alice):
    from warehouse.services import strava_export_import

    export = DATA_DIR / "strava_export" / "strava_export.zip"
    strava_export_import(athlete_id=alice.pk, path=export, routes=False)  # to learn one activity's start and sport
    imported = Activity.objects.filter(athlete=alice, manual=False).order_by("start_date").first()
    assert imported is not None
    Activity.objects.filter(athlete=alice).delete()
    # The same activity, known from the athlete's file first (its start 30 s off, as devices differ).
    columns = file_columns(read_activity(RIDE_FIT.read_bytes()), name="ride.fit")  # type: ignore[arg-type]
    columns.update(start_date=imported.start_date + timedelta(seconds=30), start_day=imported.start_date.date(),
                   sport_type=imported.sport_type, type=imported.sport_type)
    activities_from_files(athlete_id=alice.pk, files=[FileActivity(upload_pk=9, columns=columns)])
    file_row = Activity.objects.get(athlete=alice)

    result = strava_export_import(athlete_id=alice.pk, path=export, routes=False)

    assert result.merged == 1
    merged = Activity.objects.get(strava_id=imported.strava_id)
    assert merged.pk == file_row.pk and merged.upload_pk == 9
    assert not Activity.objects.filter(athlete=alice, strava_id__isnull=True).exists()
    assert rollup_count(alice) == Activity.objects.filter(athlete=alice).count()


def test_a_file_without_a_start_is_refused_by_the_columns():
    summary = read_activity(RIDE_FIT.read_bytes())
    assert summary is not None
    from dataclasses import replace

    with pytest.raises(ValueError):
        file_columns(replace(summary, start_time=None), name="x.fit")
    naive = file_columns(replace(summary, start_time=datetime(2024, 1, 1, 8, 0)), name="x.fit")
    assert naive["start_date"].tzinfo == UTC
