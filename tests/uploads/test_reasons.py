"""Reasons in plain words on pages, the stored technical reason kept beside them."""

from __future__ import annotations

import pytest

from activityfiles import classify_file
from tests.conftest import DATA_DIR
from uploads.reasons import reason_words


@pytest.mark.parametrize(("name", "words"), [
    ("rgmf_fit_data_whiz__tests_files_sleep1.fit", "not an activity: a sleep file"),
    ("rgmf_fit_data_whiz__tests_files_hrv1.fit", "not an activity: a heart-rate variability (HRV) file"),
    ("rgmf_fit_data_whiz__tests_files_monitor1_with_all.fit", "not an activity: a daily tracking file (steps, heart rate)"),
    ("dtcooper_python-fitparse__tests_files_Settings2.fit", "not an activity: a settings file"),
    ("mshroyer_coursepointer__integration_src_integration_data_invalid_bad_xml.gpx",
     "not a readable GPX/TCX file (the XML is cut off or broken)"),
])
def test_the_classifiers_reasons_for_real_files_read_as_words_and_keep_the_detail(name, words):
    verdict = classify_file(DATA_DIR / name)

    said = reason_words(verdict.reason)

    assert said.words == words
    assert said.detail == verdict.reason  # nothing lost for whoever wants it


def test_an_unknown_fit_type_still_says_it_is_no_activity():
    assert reason_words("junk: 93 file").words == "not an activity: a FIT file of type 93"


def test_an_xml_parse_error_reads_as_a_broken_gpx_or_tcx_file():
    said = reason_words("unreadable: unclosed token: line 1, column 76")
    assert said.words == "not a readable GPX/TCX file (the XML is cut off or broken)"
    assert said.detail == "unreadable: unclosed token: line 1, column 76"


def test_reasons_already_in_words_are_shown_as_they_are():
    for text in ("Strava refused the file: Improperly formatted data.", "waiting for the Strava quota", ""):
        said = reason_words(text)
        assert (said.words, said.detail) == (text, "")
