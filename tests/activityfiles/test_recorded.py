"""The sweep's recorded start and sport against fitparse's full parse, on every real activity file we have.

The reference: fitparse's first session (start_time, sport/sub_sport), else the first
record's timestamp and the sport message's (or first lap's) sport, mapped to Strava's
sport_type by the same activityfiles.sports.strava_sport. GPX/TCX: the first track point's
time read with ElementTree. /work/shared/data holds a bigger corpus; without it that part skips.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET  # our own test files
from datetime import UTC, datetime
from pathlib import Path

import fitparse
import pytest

from activityfiles import classify_bytes, classify_file, strava_sport, xml_sport
from tests.activityfiles.reference import DATA, FIT_FILES, XML_FILES, fitparse_parse, fitparse_reference, label
from tests.fitedit import with_time_created


@pytest.mark.parametrize("path", FIT_FILES, ids=label)
def test_the_recorded_start_and_sport_are_fitparses(path: Path) -> None:
    reference = fitparse_reference(path)
    if reference is None:
        pytest.skip("not an activity, or fitparse cannot parse it")
    start, sport = reference

    verdict = classify_file(path)

    assert verdict.status == "eligible"
    assert verdict.sport == sport
    if start is None:
        assert verdict.start_time is None
    else:
        assert verdict.start_time is not None
        assert abs((verdict.start_time - start).total_seconds()) <= 1
    assert classify_bytes(path.read_bytes()) == verdict


@pytest.mark.parametrize("name", [
    "dtcooper_python-fitparse__tests_files_2019-02-17-062644-ELEMNT-297E-195-0.fit",
    "GoldenCheetah_GoldenCheetah__test_swims_AleV_Swim_2015-02-09-16-15.fit",
    "tormoder_fit__testdata_misc_0134902991.fit",
])
def test_the_stored_fitparse_answers_are_fitparses(name: str) -> None:
    """The stored reference is only a cache: these entries are parsed again on every run."""
    path = DATA / name
    assert fitparse_reference(path) == fitparse_parse(path)


def test_most_real_activities_were_copied_or_exported_after_their_start() -> None:
    """Why this matters: on many real files time_created is not the start (the old start_time)."""
    verdicts = [classify_file(path) for path in FIT_FILES if fitparse_reference(path)]
    off = [v for v in verdicts if v.start_time and v.created_time and abs(v.start_time - v.created_time).total_seconds() > 60]
    assert len(verdicts) >= 10
    assert off  # in tests/data alone: the ELEMNT ride, the indoor ride 0134902991, ...


def _first_xml_point(path: Path) -> datetime | None:
    root = ET.parse(path).getroot()
    for element in root.iter():
        tag = element.tag.rpartition("}")[2]
        if tag in ("trkpt", "Trackpoint"):
            for child in element:
                if child.tag.rpartition("}")[2] in ("time", "Time") and child.text:
                    moment = datetime.fromisoformat(child.text.strip())
                    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return None


def _xml_sport_text(path: Path) -> str | None:
    root = ET.parse(path).getroot()
    for element in root.iter():
        tag = element.tag.rpartition("}")[2]
        if tag == "Activity":
            return element.get("Sport")
        if tag == "type" and element.text:
            return element.text
    return None


@pytest.mark.parametrize("path", XML_FILES, ids=label)
def test_gpx_and_tcx_start_at_their_first_timed_point(path: Path) -> None:
    try:
        expected = _first_xml_point(path)
    except ET.ParseError:
        pytest.skip("not well-formed XML")
    verdict = classify_file(path)
    if verdict.status != "eligible":
        pytest.skip(verdict.reason)
    assert verdict.start_time == expected
    assert verdict.sport == xml_sport(_xml_sport_text(path))[0]


# --------------------------------------------------------------------------- a rewritten time_created


ACTIVITY = DATA / "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit"
ELEMNT = DATA / "dtcooper_python-fitparse__tests_files_2019-02-17-062644-ELEMNT-297E-195-0.fit"
MULTISPORT = "andrewgy8_python_fit_tool__fit_tool_tests_data_sdk_activity_multisport.fit"


@pytest.mark.parametrize("file_crc", [True, False], ids=["crc", "crc0"])
def test_a_rewritten_time_created_does_not_move_the_recorded_start(tmp_path: Path, file_crc: bool) -> None:
    original = classify_file(ACTIVITY)
    later = 1_000_000_000  # 2021-09-09: a copy made years later
    copy = tmp_path / "copy.fit"
    copy.write_bytes(with_time_created(ACTIVITY.read_bytes(), later, file_crc=file_crc))
    if file_crc:
        fitparse.FitFile(str(copy)).parse()  # still a valid FIT file

    verdict = classify_file(copy)

    assert verdict.created_time == datetime.fromtimestamp(631065600 + later, UTC)
    assert verdict.start_time == original.start_time == datetime(2018, 10, 3, 13, 36, 6, tzinfo=UTC)
    assert (verdict.sport, verdict.status) == ("Ride", "eligible")


def test_time_created_is_kept_as_created_time() -> None:
    verdict = classify_file(ELEMNT)
    assert verdict.created_time == datetime(2019, 2, 17, 8, 48, 9, tzinfo=UTC)  # written two hours later
    assert verdict.start_time == datetime(2019, 2, 17, 6, 26, 44, tzinfo=UTC)


# --------------------------------------------------------------------------- sports


@pytest.mark.parametrize(
    ("sport", "sub_sport", "expected"),
    [
        ("running", "trail", ("TrailRun", False)),
        (1, 1, ("Run", True)),  # treadmill, as numbers
        ("cycling", "indoor_cycling", ("Ride", True)),
        ("cycling", "virtual_activity", ("VirtualRide", False)),
        ("cycling", "gravel_cycling", ("GravelRide", False)),
        (2, 8, ("MountainBikeRide", False)),
        ("cycling", None, ("Ride", False)),
        ("e_biking", None, ("EBikeRide", False)),
        ("swimming", "lap_swimming", ("Swim", False)),
        ("training", "strength_training", ("WeightTraining", False)),
        ("training", "cardio_training", ("Workout", False)),
        ("fitness_equipment", "elliptical", ("Elliptical", True)),
        ("alpine_skiing", "backcountry", ("BackcountrySki", False)),
        ("cross_country_skiing", None, ("NordicSki", False)),
        ("rock_climbing", 69, ("RockClimbing", False)),  # bouldering: fitparse passes the number through
        (53, None, ("Workout", False)),  # diving: a sport Strava has no type for
        ("generic", "generic", (None, False)),
        (None, None, (None, False)),
        (0xFF, 0xFF, (None, False)),
    ],
)
def test_fit_sports_map_to_strava_sport_types(sport: int | str | None, sub_sport: int | str | None, expected: object) -> None:
    assert strava_sport(sport, sub_sport) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("running", "Run"), ("Biking", "Ride"), ("9", "Run"), ("1", "Ride"), ("16", "Swim"), ("Ride", "Ride"),
     ("VirtualRide", "VirtualRide"), ("hiking", "Hike"), ("Other", None), ("", None), ("quidditch", None)],
)  # fmt: skip
def test_gpx_and_tcx_sport_words_map_to_strava_sport_types(text: str, expected: str | None) -> None:
    assert xml_sport(text)[0] == expected


def test_damage_anywhere_in_an_activity_never_raises() -> None:
    """The tail is read too now: cuts, flipped bytes and chance patterns there must not raise either."""
    rng = random.Random(5)
    originals = [ACTIVITY.read_bytes(), ELEMNT.read_bytes()[-60_000:], (DATA / MULTISPORT).read_bytes()]
    originals[1] = ELEMNT.read_bytes()[:4096] + originals[1]  # its head (file_id) and its tail, a smaller file
    for _ in range(400):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 12)):
            at = len(data) - 1 - min(int(rng.expovariate(1 / 800)), len(data) - 1)  # mostly near the end
            data[at] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randint(0, len(data))]
        verdict = classify_bytes(bytes(data))
        assert verdict.status in ("eligible", "junk", "failed")
        assert verdict.start_time is None or verdict.start_time.tzinfo is UTC
