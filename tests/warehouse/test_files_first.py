"""Files first, end to end against the simulator over HTTP (issue 17's acceptance).

Hundreds of real recordings (tests/data, moved in time so each is its own activity) with junk
mixed in are given "keep here only": each becomes one warehouse activity with no call, and the
stats add up to the files' own totals. Then Strava, seeded from the same files, is pulled: its
copies merge into those rows, the rest are added, and every activity is held exactly once.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db.models import Sum

from activityfiles import classify_bytes, read_activity
from sandbox.garmin.fitfile import shift_times
from tests.conftest import DATA_DIR
from uploads.models import Upload
from warehouse.models import Activity, Rollup

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Real recordings that read quickly (the acceptance is about the pipeline, not the parser's speed).
RECORDINGS = [
    "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit",
    "GoldenCheetah_GoldenCheetah__test_aerolab_open_air_helmet_test_activity_790564009.tcx",
    "GoldenCheetah_GoldenCheetah__test_swims_AleV_Swim_2015-02-09-16-15.fit",
    "GoldenCheetah_GoldenCheetah__test_swims_argmac_Garmin_FR910XT_2015_01_31_10_17_02.tcx",
    "andrewgy8_python_fit_tool__fit_tool_tests_data_sdk_activity_multisport.fit",
    "GoldenCheetah_GoldenCheetah__test_rides_20130716_202738.fit",
    "jimmykane_sports-lib__samples_gpx_garmin.gpx",
    "sports-alliance_sports-lib__src_specs_fixtures_swim_gpx_4623204522-1.gpx",
    "tormoder_fit__testdata_misc_unterminated-strings.fit",
    "tormoder_fit__testdata_misc_0134902991.fit",
]
JUNK = [
    "dtcooper_python-fitparse__tests_files_Settings2.fit",
    "rgmf_fit_data_whiz__tests_files_sleep1.fit",
    "rgmf_fit_data_whiz__tests_files_hrv1.fit",
    "GoldenCheetah_GoldenCheetah__test_rides_MetadataOnly.gpx",
]
ISO = re.compile(rb"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})")
DAY = 86_400  # a whole number of days: also a multiple of 32, as FIT's compressed timestamps need


def shifted(path: Path, days: int) -> bytes:
    """The recording moved `days` later: every date in it, so it is another activity of the same shape."""
    data = path.read_bytes()
    if path.suffix == ".fit":
        return shift_times(data, days * DAY)
    delta = timedelta(days=days)

    def move(found: re.Match[bytes]) -> bytes:
        return (datetime.fromisoformat(found.group(1).decode()) + delta).strftime("%Y-%m-%dT%H:%M:%S").encode()

    return ISO.sub(move, data)


def build_files(activities: int, junk: int) -> list[tuple[str, bytes]]:
    """`activities` distinct recordings (real files, shifted) and `junk` junk files, as a Garmin export nests them."""
    files: list[tuple[str, bytes]] = []
    starts: set[datetime] = set()
    days = 0
    while len(files) < activities:
        days += 1
        for name in RECORDINGS:
            data = shifted(DATA_DIR / name, days)
            start = classify_bytes(data).start_time
            assert start is not None, name
            if any(abs((start - other).total_seconds()) < 600 for other in starts):
                continue  # two recordings this close would be one activity to Strava too
            starts.add(start)
            files.append((f"DI_CONNECT/DI-Connect-Uploaded-Files/{days:03d}/{name}", data))
            if len(files) == activities:
                break
    for n in range(junk):
        name = JUNK[n % len(JUNK)]
        files.append((f"DI_CONNECT/DI-Connect-Wellness/{n:03d}-{name}", (DATA_DIR / name).read_bytes()))
    return files


def as_zip(files: list[tuple[str, bytes]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def warehouse_all() -> None:
    """The dispatcher's step until no file is owed (its tasks run inline in tests)."""
    from uploads.services import uploads_warehouse_dispatch, uploads_warehouse_pending

    for _ in range(1000):
        if not uploads_warehouse_dispatch():
            break
    assert uploads_warehouse_pending() == 0


