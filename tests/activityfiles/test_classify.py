"""The sweep's verdicts on real files (tests/data, ground truth in tests/data/PROVENANCE.csv).

Broken and hostile cases come from tests/data/make_broken.py; a few edge cases no real
file shows (a relative time_created, a file_id far into the file) are built here.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import struct
from datetime import UTC, datetime
from pathlib import Path

import fitparse
import pytest

from activityfiles import (
    MAX_FIT_MESSAGES,
    classify_bytes,
    classify_file,
    classify_fit_header,
    fit_crc16,
    sniff_type,
)

DATA = Path(__file__).resolve().parents[1] / "data"
BROKEN = DATA / "broken"

with (DATA / "PROVENANCE.csv").open(newline="") as _f:
    PROVENANCE = {row["file"]: row for row in csv.DictReader(_f)}

REAL_FIT = sorted(
    name for name, row in PROVENANCE.items() if name.lower().endswith(".fit") and "/" not in name and row["sha256"]
)

ACTIVITY = "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit"
ELEMNT = "dtcooper_python-fitparse__tests_files_2019-02-17-062644-ELEMNT-297E-195-0.fit"
ZWIFT_DATA_SIZE_0 = "jimmykane_sports-lib__integrationTests_fixtures_others_broken.fit"

# Where we part from the strict parse that wrote PROVENANCE, deliberately.
DELIBERATE = {
    # 12-byte header with data_size 0: strict parsers read no messages and fail the CRC;
    # reading on finds a file_id right after the header: activity, manufacturer zwift.
    ZWIFT_DATA_SIZE_0: ("eligible", "activity"),
}


def expected(row: dict[str, str]) -> tuple[str, str | None]:
    """(status, file_type) the ground truth implies: type decides; no file_id at all fails."""
    if row["file"] in DELIBERATE:
        return DELIBERATE[row["file"]]
    file_type = row["fit_file_type"] or None
    if file_type == "activity":
        return "eligible", file_type
    if file_type or row["full_parse_ok"] == "True":  # a file_id, maybe without a type
        return "junk", file_type
    return "failed", None


def short(name: str) -> str:
    return name.rsplit("__", 1)[-1]


# --------------------------------------------------------------------------- real FIT files


def test_the_selection_covers_many_makers_and_junk_types() -> None:
    rows = [PROVENANCE[name] for name in REAL_FIT]
    makers = {row["manufacturer"] for row in rows}
    types = {row["fit_file_type"] for row in rows}
    assert {"garmin", "wahoo_fitness", "coros", "suunto", "stages_cycling", "hammerhead", "strava"} <= makers
    assert {"trainer_road", "sigmasport", "bryton"} <= makers
    assert {"activity", "monitoring_b", "settings", "workout", "course", "49", "68", ""} <= types
    assert any(row["full_parse_ok"] == "False" for row in rows)


@pytest.mark.parametrize("name", REAL_FIT, ids=short)
def test_real_fit_files_get_the_verdict_their_file_type_implies(name: str) -> None:
    row = PROVENANCE[name]
    status, file_type = expected(row)

    verdict = classify_file(DATA / name)

    assert (verdict.status, verdict.file_type) == (status, file_type), verdict.reason
    assert verdict.data_type == "fit"
    if status == "eligible":
        assert verdict.reason == ""
    elif status == "junk":
        assert verdict.reason == (f"junk: {file_type} file" if file_type else "junk: file_id has no file type")
    if name not in DELIBERATE:
        created = verdict.created_time.isoformat(sep=" ") if verdict.created_time else ""
        assert created == row["time_created"]
        assert (verdict.manufacturer or "") == row["manufacturer"]
        if row["product"].isdigit():
            assert verdict.product == row["product"]


@pytest.mark.parametrize("name", REAL_FIT, ids=short)
def test_classify_bytes_agrees_with_classify_file(name: str) -> None:
    assert classify_bytes((DATA / name).read_bytes()) == classify_file(DATA / name)


def fitparse_file_type(path: Path) -> str | None:
    """file_id.type after fitparse's full, strict parse (raises when fitparse cannot parse)."""
    messages = list(fitparse.FitFile(str(path)).get_messages())
    file_ids = [message for message in messages if message.name == "file_id"]
    value = file_ids[0].get_value("type") if file_ids else None
    return None if value is None else str(value)


