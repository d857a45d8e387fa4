"""Retry only where another try can end otherwise; "Upload anyway" for junk; the old verdict kept."""

from __future__ import annotations

import pytest

from tests.uploads.conftest import ACTIVITY_FIT, BROKEN, SETTINGS_FIT
from uploads import services
from uploads.models import Upload, UploadEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(ingest):
    """A file Strava refused, an unreadable one and a junk one."""
    (refused,) = ingest(ACTIVITY_FIT)
    services.upload_transition(upload_id=refused.pk, to="failed", attempts=1,
                               reason="Strava: There was an error processing your activity.")
    (unreadable,) = ingest(BROKEN / "empty.fit")
    (junk,) = ingest(SETTINGS_FIT)
    return refused, unreadable, junk


def fresh(upload: Upload) -> Upload:
    return Upload.objects.get(pk=upload.pk)


def test_a_file_strava_refused_is_retried_and_its_reason_stays_in_the_history(files):
    refused, _, _ = files
    assert fresh(refused).can_retry
    assert services.upload_retry(upload=refused) is True
    row = fresh(refused)
    assert row.status == "queued" and row.attempts == 0
    event = UploadEvent.objects.filter(upload=refused, to_status="queued").latest("id")
    assert "There was an error processing your activity." in event.reason
    assert UploadEvent.objects.filter(upload=refused, to_status="failed",
                                      reason__contains="There was an error processing").exists()


def test_a_file_that_failed_in_transit_can_be_retried(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    Upload.objects.filter(pk=upload.pk).update(status="failed", attempts=5, reason="ServerError after 5 attempts")
    assert services.upload_retry(upload=upload) is True


def test_an_unreadable_file_is_not_retried_and_keeps_its_reason(files):
    _, unreadable, _ = files
    before = fresh(unreadable)
    assert before.status == "failed" and not before.can_retry
    assert services.upload_retry(upload=unreadable) is False
    assert fresh(unreadable).reason == before.reason


def test_junk_is_not_retried_but_can_be_uploaded_anyway_with_its_verdict_kept(files):
    _, _, junk = files
    verdict = fresh(junk).reason
    assert services.upload_retry(upload=junk) is False
    assert fresh(junk).can_upload_anyway
    assert services.upload_anyway(upload=junk) is True
    assert fresh(junk).status == "queued"
    assert verdict and verdict in UploadEvent.objects.filter(upload=junk, to_status="queued").latest("id").reason


def test_retry_all_failed_takes_only_files_that_reached_strava(files):
    refused, unreadable, junk = files
    assert services.uploads_retry_failed(athlete=refused.athlete) == 1
    assert [fresh(u).status for u in (refused, unreadable, junk)] == ["queued", "failed", "junk"]


def test_the_history_page_offers_retry_upload_anyway_or_nothing(client, files):
    refused, unreadable, junk = files
    client.force_login(refused.athlete.user)
    page = client.get("/uploads/").content.decode()
    assert f"/uploads/files/{refused.pk}/retry/" in page
    assert f"/uploads/files/{junk.pk}/upload-anyway/" in page and f"/uploads/files/{junk.pk}/retry/" not in page
    assert f"/uploads/files/{unreadable.pk}/retry/" not in page
    assert f"/uploads/files/{unreadable.pk}/upload-anyway/" not in page


def test_the_views_and_admin_refuse_a_retry_that_could_not_change_the_outcome(client, admin_client, files):
    refused, unreadable, junk = files
    client.force_login(refused.athlete.user)
    client.post(f"/uploads/files/{unreadable.pk}/retry/")
    client.post(f"/uploads/files/{junk.pk}/retry/")
    assert (fresh(unreadable).status, fresh(junk).status) == ("failed", "junk")
    admin_client.post("/admin/uploads/upload/", {"action": "retry", "_selected_action": [unreadable.pk, junk.pk]})
    assert (fresh(unreadable).status, fresh(junk).status) == ("failed", "junk")
    admin_client.post("/admin/uploads/upload/", {"action": "upload_anyway", "_selected_action": [junk.pk]})
    assert fresh(junk).status == "queued"
    client.post(f"/uploads/files/{unreadable.pk}/upload-anyway/")
    assert fresh(unreadable).status == "failed"


def test_the_batch_page_offers_the_same_choices(files):
    from uploads.selectors import batch_status

    refused, unreadable, junk = files
    offers = {f["id"]: (f["retry"], f["upload_anyway"]) for f in batch_status(batch=refused.batch)["files"]}
    assert offers[refused.pk] == (True, False)
    assert offers[junk.pk] == (False, True)
    assert offers[unreadable.pk] == (False, False)