def file_totals(files: list[tuple[str, bytes]]) -> dict[str, float]:
    """What the files themselves say, added up (read here, independently of the warehouse's columns)."""
    totals = {"count": 0.0, "distance": 0.0, "moving_time": 0.0, "elapsed_time": 0.0}
    for _name, data in files:
        if classify_bytes(data).status != "eligible":
            continue
        summary = read_activity(data)
        assert summary is not None
        totals["count"] += 1
        totals["distance"] += summary.distance or 0.0
        totals["moving_time"] += round(summary.moving_time or 0)
        totals["elapsed_time"] += round(summary.elapsed_time or 0)
    return totals


def stats_totals(athlete) -> dict[str, float]:
    row = Rollup.objects.filter(athlete=athlete, period="month").aggregate(
        count=Sum("count"), distance=Sum("distance"), moving_time=Sum("moving_time"), elapsed_time=Sum("elapsed_time"))
    return {k: float(v or 0) for k, v in row.items()}


def api_calls() -> int:
    from sandbox.models import SimRequestLog

    return SimRequestLog.objects.filter(path__startswith="/api/v3/").count()


@pytest.fixture
def local_files(sim_connected_athlete):
    """An athlete who gave a Garmin export "keep here only": 500 activity files and 100 junk ones, in one zip."""
    from sandbox.models import SimRequestLog
    from uploads.services import batch_create, upload_ingest

    athlete = sim_connected_athlete(firstname="Files")
    SimRequestLog.objects.all().delete()
    files = build_files(500, 100)
    batch = batch_create(athlete=athlete, source="web", local_only=True)
    upload_ingest(batch=batch, name="garmin_export.zip", stream=as_zip(files))
    warehouse_all()
    return athlete, files


def test_a_garmin_export_kept_here_only_fills_the_warehouse_and_the_stats_with_no_call(local_files):
    athlete, files = local_files

    statuses = Counter(Upload.objects.filter(athlete=athlete).values_list("status", flat=True))
    assert statuses == {"local": 500, "junk": 100}
    assert api_calls() == 0
    activities = Activity.objects.filter(athlete=athlete)
    assert activities.count() == 500
    assert activities.filter(strava_id__isnull=True, source="file").count() == 500
    assert activities.values("start_date").distinct().count() == 500
    expected = file_totals(files)
    got = stats_totals(athlete)
    assert got["count"] == expected["count"] == 500
    assert got["distance"] == pytest.approx(expected["distance"], rel=1e-9)
    assert got["moving_time"] == expected["moving_time"]
    assert got["elapsed_time"] == expected["elapsed_time"]


def test_connecting_strava_merges_its_copies_into_the_file_rows_and_adds_the_rest(local_files, settings):
    from sandbox.models import SimActivity, SimAthlete, SimToken
    from sandbox.services import sim_activities_seed
    from sandbox.services.uploads import upload_create, uploads_process_due
    from warehouse.services import activities_enrich, activities_pull

    athlete, files = local_files
    file_rows = dict(Activity.objects.filter(athlete=athlete).values_list("start_date", "pk"))
    # Strava already holds 300 of the files (sent from the watch long ago) and 20 activities we have no file of.
    token = SimToken.objects.filter(athlete_id=athlete.strava_id).latest("id")
    recordings = [(name, data) for name, data in files if classify_bytes(data).status == "eligible"]
    for name, data in recordings[:300]:
        upload_create(token=token, data=data, filename=Path(name).name, data_type=Path(name).suffix.lstrip("."),
                      external_id=f"garmin-{Path(name).name}")
    uploads_process_due(athlete_id=athlete.strava_id, now=datetime.now().astimezone() + timedelta(seconds=1))
    assert SimActivity.objects.filter(athlete_id=athlete.strava_id).count() == 300
    only_on_strava = sim_activities_seed(SimAthlete.objects.get(pk=athlete.strava_id), 20)
    long_ago = datetime.fromisoformat("2005-01-01T08:00:00+00:00")
    for n, sim in enumerate(only_on_strava):  # years before any file: nothing to merge with
        SimActivity.objects.filter(pk=sim.pk).update(start_date=long_ago + timedelta(days=n))

    pulled = activities_pull(athlete_id=athlete.pk, pull_now=True)
    activities_enrich(athlete_id=athlete.pk, limit=10)

    assert pulled.created == 20
    activities = Activity.objects.filter(athlete=athlete)
    assert activities.count() == 520
    starts = Counter(activities.values_list("start_date", flat=True))
    assert max(starts.values()) == 1  # each activity exactly once, counted by recorded start
    on_strava = activities.filter(strava_id__isnull=False)
    assert on_strava.count() == 320
    merged = on_strava.filter(source="file")
    assert merged.count() == 300
    # The same rows as before, now with Strava's ids: nothing the athlete saw was replaced.
    assert all(file_rows[start] == pk for start, pk in merged.values_list("start_date", "pk"))
    assert activities.filter(strava_id__isnull=True).count() == 200
    assert stats_totals(athlete)["count"] == 520
    enriched = activities.filter(source="file", detail__isnull=False)
    assert enriched.count() == 10 and all(a.detail["id"] == a.strava_id for a in enriched)