STRICTLY_PARSEABLE = [name for name in REAL_FIT if PROVENANCE[name]["full_parse_ok"] == "True"]


@pytest.mark.parametrize("name", STRICTLY_PARSEABLE, ids=short)
def test_verdicts_agree_with_a_full_fitparse_parse(name: str) -> None:
    file_type = fitparse_file_type(DATA / name)
    verdict = classify_file(DATA / name)
    assert verdict.status == ("eligible" if file_type == "activity" else "junk")
    assert verdict.file_type == file_type


def test_activity_files_are_eligible_with_their_start_time_and_maker() -> None:
    verdict = classify_file(DATA / ACTIVITY)
    assert verdict.status == "eligible"
    assert verdict.start_time == datetime(2018, 10, 3, 13, 36, 6, tzinfo=UTC)
    assert (verdict.manufacturer, verdict.product) == ("garmin", "2067")  # 2067: Edge 520


def test_monitoring_files_are_junk_named_by_type() -> None:
    verdict = classify_file(DATA / "rgmf_fit_data_whiz__tests_files_monitor1_with_all.fit")
    assert (verdict.status, verdict.reason, verdict.file_type) == ("junk", "junk: monitoring_b file", "monitoring_b")


def test_types_outside_the_enum_are_junk_named_by_their_number() -> None:
    sleep = classify_file(DATA / "rgmf_fit_data_whiz__tests_files_sleep1.fit")
    hrv = classify_file(DATA / "rgmf_fit_data_whiz__tests_files_hrv1.fit")
    assert (sleep.status, sleep.reason) == ("junk", "junk: 49 file")
    assert (hrv.status, hrv.reason) == ("junk", "junk: 68 file")


def test_settings_workout_and_course_files_are_junk() -> None:
    names = {
        "dtcooper_python-fitparse__tests_files_Settings2.fit": "settings",
        "andrewgy8_python_fit_tool__fit_tool_tests_data_trainerroad_744490.fit": "workout",
        "mshroyer_coursepointer__integration_src_integration_data_cptr002.fit": "course",
    }
    for name, file_type in names.items():
        assert classify_file(DATA / name).reason == f"junk: {file_type} file"


def test_a_file_id_without_a_type_is_junk() -> None:
    verdict = classify_file(DATA / "GoldenCheetah_GoldenCheetah__test_rides_moxy.fit")
    assert (verdict.status, verdict.file_type, verdict.manufacturer) == ("junk", None, "moxy")
    assert verdict.reason == "junk: file_id has no file type"


def test_developer_data_messages_before_the_file_id_are_skipped() -> None:
    # 21 developer_data_id/field_description messages (big-endian) come first in this file.
    verdict = classify_file(DATA / "andrewgy8_python_fit_tool__fit_tool_tests_data_stagesLink_25622166.fit")
    assert (verdict.file_type, verdict.manufacturer) == ("workout", "stages_cycling")


def test_big_endian_definitions_are_read() -> None:
    verdict = classify_file(
        DATA / "GoldenCheetah_GoldenCheetah__test_rides_Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit"
    )
    assert (verdict.status, verdict.manufacturer) == ("eligible", "hammerhead")


def test_a_zero_data_size_reads_on_to_the_file_id() -> None:
    verdict = classify_file(DATA / ZWIFT_DATA_SIZE_0)
    assert (verdict.status, verdict.manufacturer) == ("eligible", "zwift")
    assert verdict.created_time == datetime(2016, 1, 16, 14, 33, 6, tzinfo=UTC)
    # The file is cut before any session: the recorded start is its first record's (fitdecode agrees).
    assert verdict.start_time == datetime(2016, 1, 16, 14, 33, 51, tzinfo=UTC)


