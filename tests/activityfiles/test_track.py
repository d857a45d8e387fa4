"""The full read of a file's track: real files against fitparse, damage and bounds.

fitparse (the reference parser in requirements-dev) gives the expected FIT positions;
activityfiles reads them with fitdecode, so the two maintained decoders check each other.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import fitparse
import pytest

from activityfiles import gunzip, read_track
from activityfiles.track import SEMICIRCLE

DATA = Path(__file__).resolve().parents[1] / "data"
BROKEN = DATA / "broken"
RIDE = DATA / "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit"
GPX = DATA / "jimmykane_sports-lib__samples_gpx_garmin.gpx"
TCX = DATA / "GoldenCheetah_GoldenCheetah__test_aerolab_open_air_helmet_test_activity_790564009.tcx"
DATA_SIZE_ZERO = DATA / "jimmykane_sports-lib__integrationTests_fixtures_others_broken.fit"


def fitparse_points(path: Path) -> list[tuple[float, float]]:
    """Positions of every record message, as fitparse's full, strict parse reads them."""
    points = []
    for message in fitparse.FitFile(str(path)).get_messages("record"):
        lat, lng = message.get_value("position_lat"), message.get_value("position_long")
        if lat is not None and lng is not None:
            points.append((lat * SEMICIRCLE, lng * SEMICIRCLE))
    return points


@pytest.mark.parametrize("name", [
    RIDE.name,
    "GoldenCheetah_GoldenCheetah__test_runs_Move_2020_01_15_19_27_16_Running.fit",
    "GoldenCheetah_GoldenCheetah__test_rides_20130716_202738.fit",
    "jimmykane_sports-lib__integrationTests_fixtures_rides_others_export_2020-01-09_virtualride.fit",
    "mshroyer_coursepointer__integration_src_integration_data_cptr002.fit",
    "tormoder_fit__testdata_misc_0134902991.fit",
    "andrewgy8_python_fit_tool__fit_tool_tests_data_palisade.fit",
    "rgmf_fit_data_whiz__tests_files_monitor1_with_all.fit",
])  # fmt: skip
def test_fit_tracks_are_the_positions_fitparse_reads(name: str) -> None:
    expected = fitparse_points(DATA / name)

    points = read_track((DATA / name).read_bytes())

    assert len(points) == len(expected)
    assert points == expected
    if expected:
        assert points[0] == expected[0]


def test_a_fit_ride_starts_where_it_was_recorded() -> None:
    points = read_track(RIDE.read_bytes())
    assert len(points) == 297
    assert all(-90 <= lat <= 90 and -180 <= lng <= 180 for lat, lng in points)


def test_a_fit_file_whose_header_says_data_size_zero_is_read_to_its_end() -> None:
    assert len(read_track(DATA_SIZE_ZERO.read_bytes())) > 2000


def test_gpx_and_tcx_tracks_are_their_track_points() -> None:
    gpx = read_track(GPX.read_bytes())
    assert len(gpx) == 217 and round(gpx[0][0], 2) == 60.29
    assert len(read_track(TCX.read_bytes())) == 72


def test_gzipped_files_give_the_same_track_as_the_plain_ones() -> None:
    for path in (RIDE, GPX, TCX):
        data = path.read_bytes()
        assert read_track(gzip.compress(data)) == read_track(data)
    for name in ("activity.fit.gz", "route.gpx.gz", "swim.tcx.gz"):
        data = (BROKEN / name).read_bytes()
        assert read_track(data) == read_track(gzip.decompress(data))


def test_the_content_names_the_format_so_no_file_name_is_needed() -> None:
    assert read_track(RIDE.read_bytes()) == fitparse_points(RIDE)
    assert read_track(b"hello") == []
    assert read_track(b"") == []


def test_a_truncated_fit_file_gives_the_positions_before_the_cut() -> None:
    data = RIDE.read_bytes()
    full = read_track(data)

    half = read_track(data[: len(data) // 2])

    assert 0 < len(half) < len(full)
    assert half == full[: len(half)]
    assert read_track((BROKEN / "truncated_20_bytes.fit").read_bytes()) == []
    assert read_track(b"\x0e\x10" + b"\x00" * 40) == []


def test_a_truncated_gpx_file_gives_the_points_before_the_cut() -> None:
    data = GPX.read_bytes()
    full = read_track(data)

    half = read_track(data[: len(data) // 2])

    assert 0 < len(half) < len(full)
    assert half == full[: len(half)]


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.iterdir() if not p.name.endswith(".zip")))
def test_every_broken_or_hostile_sample_reads_without_raising(name: str) -> None:
    assert isinstance(read_track((BROKEN / name).read_bytes()), list)


def test_random_cuts_and_flipped_bytes_never_raise() -> None:
    rng = random.Random(7)
    originals = [RIDE.read_bytes(), GPX.read_bytes(), gzip.compress(TCX.read_bytes())]
    for _ in range(150):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = data[: rng.randint(0, len(data))]
        points = read_track(bytes(data))
        assert isinstance(points, list)


def test_xml_with_a_doctype_gives_no_points_at_all() -> None:
    assert read_track((BROKEN / "billion_laughs.gpx").read_bytes()) == []
    gpx = b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x "1">]><gpx><trk><trkseg><trkpt lat="1" lon="2"/></trkseg></trk></gpx>'
    assert read_track(gpx) == []


def test_the_number_of_points_is_bounded() -> None:
    assert read_track(RIDE.read_bytes(), max_points=10) == read_track(RIDE.read_bytes())[:10]
    assert read_track(GPX.read_bytes(), max_points=5) == read_track(GPX.read_bytes())[:5]
    assert len(read_track(TCX.read_bytes(), max_points=3)) == 3


def test_the_bytes_read_are_bounded_and_a_gzip_bomb_gives_nothing() -> None:
    data = RIDE.read_bytes()
    prefix = read_track(data, max_bytes=len(data) // 2)
    assert prefix == read_track(data[: len(data) // 2])
    assert read_track(gzip.compress(data), max_bytes=len(data) - 1) == []
    assert read_track((BROKEN / "bomb.fit.gz").read_bytes()) == []
    assert gunzip(gzip.compress(b"\x00" * 5000), limit=1000) is None
