"""Upload pages: what an athlete sees, and that nobody else can see or touch it."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.uploads.conftest import ACTIVITY_FIT, BROKEN, SETTINGS_FIT
from uploads.models import Upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_files(ingest, batch):
    (good,) = ingest(ACTIVITY_FIT)
    (broken,) = ingest(BROKEN / "empty.fit")
    return batch, good, broken


def owner_urls(batch, upload) -> list[tuple[str, str]]:
    return [
        ("get", f"/uploads/batches/{batch.pk}/"),
        ("get", f"/uploads/batches/{batch.pk}/status.json"),
        ("get", f"/uploads/batches/{batch.pk}/report.csv"),
        ("get", f"/uploads/batches/{batch.pk}/report.json"),
        ("get", f"/uploads/files/{upload.pk}/download/"),
        ("post", f"/uploads/files/{upload.pk}/retry/"),
        ("post", f"/uploads/files/{upload.pk}/delete/"),
        ("post", f"/uploads/batches/{batch.pk}/files/"),
    ]


def test_every_uploads_url_answers_404_to_another_athlete(client, alices_files, bob):
    batch, good, broken = alices_files
    client.force_login(bob.user)
    for method, url in owner_urls(batch, broken):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    assert Upload.objects.filter(pk=broken.pk).exists()


def test_anonymous_visitors_are_sent_to_log_in(client, alices_files):
    batch, good, broken = alices_files
    urls = owner_urls(batch, broken) + [("get", "/uploads/"), ("get", "/uploads/new/"), ("post", "/uploads/batches/"),
                                        ("post", "/uploads/retry-failed/")]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/?next="), (method, url)


def test_posts_without_a_csrf_token_are_refused(alices_files):
    batch, good, broken = alices_files
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(batch.athlete.user)
    assert strict.post(f"/uploads/files/{broken.pk}/retry/").status_code == 403
    assert strict.post("/uploads/batches/").status_code == 403


def test_the_owner_sees_the_batch_and_its_report(client, alices_files):
    batch, good, broken = alices_files
    client.force_login(batch.athlete.user)
    status = client.get(f"/uploads/batches/{batch.pk}/status.json").json()
    assert status["total"] == 2 and status["counts"] == {"queued": 1, "failed": 1}
    csv_text = client.get(f"/uploads/batches/{batch.pk}/report.csv").content.decode()
    assert csv_text.splitlines()[0].startswith("file,status,upload_id,activity_id,duplicate_of,reason")
    assert len(csv_text.strip().splitlines()) == 3
    assert client.get(f"/uploads/files/{good.pk}/download/").getvalue() == ACTIVITY_FIT.read_bytes()


def test_the_pages_and_reports_show_what_each_file_records(client, alices_files):
    batch, good, broken = alices_files
    client.force_login(batch.athlete.user)
    recorded = "Ride · 2019-02-17 06:26 UTC"  # the session's start, not file_id.time_created (08:48)

    files = {f["file"]: f for f in client.get(f"/uploads/batches/{batch.pk}/status.json").json()["files"]}
    assert (files[good.original_name]["recorded"], files[broken.original_name]["recorded"]) == (recorded, "")
    assert recorded in client.get(f"/uploads/batches/{batch.pk}/").content.decode()
    assert recorded in client.get("/uploads/").content.decode()
    rows = client.get(f"/uploads/batches/{batch.pk}/report.json").json()["rows"]
    good_row = next(r for r in rows if r["file"] == good.original_name)
    assert (good_row["start_time"], good_row["sport"]) == ("2019-02-17T06:26:44+00:00", "Ride")


def test_a_browser_drop_creates_a_batch_and_reports_each_file(client, alice):
    client.force_login(alice.user)
    batch = client.post("/uploads/batches/").json()
    files = [
        SimpleUploadedFile("ride.fit", ACTIVITY_FIT.read_bytes()),
        SimpleUploadedFile("settings.fit", SETTINGS_FIT.read_bytes()),
        SimpleUploadedFile("notes.fit", b"this is not a fit file at all"),
        SimpleUploadedFile("export.zip", (BROKEN / "garmin_export.zip").read_bytes()),
    ]
    answer = client.post(f"/uploads/batches/{batch['id']}/files/", {"files": files}).json()
    by_name = {row["file"]: row for row in answer["files"]}
    assert by_name["ride.fit"]["status"] == "queued"
    assert by_name["settings.fit"]["status"] == "junk"
    assert by_name["notes.fit"]["status"] == "failed" and by_name["notes.fit"]["reason"]
    assert any(name.startswith("export.zip/") for name in by_name)


def test_too_many_files_in_flight_are_refused_clearly(client, alice, settings):
    settings.UPLOADS_MAX_IN_FLIGHT = 0
    client.force_login(alice.user)
    batch = client.post("/uploads/batches/").json()
    response = client.post(f"/uploads/batches/{batch['id']}/files/", {"files": [SimpleUploadedFile("a.fit", b"x")]})
    assert response.status_code == 429 and "waiting" in response.json()["error"]


def test_history_filters_by_state_and_retries_all_failed(client, alices_files):
    batch, good, broken = alices_files
    Upload.objects.filter(pk=good.pk).update(status="failed", reason="Strava said no", attempts=1)
    client.force_login(batch.athlete.user)
    page = client.get("/uploads/?status=failed").content.decode()
    # The empty file failed before any call: another try would fail the same, so it is not offered.
    assert "Strava said no" in page and "Retry all 1 failed" in page
    client.post("/uploads/retry-failed/")
    assert Upload.objects.get(pk=good.pk).status == "queued"
    assert Upload.objects.get(pk=broken.pk).status == "failed"


def test_deleting_a_file_removes_it_and_its_bytes(client, alices_files, django_capture_on_commit_callbacks):
    batch, good, broken = alices_files
    name = good.file.name
    assert default_storage.exists(name)
    client.force_login(batch.athlete.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/uploads/files/{good.pk}/delete/")
    assert not Upload.objects.filter(pk=good.pk).exists()
    assert not default_storage.exists(name)


def test_the_admin_lists_uploads_with_a_bounded_number_of_queries(admin_client, alices_files,
                                                                  django_assert_max_num_queries, ingest):
    for path in (SETTINGS_FIT, BROKEN / "not_a_fit.fit"):
        ingest(path)
    with django_assert_max_num_queries(12):
        assert admin_client.get("/admin/uploads/upload/").status_code == 200
    with django_assert_max_num_queries(12):
        assert admin_client.get("/admin/uploads/uploadbatch/").status_code == 200
    upload = Upload.objects.first()
    assert admin_client.get(f"/admin/uploads/upload/{upload.pk}/change/").status_code == 200


def test_the_admin_retry_action_requeues_failed_files(admin_client, alices_files):
    batch, good, broken = alices_files
    Upload.objects.filter(pk=good.pk).update(status="failed", attempts=1)
    admin_client.post("/admin/uploads/upload/", {"action": "retry", "_selected_action": [good.pk]})
    assert Upload.objects.get(pk=good.pk).status == "queued"