def test_a_zero_header_crc_is_accepted() -> None:
    name = "GoldenCheetah_GoldenCheetah__test_swims_AleV_Swim_2015-02-09-16-15.fit"
    assert (DATA / name).read_bytes()[12:14] == b"\0\0"
    assert classify_file(DATA / name).status == "eligible"


@pytest.mark.parametrize(
    "name",
    [
        "dtcooper_python-fitparse__tests_files_nick.fit",  # file CRC missing
        "dtcooper_python-fitparse__tests_files_strava-android-app-201.10-b1218918.fit",  # shorter than data_size
        "dtcooper_python-fitparse__tests_files_coros-pace-2-cycling-misaligned-fields.fit",  # bad field size later on
        "mshroyer_coursepointer__integration_src_integration_data_invalid_truncated.fit",  # cut at 327 bytes
    ],
    ids=short,
)
def test_files_whose_strict_parse_fails_late_are_classified_by_their_file_id(name: str) -> None:
    row = PROVENANCE[name]
    assert row["full_parse_ok"] == "False"
    verdict = classify_file(DATA / name)
    assert verdict.status == ("eligible" if row["fit_file_type"] == "activity" else "junk")
    assert verdict.file_type == row["fit_file_type"]


def test_chained_files_are_classified_by_the_first() -> None:
    name = "muktihari_fit__testdata_chained_Activity_activity_poolswim.fit"
    data = (DATA / name).read_bytes()
    first_length = data[0] + int.from_bytes(data[4:8], "little") + 2
    assert data[first_length + 8 : first_length + 12] == b".FIT"  # a second file follows
    assert classify_file(DATA / name).status == "eligible"


def test_the_fast_core_needs_only_a_prefix() -> None:
    head = (DATA / ELEMNT).read_bytes()[:64]
    verdict = classify_fit_header(head)
    assert (verdict.status, verdict.manufacturer) == ("eligible", "wahoo_fitness")
    assert verdict.created_time == datetime(2019, 2, 17, 8, 48, 9, tzinfo=UTC)
    # The recorded start (06:26:44, the session's) is not in the first 64 bytes: a prefix cannot tell it.
    assert verdict.start_time is None


def test_a_prefix_that_stops_before_the_file_id_fails_as_truncated() -> None:
    verdict = classify_fit_header((DATA / ACTIVITY).read_bytes()[:30])
    assert verdict.status == "failed"
    assert verdict.reason == "unreadable: file ends at byte 30, before the file_id message (truncated)"


class Reads:
    """What classify_file read, counted at the system calls it makes (os.read, os.pread)."""

    def __init__(self) -> None:
        self.bytes_read = 0
        self.reads = 0


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Reads]:
    reads = Reads()
    real_read, real_pread = os.read, os.pread

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        reads.bytes_read += len(data)
        reads.reads += 1
        return data

    def counting_pread(fd: int, n: int, offset: int) -> bytes:
        data = real_pread(fd, n, offset)
        reads.bytes_read += len(data)
        reads.reads += 1
        return data

    monkeypatch.setattr(os, "read", counting_read)
    monkeypatch.setattr(os, "pread", counting_pread)
    return [reads]


def test_classify_file_reads_a_small_prefix_and_the_tail_of_a_large_activity(opened: list[Reads]) -> None:
    size = (DATA / ELEMNT).stat().st_size
    verdict = classify_file(DATA / ELEMNT)
    assert verdict.status == "eligible"
    assert verdict.start_time == datetime(2019, 2, 17, 6, 26, 44, tzinfo=UTC)  # the session's, in the tail
    assert opened[0].reads == 2  # the head, then the 4 KiB before the end
    assert opened[0].bytes_read <= 4096 + 4096 < size // 50


