"""Pure readers: export dates and numbers, column mapping, polylines, tracks from files, SVG charts."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from tests.conftest import DATA_DIR
from warehouse import charts
from warehouse.routes import polyline_decode, polyline_encode, route_drawing, route_from_file, thin
from warehouse.strava_export import (
    ENGLISH_COLUMNS,
    ExportError,
    map_columns,
    parse_activity_date,
    parse_number,
    sport_type_of,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("May 29, 2022, 3:53:35 PM", datetime(2022, 5, 29, 15, 53, 35, tzinfo=UTC)),
    ("Jan 1, 2023, 12:05:00 AM", datetime(2023, 1, 1, 0, 5, tzinfo=UTC)),
    ("Dec 31, 2023, 12:30:01 PM", datetime(2023, 12, 31, 12, 30, 1, tzinfo=UTC)),
    ("29 May 2022, 15:53:35", datetime(2022, 5, 29, 15, 53, 35, tzinfo=UTC)),
    ("29.05.2022, 15:53:35", datetime(2022, 5, 29, 15, 53, 35, tzinfo=UTC)),
    ("29. Mai 2022, 15:53:35", datetime(2022, 5, 29, 15, 53, 35, tzinfo=UTC)),
    ("2022-05-29 15:53:35", datetime(2022, 5, 29, 15, 53, 35, tzinfo=UTC)),
])
def test_activity_dates_in_every_form_strava_writes_them_are_utc(text, expected):
    assert parse_activity_date(text) == expected


def test_an_unreadable_date_says_so():
    with pytest.raises(ValueError, match="unreadable date"):
        parse_activity_date("soon")


@pytest.mark.parametrize(("text", "comma", "expected"), [
    ("12.34", False, 12.34), ("1,234.5", False, 1234.5), ("12,34", True, 12.34), ("1.234,5", True, 1234.5),
    ("9,55", False, 9.55), ("", False, None), ("n/a", False, None), ("25431.099609375", False, 25431.099609375),
])
def test_numbers_with_points_and_commas(text, comma, expected):
    assert parse_number(text, decimal_comma=comma) == expected


def test_sport_types_from_displayed_names_english_and_german():
    assert sport_type_of("Virtual Ride") == ("VirtualRide", True)
    assert sport_type_of("E-Bike Ride") == ("EBikeRide", True)
    assert sport_type_of("Radfahrt") == ("Ride", True)
    assert sport_type_of("Football (Soccer)") == ("Soccer", True)
    assert sport_type_of("Canoe") == ("Canoeing", True)
    # Unknown: reported as written, never squashed into a type Strava does not have.
    assert sport_type_of("Underwater Basket Weaving") == ("Underwater Basket Weaving", False)


def test_columns_are_named_by_occurrence_so_both_distances_are_kept():
    columns = map_columns(ENGLISH_COLUMNS)
    assert columns.positions["distance"] == 6 and columns.positions["distance_2"] == 17
    assert columns.positions["elapsed_time_2"] == 15 and columns.positions["max_heart_rate_2"] == 30
    assert columns.unknown == [] and columns.by_position == [] and columns.language == "en"


def test_a_shorter_header_in_another_order_is_read_by_name():
    columns = map_columns(["Activity Type", "Distance", "Activity ID", "Activity Date", "Distance"])
    assert columns.positions == {"activity_type": 0, "distance": 1, "activity_id": 2, "activity_date": 3, "distance_2": 4}


def test_a_header_without_the_required_columns_is_refused_with_their_names():
    with pytest.raises(ExportError, match="Activity ID, Activity Date, Activity Type"):
        map_columns(["Name", "Foo"])


def test_polylines_round_trip_and_a_damaged_tail_is_dropped():
    points = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)]
    assert polyline_encode(points) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
    assert polyline_decode("_p~iF~ps|U_ulLnnqC_mqNvxq`@") == points
    assert polyline_decode("_p~iF~ps|U_ulL") == points[:1]
    assert len(thin([(i, i) for i in range(1000)], 100)) == 100


def test_the_route_drawing_fits_the_box_north_up():
    drawing = route_drawing([(45.0, 6.0), (45.01, 6.0), (45.01, 6.02)])
    assert drawing.path.startswith("M") and drawing.points == 3
    assert drawing.start[1] > drawing.end[1]  # north is up: the northern end is higher on the page
    assert route_drawing([(45.0, 6.0)]) is None


def test_tracks_come_from_real_fit_gpx_and_tcx_files():
    ride = (DATA_DIR / "GoldenCheetah_GoldenCheetah__test_rides_Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit").read_bytes()
    points = route_from_file("a.fit", ride)
    assert len(points) > 4000 and round(points[0][0], 2) == 50.87
    assert route_from_file("a.fit.gz", gzip.compress(ride)) == points
    gpx = route_from_file("run.gpx", (DATA_DIR / "jimmykane_sports-lib__samples_gpx_garmin.gpx").read_bytes())
    assert len(gpx) == 217 and round(gpx[0][0], 2) == 60.29
    tcx = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_aerolab_open_air_helmet_test_activity_790564009.tcx"
    assert len(route_from_file("ride.tcx", tcx.read_bytes())) == 72


def test_damaged_or_hostile_files_give_no_route_never_an_error():
    assert route_from_file("x.fit", b"\x0e\x10" + b"\x00" * 40) == []
    assert route_from_file("x.fit", (DATA_DIR / "broken" / "truncated_20_bytes.fit").read_bytes()) == []
    assert route_from_file("x.gpx", b"<gpx><trkpt lat='1'") == []
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><gpx>&lol;</gpx>'
    assert route_from_file("x.gpx", bomb) == []
    assert route_from_file("x.gpx.gz", b"not gzip") == []
    assert route_from_file("notes.txt", b"hello") == []


def test_charts_escape_labels_and_stack_bars():
    svg = charts.stacked_bars(["<b>", "w2"], [("Ride", [1.0, 2.0]), ("<script>", [0.5, 0.0])], unit="km")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and svg.count("<rect") >= 3
    line = charts.lines(["Jan", "Feb"], [("2024", [1.0, 3.0])], unit="km")
    assert "<polyline" in line and "2024 Feb: 3 km" in line