def test_a_file_sent_to_strava_is_one_row_before_and_the_same_row_with_strava_s_id_after(sim_connected_athlete,
                                                                                         settings):
    from uploads.services import batch_create, upload_ingest, uploads_confirm, uploads_dispatch
    from warehouse.services import activities_pull

    settings.UPLOADS_CONFIRM_DELAY = settings.UPLOADS_CONFIRM_FALLBACK = settings.UPLOADS_CONFIRM_MAX_WAIT = 0
    athlete = sim_connected_athlete(firstname="Sender")
    batch = batch_create(athlete=athlete, source="web")
    name = RECORDINGS[-1]
    with open(DATA_DIR / name, "rb") as stream:
        [upload] = upload_ingest(batch=batch, name=name, stream=stream)
    warehouse_all()
    before = Activity.objects.get(athlete=athlete)
    assert before.strava_id is None and before.upload_pk == upload.pk

    uploads_dispatch(inline=True)
    for _ in range(20):
        uploads_confirm()
        upload.refresh_from_db()
        if upload.is_final:
            break
    assert upload.status == "done", upload.reason
    after = Activity.objects.get(athlete=athlete)
    assert after.pk == before.pk and after.strava_id == upload.activity_id

    activities_pull(athlete_id=athlete.pk, pull_now=True)
    assert Activity.objects.filter(athlete=athlete).count() == 1
    assert Activity.objects.get(athlete=athlete).pk == before.pk


def test_with_strava_inactive_the_uploads_queue_and_the_stats_show_every_file(sim_connected_athlete):
    from sandbox.services import sim_config_update
    from uploads.services import batch_create, upload_ingest, uploads_dispatch

    athlete = sim_connected_athlete(firstname="Inactive")
    sim_config_update(inactive=True)
    files = build_files(12, 3)
    batch = batch_create(athlete=athlete, source="web")
    upload_ingest(batch=batch, name="export.zip", stream=as_zip(files))
    warehouse_all()
    uploads_dispatch(inline=True)

    statuses = Counter(Upload.objects.filter(athlete=athlete).values_list("status", flat=True))
    assert statuses == {"queued": 12, "junk": 3}
    reasons = set(Upload.objects.filter(athlete=athlete, status="queued").values_list("reason", flat=True))
    assert len(reasons) == 1 and "inactive" in reasons.pop().lower()
    # The first refusal pauses every call: the permits handed out with it are not spent on refusals.
    from sandbox.models import SimRequestLog

    assert SimRequestLog.objects.filter(method="POST", path="/api/v3/uploads").count() == 1
    assert stats_totals(athlete)["count"] == 12
    assert stats_totals(athlete)["distance"] == pytest.approx(file_totals(files)["distance"], rel=1e-9)