def test_classify_file_stops_reading_gpx_at_the_first_timed_track_point(opened: list[Reads]) -> None:
    name = "GoldenCheetah_GoldenCheetah__test_aerolab_open_air_helmet_test_activity_790564009.tcx"
    assert classify_file(DATA / name).status == "eligible"
    assert opened[0].bytes_read < (DATA / name).stat().st_size


# --------------------------------------------------------------------------- synthetic FIT edge cases


def fit_file(records: bytes, *, data_size: int | None = None) -> bytes:
    header = struct.pack("<BBHI4s", 14, 0x20, 2195, len(records) if data_size is None else data_size, b".FIT")
    body = header + struct.pack("<H", fit_crc16(header)) + records
    return body + struct.pack("<H", fit_crc16(body))


def file_id(*, file_type: int = 4, time_created: int = 1_000_000_000, local: int = 0) -> bytes:
    definition = struct.pack("<BBBHB", 0x40 | local, 0, 0, 0, 3) + bytes((0, 1, 0x00, 1, 2, 0x84, 4, 4, 0x86))
    return definition + struct.pack("<BBHI", local, file_type, 1, time_created)


def records(count: int, *, size: int = 4, local: int = 1) -> bytes:
    """A definition of global message 20 (record) with one `size`-byte field, then `count` messages."""
    definition = struct.pack("<BBBHB", 0x40 | local, 0, 0, 20, 1) + bytes((0, size, 0x0D))
    return definition + (bytes((local,)) + bytes(size)) * count


def test_a_relative_time_created_is_not_a_date() -> None:
    verdict = classify_bytes(fit_file(file_id(time_created=1000)))
    assert (verdict.status, verdict.start_time) == ("eligible", None)


def test_compressed_timestamp_messages_before_the_file_id_are_skipped() -> None:
    compressed = bytes((0x80 | (1 << 5) | 7,)) + bytes(4)  # local 1, time offset 7
    verdict = classify_bytes(fit_file(records(1) + compressed + compressed + file_id()))
    assert verdict.status == "eligible"


def test_a_file_id_beyond_the_first_read_is_found_by_reading_more(tmp_path: Path, opened: list[Reads]) -> None:
    path = tmp_path / "late.fit"
    path.write_bytes(fit_file(records(300, size=255) + file_id(file_type=32)))  # ~77 KB before the file_id
    verdict = classify_file(path)
    assert verdict.reason == "junk: monitoring_b file"
    assert opened[0].reads > 1
    assert opened[0].bytes_read < 2 * path.stat().st_size


def test_the_scan_gives_up_after_a_bounded_number_of_messages() -> None:
    verdict = classify_bytes(fit_file(records(MAX_FIT_MESSAGES + 1) + file_id()))
    assert verdict.status == "failed"
    assert verdict.reason == f"unreadable: no file_id in the first {MAX_FIT_MESSAGES} messages"


def test_data_without_a_file_id_fails() -> None:
    verdict = classify_bytes(fit_file(records(3)))
    assert (verdict.status, verdict.reason) == ("failed", "unreadable: no file_id message in the FIT data")


def test_a_data_message_for_an_undefined_local_message_fails() -> None:
    verdict = classify_bytes(fit_file(bytes((5,)) + file_id()))
    assert verdict.reason == "unreadable: data message for undefined local message 5 at byte 14"


def test_no_truncation_or_flipped_byte_raises() -> None:
    for name in (ACTIVITY, "andrewgy8_python_fit_tool__fit_tool_tests_data_stagesLink_25622166.fit"):
        data = (DATA / name).read_bytes()
        for end in range(len(data[:1200])):
            assert classify_bytes(data[:end]).status in ("eligible", "junk", "failed")
        for offset in range(1200):
            for mask in (0x01, 0x80, 0xFF):
                damaged = bytearray(data)
                damaged[offset] ^= mask
                assert classify_bytes(bytes(damaged)).status in ("eligible", "junk", "failed")


