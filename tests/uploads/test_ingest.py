"""Ingest: store, hash, sniff, sweep junk and local duplicates before any call."""

from __future__ import annotations

import pytest

from tests.uploads.conftest import ACTIVITY_FIT, BROKEN, GPX, MONITORING_FIT, SETTINGS_FIT
from uploads.models import Upload, UploadEvent

pytestmark = pytest.mark.django_db


def test_an_activity_file_is_stored_hashed_and_queued(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    assert upload.status == "queued"
    assert upload.data_type == "fit" and upload.file_type == "activity"
    assert upload.start_time is not None
    assert len(upload.sha256) == 64
    with upload.file.open("rb") as stored:
        assert stored.read() == ACTIVITY_FIT.read_bytes()


def test_the_state_history_records_every_step(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    steps = list(UploadEvent.objects.filter(upload=upload).values_list("from_status", "to_status"))
    assert steps == [("", "received"), ("received", "queued")]


@pytest.mark.parametrize("path", [SETTINGS_FIT, MONITORING_FIT])
def test_non_activity_fit_files_are_junk_named_by_type(ingest, path):
    (upload,) = ingest(path)
    assert upload.status == "junk"
    assert upload.file_type in upload.reason


def test_the_same_bytes_twice_are_a_local_duplicate_costing_nothing(ingest):
    (first,) = ingest(ACTIVITY_FIT)
    (second,) = ingest(ACTIVITY_FIT, name="copy/of/it.fit")
    assert second.status == "duplicate"
    assert second.duplicate_of_upload_id == first.pk
    assert second.api_calls == 0


def test_duplicates_are_per_athlete(ingest, bob):
    from uploads.services import batch_create

    ingest(ACTIVITY_FIT)
    other = batch_create(athlete=bob, source="web")
    (upload,) = ingest(ACTIVITY_FIT, target_batch=other)
    assert upload.status == "queued"


@pytest.mark.parametrize(
    ("name", "needle"),
    [("empty.fit", "empty"), ("not_a_fit.fit", ""), ("truncated_20_bytes.fit", "")],
)
def test_broken_files_fail_with_a_reason_before_any_call(ingest, name, needle):
    (upload,) = ingest(BROKEN / name)
    assert upload.status == "failed"
    assert upload.reason
    assert needle in upload.reason.lower()


def test_a_gpx_with_timed_points_is_queued_with_its_type(ingest):
    (upload,) = ingest(GPX)
    assert upload.status == "queued" and upload.data_type == "gpx"


def test_a_gzipped_fit_keeps_its_gz_data_type(ingest):
    (upload,) = ingest(BROKEN / "activity.fit.gz")
    assert upload.status == "queued" and upload.data_type == "fit.gz"


def test_a_nested_zip_becomes_one_upload_per_member(ingest):
    uploads = ingest(BROKEN / "garmin_export.zip")
    assert len(uploads) >= 2
    assert all("/" in u.original_name for u in uploads)
    assert {u.status for u in uploads} <= {"queued", "junk", "duplicate", "failed"}


def test_paths_escaping_the_archive_are_refused_one_by_one(ingest):
    uploads = ingest(BROKEN / "evil_paths.zip")
    refused = [u for u in uploads if "escape" in u.reason or "absolute" in u.reason]
    assert refused and all(u.status == "failed" for u in refused)


def test_a_zip_bomb_is_refused_with_a_clear_reason(ingest):
    uploads = ingest(BROKEN / "zip_bomb.zip")
    assert any(u.status == "failed" and "refused" in u.reason for u in uploads)


def test_the_batch_closes_when_nothing_is_left_to_send(ingest, batch):
    ingest(SETTINGS_FIT)
    batch.refresh_from_db()
    assert batch.finished_at is not None and batch.counts == {"junk": 1}
    ingest(ACTIVITY_FIT)
    batch.refresh_from_db()
    assert batch.finished_at is None and batch.file_count == 2


def test_a_settled_upload_cannot_move_again(ingest):
    from uploads.services import upload_transition

    (upload,) = ingest(SETTINGS_FIT)
    assert upload_transition(upload_id=upload.pk, to="uploading") is False
    assert Upload.objects.get(pk=upload.pk).status == "junk"


def test_retry_requeues_an_upload_strava_refused(ingest):
    from uploads.services import upload_retry, upload_transition

    (upload,) = ingest(ACTIVITY_FIT)
    upload_transition(upload_id=upload.pk, to="failed", reason="boom", attempts=1)
    assert upload_retry(upload=upload) is True
    assert Upload.objects.get(pk=upload.pk).status == "queued"
