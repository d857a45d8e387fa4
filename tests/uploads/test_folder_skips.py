"""`upload_folder`: every input it passes over for a reason (symlink out, FIFO) has a line in the report."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil

import pytest
from django.core.management import call_command

from tests.uploads.conftest import SETTINGS_FIT
from uploads.folders import Skipped, scan_folder

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path):
    """One junk file, a FIFO named like a ride, a symlink out of the folder, a broken one, a note."""
    root = tmp_path / "rides"
    root.mkdir()
    shutil.copy(SETTINGS_FIT, root / "settings.fit")
    os.mkfifo(root / "pipe.fit")
    outside = tmp_path / "outside.fit"
    shutil.copy(SETTINGS_FIT, outside)
    (root / "escape.fit").symlink_to(outside)
    (root / "dangling.gpx").symlink_to(tmp_path / "gone.gpx")
    (root / "notes.txt").write_text("not an activity file, not worth a line")
    return root


def test_the_scan_yields_regular_files_and_says_why_it_skipped_the_rest(folder):
    skipped: list[Skipped] = []
    assert [p.name for p in scan_folder(folder, skipped)] == ["settings.fit"]
    assert {s.name: s.reason for s in skipped} == {
        "dangling.gpx": "skipped: a broken symlink",
        "escape.fit": "skipped: a symlink leading outside the folder",
        "pipe.fit": "skipped: a FIFO, not a regular file",
    }


def test_the_command_summary_and_reports_list_each_skipped_input(folder, alice, tmp_path):
    out = io.StringIO()
    reports = tmp_path / "reports"
    call_command("upload_folder", str(folder), "--athlete", str(alice.strava_id), "--no-wait", "--keep-in-place",
                 "--report-dir", str(reports), stdout=out)
    text = out.getvalue()
    assert "1 junk, 3 skipped" in text
    assert "skipped: pipe.fit: a FIFO, not a regular file" in text
    assert "skipped: escape.fit: a symlink leading outside the folder" in text
    (json_report,) = reports.glob("*.json")
    rows = {row["file"]: row for row in json.loads(json_report.read_text())["rows"]}
    assert rows["pipe.fit"]["status"] == "skipped" and rows["dangling.gpx"]["reason"] == "skipped: a broken symlink"
    (csv_report,) = reports.glob("*.csv")
    csv_rows = {row["file"]: row for row in csv.DictReader(io.StringIO(csv_report.read_text()))}
    assert set(csv_rows) == {"settings.fit", "pipe.fit", "escape.fit", "dangling.gpx"}
    assert csv_rows["escape.fit"]["status"] == "skipped"


def test_the_dry_run_lists_skipped_inputs_too(folder, alice):
    out = io.StringIO()
    call_command("upload_folder", str(folder), "--athlete", str(alice.strava_id), "--dry-run", stdout=out)
    assert "skipped   pipe.fit  skipped: a FIFO, not a regular file" in out.getvalue()