# --------------------------------------------------------------------------- generated broken cases


def test_every_data_file_is_listed_in_provenance_with_its_hash() -> None:
    on_disk = {path.relative_to(DATA).as_posix() for path in DATA.rglob("*") if path.is_file()}
    generators = {"PROVENANCE.csv", "make_broken.py", "strava_export/make_export.py", "strava_export/PROVENANCE.md",
                  "make_fitparse_reference.py", "fitparse_reference.json"}
    assert on_disk - generators == set(PROVENANCE)
    for name, row in PROVENANCE.items():
        content = (DATA / name).read_bytes()
        assert (hashlib.sha256(content).hexdigest(), str(len(content))) == (row["sha256"], row["size"]), name
        if name.startswith("broken/"):
            assert row["source_repository"] == "generated by tests/data/make_broken.py"


def test_an_empty_file_fails() -> None:
    assert classify_file(BROKEN / "empty.fit").reason == "unreadable: empty file"


def test_content_that_is_not_fit_fails_whatever_its_name() -> None:
    verdict = classify_file(BROKEN / "not_a_fit.fit")
    assert (verdict.status, verdict.data_type) == ("failed", None)
    assert verdict.reason == "unreadable: unrecognized content (not FIT, GPX, TCX or gzip)"


def test_content_decides_the_type_not_the_name(tmp_path: Path) -> None:
    renamed = tmp_path / "ride.gpx"
    renamed.write_bytes((DATA / ACTIVITY).read_bytes())
    assert (classify_file(renamed).status, classify_file(renamed).data_type) == ("eligible", "fit")


def test_a_fit_file_cut_after_20_bytes_fails_as_truncated() -> None:
    verdict = classify_file(BROKEN / "truncated_20_bytes.fit")
    assert (verdict.status, verdict.data_type) == ("failed", "fit")
    assert verdict.reason == "unreadable: file ends at byte 20, before the file_id message (truncated)"


def test_a_bad_header_crc_alone_does_not_fail_a_file_whose_data_reads() -> None:
    data = (BROKEN / "bad_header_crc.fit").read_bytes()
    assert int.from_bytes(data[12:14], "little") not in (0, fit_crc16(data[:12]))
    assert classify_file(BROKEN / "bad_header_crc.fit").status == "eligible"


def test_a_bad_header_crc_with_unreadable_data_fails_naming_the_crc() -> None:
    verdict = classify_file(BROKEN / "bad_header_crc_and_data.fit")
    assert verdict.status == "failed"
    assert verdict.reason.startswith("unreadable: bad header CRC (0x")


def test_a_bad_header_crc_makes_data_size_untrusted() -> None:
    data = bytearray((DATA / ACTIVITY).read_bytes())
    data[4:8] = (2).to_bytes(4, "little")  # data_size now ends inside the first definition
    assert classify_bytes(bytes(data)).status == "eligible"  # the original CRC no longer matches: data decides
    for header_crc in (fit_crc16(data[:12]), 0):  # a header that vouches for itself, or says nothing
        data[12:14] = header_crc.to_bytes(2, "little")
        assert classify_bytes(bytes(data)).reason == "unreadable: no file_id message in the FIT data"


def test_a_flipped_byte_after_the_file_id_is_left_for_strava_to_judge() -> None:
    assert classify_file(BROKEN / "flipped_data_byte.fit").status == "eligible"


def test_a_flipped_record_header_before_the_file_id_fails() -> None:
    verdict = classify_file(BROKEN / "flipped_record_header.fit")
    assert verdict.reason == "unreadable: data message for undefined local message 2 at byte 14"


# --------------------------------------------------------------------------- gzip


