"""In headless Chromium: drop files, watch the batch settle, retry, download the report."""

from __future__ import annotations

import csv

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import connect
from tests.uploads.conftest import ACTIVITY_FIT, BROKEN, GPX, SETTINGS_FIT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_until_settled(page) -> None:
    page.wait_for_selector("#batch-summary[data-finished='1']", timeout=60_000)


def test_a_dropped_zip_and_loose_files_settle_then_a_failed_one_is_retried(page, strava_sim, dispatcher, settings,
                                                                            tmp_path):
    from sandbox.services import sim_config_update
    from uploads.models import Upload

    settings.SANDBOX_UPLOAD_DELAY = 0.2
    settings.UPLOADS_CONFIRM_DELAY = 0.3
    settings.UPLOADS_CONFIRM_FALLBACK = 1.0
    settings.UPLOADS_CONFIRM_MAX_WAIT = 2
    sim_config_update(fail_uploads=True)  # Strava is having a bad day

    connect(page, strava_sim.url, firstname="Uploader")
    page.click("text=Uploads")
    page.click("#new-upload")
    page.set_input_files("#file-input", [str(BROKEN / "garmin_export.zip"), str(ACTIVITY_FIT), str(SETTINGS_FIT),
                                         str(GPX)])
    # The page's script fills the selection summary on the input's change event: wait for it.
    expect(page.locator("#selection")).to_contain_text("4 file(s)")
    page.click("#start-upload")
    page.wait_for_url("**/uploads/batches/*/")
    wait_until_settled(page)

    rows = page.locator("#batch-files tbody tr")
    states = rows.locator("td.state").all_inner_texts()
    # junk: the settings file, and a non-activity and a sleep file inside the export
    assert states.count("junk") == 3
    assert states.count("failed") == 3 and "done" not in states
    assert "Improperly formatted data." in page.inner_text("#batch-files")

    sim_config_update(fail_uploads=False)  # Strava recovers
    failed_row = page.locator("#batch-files tbody tr", has_text=ACTIVITY_FIT.name)
    failed_row.locator("button.retry").click()
    page.wait_for_selector(".message")
    page.wait_for_function(
        "name => [...document.querySelectorAll('#batch-files tbody tr')].some("
        "tr => tr.textContent.includes(name) && tr.querySelector('td.state').textContent === 'done')",
        arg=ACTIVITY_FIT.name, timeout=60_000,
    )
    wait_until_settled(page)
    assert Upload.objects.get(original_name=ACTIVITY_FIT.name).activity_id

    with page.expect_download() as download_info:
        page.click("#report-csv")
    path = tmp_path / "report.csv"
    download_info.value.save_as(path)
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == 6
    by_file = {row["file"]: row for row in rows}
    assert by_file[ACTIVITY_FIT.name]["status"] == "done" and by_file[ACTIVITY_FIT.name]["activity_id"]
    assert by_file[SETTINGS_FIT.name]["status"] == "junk"
