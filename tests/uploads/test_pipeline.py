"""Dispatch, post and confirm against mocked Strava answers: every outcome settles, nothing is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from stravasync.strava.models import QuotaState
from tests.uploads.conftest import ACTIVITY_FIT, GPX, OTHER_ACTIVITY_FIT
from tests.uploads.conftest import MOCKED_API as API
from uploads import services
from uploads.models import Upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mocked_strava")]

PROCESSING = "Your activity is still being processed."


def posted(upload_id: int, status: str = PROCESSING, error: str | None = None, activity_id: int | None = None) -> dict:
    return {"id": upload_id, "id_str": str(upload_id), "external_id": "x", "status": status, "error": error,
            "activity_id": activity_id}


def age(*uploads: Upload) -> None:
    Upload.objects.filter(pk__in=[u.pk for u in uploads]).update(posted_at=timezone.now() - timedelta(seconds=60))


@responses.activate
def test_a_posted_file_carries_its_data_type_and_stable_external_id(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    responses.post(f"{API}/uploads", json=posted(11), status=201)
    assert services.uploads_dispatch(inline=True) == 1
    upload.refresh_from_db()
    assert upload.status == "processing" and upload.strava_upload_id == 11
    body = responses.calls[0].request.body
    assert f"stravasync-{upload.pk}".encode() in body and b'name="data_type"\r\n\r\nfit' in body
    assert upload.api_calls == 1 and upload.batch.__class__.objects.get(pk=upload.batch_id).api_calls == 1


@responses.activate
def test_a_duplicate_answer_in_the_post_settles_the_upload(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    responses.post(f"{API}/uploads", status=201, json=posted(
        12, "There was an error processing your activity.", error="a.fit duplicate of activity 777"))
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert upload.status == "duplicate" and upload.duplicate_of_activity == 777


@responses.activate
def test_a_bad_request_fails_the_file_with_stravas_message(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    responses.post(f"{API}/uploads", status=400, json={"message": "Bad Request", "errors": [
        {"resource": "Upload", "field": "file", "code": "invalid"}]})
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert upload.status == "failed" and "Bad Request" in upload.reason


@responses.activate
def test_a_429_gives_the_file_back_to_the_queue_until_the_window_resets(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    responses.post(f"{API}/uploads", status=429, json={"message": "Rate Limit Exceeded"})
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert upload.status == "queued"
    assert upload.next_attempt_at == QuotaState.objects.get().closed_until
    assert services.uploads_dispatch(inline=True) == 0  # nobody calls before the reset
    assert len(responses.calls) == 1


@responses.activate
def test_server_errors_are_retried_later_then_failed(ingest, settings):
    settings.STRAVA_MAX_RETRIES = 0
    settings.UPLOADS_MAX_ATTEMPTS = 2
    (upload,) = ingest(ACTIVITY_FIT)
    responses.post(f"{API}/uploads", status=503, json={"message": "Service Unavailable"})
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert upload.status == "queued" and upload.next_attempt_at > timezone.now()
    Upload.objects.filter(pk=upload.pk).update(next_attempt_at=None)
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert upload.status == "failed" and "Service Unavailable" in upload.reason


@responses.activate
def test_the_dispatcher_hands_out_no_more_than_the_quota_grants(ingest, settings, batch):
    settings.QUOTA_LIMIT_SHORT = 2
    settings.QUOTA_RESERVE_SHORT = [0, 0, 0, 0, 0, 0]
    ingest(ACTIVITY_FIT)
    ingest(OTHER_ACTIVITY_FIT)
    ingest(GPX)
    responses.post(f"{API}/uploads", json=posted(1), status=201)
    assert services.uploads_dispatch(inline=True) == 2
    assert Upload.objects.filter(status="queued").count() == 1


@responses.activate
def test_one_activity_list_call_settles_many_uploads(ingest):
    uploads = [ingest(p)[0] for p in (ACTIVITY_FIT, OTHER_ACTIVITY_FIT, GPX)]
    for n, upload in enumerate(uploads):
        Upload.objects.filter(pk=upload.pk).update(status="processing", strava_upload_id=100 + n)
    age(*uploads)
    responses.get(f"{API}/athlete/activities", json=[
        {"id": 900, "upload_id": 100, "external_id": "whatever"},
        {"id": 901, "upload_id": 555, "external_id": f"stravasync-{uploads[1].pk}"},
        {"id": 902, "upload_id": 102, "external_id": None},
    ])
    assert services.uploads_confirm() == 1
    assert sorted(Upload.objects.values_list("activity_id", flat=True)) == [900, 901, 902]
    assert set(Upload.objects.values_list("status", flat=True)) == {"done"}


@responses.activate
def test_uploads_missing_from_the_list_are_asked_about_by_id(ingest):
    uploads = [ingest(p)[0] for p in (ACTIVITY_FIT, OTHER_ACTIVITY_FIT)]
    for n, upload in enumerate(uploads):
        Upload.objects.filter(pk=upload.pk).update(status="processing", strava_upload_id=200 + n)
    age(*uploads)
    responses.get(f"{API}/athlete/activities", json=[{"id": 990, "upload_id": 200}])
    responses.get(f"{API}/uploads/201", json=posted(
        201, "There was an error processing your activity.",
        error="b.fit duplicate of <a href='/activities/4242' target='_blank'>activity 4242</a>"))
    assert services.uploads_confirm() == 2
    second = Upload.objects.get(pk=uploads[1].pk)
    assert second.status == "duplicate" and second.duplicate_of_activity == 4242


@responses.activate
def test_a_single_upload_is_confirmed_with_one_status_call(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    Upload.objects.filter(pk=upload.pk).update(status="processing", strava_upload_id=300)
    age(upload)
    responses.get(f"{API}/uploads/300", json=posted(300, "Your activity is ready.", activity_id=3000))
    assert services.uploads_confirm() == 1
    upload.refresh_from_db()
    assert upload.status == "done" and upload.activity_id == 3000


@responses.activate
def test_confirmation_waits_while_the_athletes_files_are_still_being_posted(ingest, settings):
    settings.UPLOADS_CONFIRM_MAX_WAIT = 600
    first, second = ingest(ACTIVITY_FIT)[0], ingest(OTHER_ACTIVITY_FIT)[0]
    Upload.objects.filter(pk=first.pk).update(status="processing", strava_upload_id=1)
    age(first)
    assert second.status == "queued"
    assert services.uploads_confirm() == 0
    assert len(responses.calls) == 0


@responses.activate
def test_confirmation_waits_for_files_posted_too_recently_to_be_due(ingest, settings):
    """The last posts of a burst: settling the rest now would cost them a list call of their own."""
    settings.UPLOADS_CONFIRM_MAX_WAIT = 600
    settings.UPLOADS_CONFIRM_DELAY = 2
    first, second = ingest(ACTIVITY_FIT)[0], ingest(OTHER_ACTIVITY_FIT)[0]
    now = timezone.now()
    Upload.objects.filter(pk=first.pk).update(status="processing", strava_upload_id=1, posted_at=now - timedelta(seconds=60))
    Upload.objects.filter(pk=second.pk).update(status="processing", strava_upload_id=2, posted_at=now)
    assert services.uploads_confirm(now=now) == 0
    assert len(responses.calls) == 0


def test_a_claim_whose_worker_died_is_queued_again(ingest, settings):
    (upload,) = ingest(ACTIVITY_FIT)
    Upload.objects.filter(pk=upload.pk).update(status="uploading",
                                               claimed_at=timezone.now() - timedelta(seconds=3600))
    assert services.uploads_requeue_stale() == 1
    assert Upload.objects.get(pk=upload.pk).status == "queued"


@responses.activate
def test_a_task_for_an_upload_no_longer_claimed_does_nothing_and_returns_its_permit(ingest):
    from dataclasses import asdict

    from stravasync.strava import quota

    (upload,) = ingest(ACTIVITY_FIT)
    grant = quota.acquire(kind="write", priority=quota.Priority.UPLOAD)
    services.upload_post(upload_id=upload.pk, grant=asdict(grant))
    assert len(responses.calls) == 0
    assert QuotaState.objects.get().used_short == 0


@responses.activate
def test_athletes_share_the_permits_in_turn(make_athlete, settings):
    from uploads.services import batch_create, upload_ingest

    settings.QUOTA_LIMIT_SHORT = 4
    settings.QUOTA_RESERVE_SHORT = [0, 0, 0, 0, 0, 0]
    responses.post(f"{API}/uploads", json=posted(1), status=201)
    heavy, light = make_athlete(strava_id=1), make_athlete(strava_id=2)
    for athlete, paths in ((heavy, [ACTIVITY_FIT, OTHER_ACTIVITY_FIT, GPX]), (light, [ACTIVITY_FIT, GPX])):
        batch = batch_create(athlete=athlete, source="web")
        for path in paths:
            with open(path, "rb") as fh:
                upload_ingest(batch=batch, name=path.name, stream=fh)
    services.uploads_dispatch(inline=True)
    posted_by = list(Upload.objects.filter(status="processing").values_list("athlete__strava_id", flat=True))
    assert sorted(posted_by) == [1, 1, 2, 2]


@responses.activate
def test_files_of_an_athlete_without_the_write_scope_wait_instead_of_failing(make_athlete):
    from uploads.services import batch_create, upload_ingest

    athlete = make_athlete(strava_id=77, scopes="read,activity:read_all")
    batch = batch_create(athlete=athlete, source="web")
    with open(ACTIVITY_FIT, "rb") as fh:
        (upload,) = upload_ingest(batch=batch, name="a.fit", stream=fh)
    assert services.uploads_dispatch(inline=True) == 0
    assert Upload.objects.get(pk=upload.pk).status == "queued"
    assert len(responses.calls) == 0