@pytest.mark.parametrize(
    ("name", "data_type", "file_type"),
    [("activity.fit.gz", "fit.gz", "activity"), ("route.gpx.gz", "gpx.gz", "gpx"), ("swim.tcx.gz", "tcx.gz", "tcx")],
)
def test_gzipped_files_are_classified_by_their_content(name: str, data_type: str, file_type: str) -> None:
    verdict = classify_file(BROKEN / name)
    assert (verdict.status, verdict.data_type, verdict.file_type) == ("eligible", data_type, file_type)
    assert classify_bytes((BROKEN / name).read_bytes()) == verdict


def test_gzipped_junk_stays_junk() -> None:
    data = gzip.compress((DATA / "rgmf_fit_data_whiz__tests_files_sleep1.fit").read_bytes(), mtime=0)
    verdict = classify_bytes(data)
    assert (verdict.status, verdict.data_type, verdict.reason) == ("junk", "fit.gz", "junk: 49 file")


def test_a_gzip_bomb_is_refused_at_the_default_limit() -> None:
    verdict = classify_file(BROKEN / "bomb.fit.gz")
    assert (verdict.status, verdict.data_type) == ("failed", "fit.gz")
    assert verdict.reason == f"refused: gzip expands beyond {200 * 1024 * 1024} bytes"


def test_the_gzip_limit_is_a_parameter() -> None:
    verdict = classify_bytes((BROKEN / "activity.fit.gz").read_bytes(), max_gunzip_bytes=1000)
    assert verdict.reason == "refused: gzip expands beyond 1000 bytes"


def test_a_truncated_gzip_fails() -> None:
    verdict = classify_file(BROKEN / "truncated.fit.gz")
    assert (verdict.status, verdict.data_type, verdict.reason) == (
        "failed",
        "fit.gz",
        "unreadable: gzip stream is truncated",
    )


def test_gzip_inside_gzip_is_not_something_strava_takes() -> None:
    assert classify_file(BROKEN / "double.fit.gz.gz").reason == "unsupported: gzip inside gzip"


def test_a_zip_is_left_to_the_archive_reader() -> None:
    verdict = classify_file(BROKEN / "garmin_export.zip")
    assert verdict.status == "failed"
    assert verdict.reason.startswith("unsupported: zip archive")


# --------------------------------------------------------------------------- GPX and TCX

GPX_TCX = {
    # name: (status, data_type, start_time, sport, reason)
    "GoldenCheetah_GoldenCheetah__test_swims_argmac_Garmin_FR910XT_2015_01_31_10_17_02.tcx": (
        "eligible", "tcx", datetime(2015, 1, 31, 9, 17, 2, tzinfo=UTC), None, "",  # Sport="Other" names none
    ),
    "GoldenCheetah_GoldenCheetah__test_aerolab_open_air_helmet_test_activity_790564009.tcx": (
        "eligible", "tcx", datetime(2015, 5, 31, 14, 31, 21, tzinfo=UTC), "Ride", "",  # Sport="Biking"
    ),
    "sports-alliance_sports-lib__src_specs_fixtures_swim_gpx_4623204522-1.gpx": (
        "eligible", "gpx", datetime(2018, 10, 13, 17, 5, 1, tzinfo=UTC), "Swim", "",  # Strava's code 16
    ),
    "jimmykane_sports-lib__samples_gpx_garmin.gpx": (
        "eligible", "gpx", datetime(2018, 4, 23, 15, 54, 34, tzinfo=UTC), "Run", "",  # <type>running
    ),
    "GoldenCheetah_GoldenCheetah__test_rides_MetadataOnly.gpx": (
        "junk", "gpx", None, None, "not an activity file: no timestamped track points",
    ),
    "mshroyer_coursepointer__integration_src_integration_data_cptr002.gpx": (
        "junk", "gpx", None, None, "not an activity file: no timestamped track points",
    ),
    "andrewgy8_python_fit_tool__fit_tool_tests_data_old_stage_left_hand_lee.gpx": (
        "junk", "gpx", None, "Ride", "not an activity file: no timestamped track points",
    ),
    "mshroyer_coursepointer__integration_src_integration_data_invalid_bad_xml.gpx": (
        "failed", None, None, None, "unreadable: unclosed token: line 1, column 0",
    ),
    "GoldenCheetah_GoldenCheetah__test_rides_2015-09-27-0755_Road_Cycling_WF.tcx": (
        "failed", None, None, None, "unreadable: empty file",
    ),
}  # fmt: skip


