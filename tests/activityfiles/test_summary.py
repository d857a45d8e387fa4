"""The full read (read_activity) against fitparse's sessions on real FIT files; GPX/TCX; damage and bounds."""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime
from pathlib import Path

import fitparse
import pytest

from activityfiles import read_activity, read_track

DATA = Path(__file__).resolve().parents[1] / "data"
BROKEN = DATA / "broken"
RIDE = DATA / "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit"
GPX = DATA / "jimmykane_sports-lib__samples_gpx_garmin.gpx"
TCX = DATA / "GoldenCheetah_GoldenCheetah__test_aerolab_open_air_helmet_test_activity_790564009.tcx"
SWIM_TCX = DATA / "GoldenCheetah_GoldenCheetah__test_swims_argmac_Garmin_FR910XT_2015_01_31_10_17_02.tcx"


def _first_session(path: Path) -> dict[str, object] | None:
    try:
        messages = list(fitparse.FitFile(str(path)).get_messages())
    except Exception:  # a file fitparse cannot parse is left out
        return None
    file_ids = [m for m in messages if m.name == "file_id"]
    sessions = [m for m in messages if m.name == "session"]
    if not file_ids or file_ids[0].get_value("type") != "activity" or not sessions:
        return None
    return sessions[0].get_values()


SESSIONS = {path.name: session for path in sorted(DATA.glob("*.fit")) if (session := _first_session(path))}


def test_there_are_real_sessions_to_compare_with() -> None:
    assert len(SESSIONS) >= 10


@pytest.mark.parametrize("name", sorted(SESSIONS), ids=lambda name: name.rsplit("__", 1)[-1])
def test_fit_summaries_agree_with_fitparses_session(name: str) -> None:
    session = SESSIONS[name]

    summary = read_activity((DATA / name).read_bytes())

    assert summary is not None and summary.data_type == "fit"
    start = session["start_time"]
    if isinstance(start, datetime):
        assert summary.start_time == start.replace(tzinfo=UTC)
    distance = session.get("total_distance")
    if isinstance(distance, int | float):
        assert summary.distance is not None
        assert abs(summary.distance - distance) <= 0.01 * distance + 0.01
    elapsed = session.get("total_elapsed_time")
    if isinstance(elapsed, int | float):
        assert summary.elapsed_time is not None
        assert abs(summary.elapsed_time - elapsed) <= 2


def test_a_fit_ride_reads_as_strava_would_show_it() -> None:
    summary = read_activity(RIDE.read_bytes())
    assert summary is not None
    assert (summary.sport, summary.trainer, summary.device_name) == ("Ride", False, "Garmin Edge 520")
    assert summary.start_time == datetime(2018, 10, 3, 13, 36, 6, tzinfo=UTC)
    assert round(summary.distance or 0) == 2285 and summary.elevation_gain == 8
    assert summary.moving_time is not None and summary.elapsed_time is not None
    assert summary.moving_time <= summary.elapsed_time
    assert len(summary.points) == 297
    assert summary.start_latlng == (summary.points[0].lat, summary.points[0].lng)
    assert [(p.lat, p.lng) for p in summary.points if p.lat is not None] == read_track(RIDE.read_bytes())


def test_an_indoor_ride_is_a_trainer_ride() -> None:
    summary = read_activity((DATA / "tormoder_fit__testdata_misc_0134902991.fit").read_bytes())
    assert summary is not None
    assert (summary.sport, summary.trainer) == ("Ride", True)
    assert summary.start_time == datetime(2021, 3, 4, 12, 4, 26, tzinfo=UTC)  # time_created says 2021-03-10


def test_a_fit_file_without_a_session_falls_back_to_its_records() -> None:
    summary = read_activity((DATA / "andrewgy8_python_fit_tool__fit_tool_tests_data_sdk_activity_truncated.fit").read_bytes())
    assert summary is not None
    assert summary.start_time == datetime(2012, 4, 9, 21, 22, 26, tzinfo=UTC)
    assert summary.elapsed_time is not None and summary.elapsed_time >= 0


def test_non_activity_fit_files_have_no_summary() -> None:
    assert read_activity((DATA / "rgmf_fit_data_whiz__tests_files_monitor1_with_all.fit").read_bytes()) is None


def test_gpx_summaries_are_computed_from_the_track() -> None:
    summary = read_activity(GPX.read_bytes())
    assert summary is not None
    assert (summary.data_type, summary.sport, summary.device_name) == ("gpx", "Run", "Garmin Connect")
    assert summary.start_time == datetime(2018, 4, 23, 15, 54, 34, tzinfo=UTC)
    assert len(summary.points) == 217
    assert 3000 < (summary.distance or 0) < 5000  # a 23-minute run
    assert summary.elapsed_time == 1377
    assert 0 < (summary.moving_time or 0) <= summary.elapsed_time
    assert summary.elevation_gain is not None and summary.elevation_gain >= 0


def test_tcx_summaries_take_the_laps_totals() -> None:
    swim = read_activity(SWIM_TCX.read_bytes())
    assert swim is not None
    assert (swim.data_type, swim.device_name, swim.sport) == ("tcx", "Garmin Forerunner 910XT", None)  # Sport="Other"
    assert swim.distance == 2000 and swim.start_latlng is None  # a pool: laps, no positions
    ride = read_activity(TCX.read_bytes())
    assert ride is not None and ride.sport == "Ride"
    assert ride.start_time == datetime(2015, 5, 31, 14, 31, 21, tzinfo=UTC)
    assert ride.start_latlng is not None and len(ride.points) == 72


def test_routes_without_times_and_unknown_content_have_no_summary() -> None:
    assert read_activity((DATA / "mshroyer_coursepointer__integration_src_integration_data_cptr002.gpx").read_bytes()) is None
    assert read_activity(b"hello") is None
    assert read_activity(b"") is None


def test_gzipped_files_read_like_plain_ones() -> None:
    for path in (RIDE, GPX, TCX):
        assert read_activity(gzip.compress(path.read_bytes())) == read_activity(path.read_bytes())


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.iterdir() if not p.name.endswith(".zip")))
def test_every_broken_or_hostile_sample_reads_without_raising(name: str) -> None:
    read_activity((BROKEN / name).read_bytes())


def test_random_cuts_and_flipped_bytes_never_raise() -> None:
    rng = random.Random(11)
    originals = [RIDE.read_bytes(), GPX.read_bytes(), gzip.compress(TCX.read_bytes())]
    for _ in range(100):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        summary = read_activity(bytes(data[: rng.randint(0, len(data))]))
        assert summary is None or summary.data_type in ("fit", "gpx", "tcx")


def test_a_truncated_fit_file_keeps_what_came_before_the_cut() -> None:
    data = RIDE.read_bytes()
    half = read_activity(data[: len(data) // 2])
    assert half is not None
    assert half.start_time == datetime(2018, 10, 3, 13, 36, 6, tzinfo=UTC)  # no session: the first record
    assert 0 < len(half.points) < 297


def test_points_and_bytes_are_bounded() -> None:
    summary = read_activity(RIDE.read_bytes(), max_points=10)
    assert summary is not None and len(summary.points) == 10
    gpx = read_activity(GPX.read_bytes(), max_points=5)
    assert gpx is not None and len(gpx.points) == 5
    assert read_activity(gzip.compress(RIDE.read_bytes()), max_bytes=1000) is None
    assert read_activity((BROKEN / "bomb.fit.gz").read_bytes()) is None