def test_every_gpx_and_tcx_in_tests_data_has_an_expectation() -> None:
    assert {name for name in PROVENANCE if name.endswith((".gpx", ".tcx")) and "/" not in name} == set(GPX_TCX)


@pytest.mark.parametrize("name", sorted(GPX_TCX), ids=short)
def test_gpx_and_tcx_files_are_eligible_only_with_timestamped_track_points(name: str) -> None:
    status, data_type, start_time, sport, reason = GPX_TCX[name]
    verdict = classify_file(DATA / name)
    assert (verdict.status, verdict.data_type, verdict.start_time, verdict.sport, verdict.reason) == (
        status,
        data_type,
        start_time,
        sport,
        reason,
    )
    assert classify_bytes((DATA / name).read_bytes()) == verdict


def test_an_xml_entity_bomb_is_refused() -> None:
    verdict = classify_file(BROKEN / "billion_laughs.gpx")
    assert verdict.status == "failed"
    assert verdict.reason.startswith("refused: XML with a DOCTYPE")


def test_xml_that_is_not_gpx_or_tcx_is_junk() -> None:
    verdict = classify_bytes(b'<?xml version="1.0"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>')
    assert (verdict.status, verdict.reason) == ("junk", "not an activity file: XML document <kml>")


def test_gpx_is_read_whatever_its_namespace_prefix_and_time_zone() -> None:
    gpx = (
        b'<g:gpx xmlns:g="http://www.topografix.com/GPX/1/1"><g:trk><g:type>cycling</g:type><g:trkseg>'
        b'<g:trkpt lat="1" lon="2"><g:time>2021-06-01T08:00:00+02:00</g:time></g:trkpt></g:trkseg></g:trk></g:gpx>'
    )
    verdict = classify_bytes(gpx)
    assert (verdict.status, verdict.sport) == ("eligible", "Ride")  # <type>cycling</type>
    assert verdict.start_time == datetime(2021, 6, 1, 6, 0, tzinfo=UTC)


def test_a_tcx_course_is_junk_even_with_timed_track_points() -> None:
    tcx = (
        b'<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Courses>'
        b"<Course><Name>loop</Name><Track><Trackpoint><Time>2021-06-01T08:00:00Z</Time></Trackpoint></Track>"
        b"</Course></Courses></TrainingCenterDatabase>"
    )
    assert classify_bytes(tcx).reason == "not an activity file: TCX course"


# --------------------------------------------------------------------------- sniff_type


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (DATA / ACTIVITY, "fit"),
        (BROKEN / "activity.fit.gz", "gzip"),
        (BROKEN / "garmin_export.zip", "zip"),
        (DATA / "jimmykane_sports-lib__samples_gpx_garmin.gpx", "gpx"),
        (DATA / "GoldenCheetah_GoldenCheetah__test_swims_argmac_Garmin_FR910XT_2015_01_31_10_17_02.tcx", "tcx"),
        (BROKEN / "not_a_fit.fit", None),
        (BROKEN / "empty.fit", None),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else str(value),
)
def test_sniff_type_names_the_format_from_the_first_bytes(path: Path, kind: str | None) -> None:
    assert sniff_type(path.read_bytes()[:4096]) == kind


def test_sniff_type_sees_through_a_byte_order_mark() -> None:
    gpx = '<?xml version="1.0"?><gpx version="1.1"></gpx>'
    assert sniff_type(b"\xef\xbb\xbf" + gpx.encode()) == "gpx"
    assert sniff_type(gpx.encode("utf-16")) == "gpx"
