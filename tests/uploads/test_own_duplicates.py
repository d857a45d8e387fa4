"""A file is never reported as a duplicate of the activity its own earlier POST created.

The client retries a POST that timed out; the lost POST may have landed, and Strava then calls
the retry (or the upload it answered) a duplicate of that very activity. Found by the soak test:
with 5 % timeouts, two of 1,000 files ended "duplicate" of their own activity.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from tests.uploads.conftest import ACTIVITY_FIT
from tests.uploads.conftest import MOCKED_API as API
from uploads import services
from uploads.models import Upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mocked_strava")]

ERROR = "There was an error processing your activity."


def answer(upload_id: int, *, error: str | None = None, activity_id: int | None = None) -> dict:
    status = ERROR if error else ("Your activity is ready." if activity_id else "Your activity is still being processed.")
    return {"id": upload_id, "external_id": "x", "status": status, "error": error, "activity_id": activity_id}


def listed(upload: Upload, activity_id: int, *, upload_id: int, external_id: str) -> dict:
    assert upload.start_time is not None
    return {"id": activity_id, "upload_id": upload_id, "external_id": external_id,
            "start_date": upload.start_time.strftime("%Y-%m-%dT%H:%M:%SZ"), "name": "ride", "type": "Ride"}


def confirm_later(upload: Upload) -> None:
    Upload.objects.filter(pk=upload.pk).update(posted_at=timezone.now() - timedelta(seconds=60))
    services.uploads_confirm()


@responses.activate
def test_a_retried_post_answered_duplicate_of_our_own_activity_settles_done(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    responses.post(f"{API}/uploads", body=requests.exceptions.ReadTimeout("the answer never came"))
    responses.post(f"{API}/uploads", status=201, json=answer(2, error="a.fit duplicate of activity 777"))
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert upload.attempts == 1 and upload.api_calls == 2  # one task, two POSTs
    assert upload.status == "processing" and upload.duplicate_of_activity == 777

    responses.get(f"{API}/athlete/activities", json=[listed(upload, 777, upload_id=1, external_id=upload.external_id)])
    confirm_later(upload)
    upload.refresh_from_db()
    assert (upload.status, upload.activity_id, upload.duplicate_of_activity) == ("done", 777, None)


@responses.activate
def test_a_status_answer_naming_our_own_activity_after_a_retried_post_settles_done(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    responses.post(f"{API}/uploads", body=requests.exceptions.ReadTimeout("the answer never came"))
    responses.post(f"{API}/uploads", status=201, json=answer(2))  # the retry is processing
    services.uploads_dispatch(inline=True)
    assert Upload.objects.get(pk=upload.pk).status == "processing"

    # Meanwhile the lost POST became activity 777; the retry's upload is then its duplicate.
    responses.get(f"{API}/uploads/2", json=answer(2, error="a.fit duplicate of activity 777"))
    confirm_later(upload)
    upload.refresh_from_db()
    assert upload.status == "processing" and upload.duplicate_of_activity == 777

    responses.get(f"{API}/athlete/activities", json=[listed(upload, 777, upload_id=1, external_id=upload.external_id)])
    confirm_later(upload)
    upload.refresh_from_db()
    assert (upload.status, upload.activity_id) == ("done", 777)


@responses.activate
def test_a_real_duplicate_after_a_retried_post_is_still_reported_as_one(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    responses.post(f"{API}/uploads", body=requests.exceptions.ReadTimeout("the answer never came"))
    responses.post(f"{API}/uploads", status=201, json=answer(2, error="a.fit duplicate of activity 555"))
    services.uploads_dispatch(inline=True)

    # Activity 555 was there before us (another device's recording of the same ride).
    responses.get(f"{API}/athlete/activities", json=[listed(upload, 555, upload_id=9, external_id="garmin_push_1")])
    confirm_later(upload)
    upload.refresh_from_db()
    assert (upload.status, upload.duplicate_of_activity) == ("duplicate", 555)


@responses.activate
def test_a_status_answer_naming_the_same_activity_again_after_a_listing_is_taken_as_it_is(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    Upload.objects.filter(pk=upload.pk).update(status="processing", strava_upload_id=2, attempts=1, api_calls=2,
                                               duplicate_of_activity=555, next_attempt_at=timezone.now())
    responses.get(f"{API}/uploads/2", json=answer(2, error="a.fit duplicate of activity 555"))
    confirm_later(upload)
    upload.refresh_from_db()
    assert (upload.status, upload.duplicate_of_activity) == ("duplicate", 555)


@responses.activate
def test_a_single_post_answered_duplicate_is_a_duplicate_at_once(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    responses.post(f"{API}/uploads", status=201, json=answer(2, error="a.fit duplicate of activity 555"))
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert (upload.status, upload.duplicate_of_activity, len(responses.calls)) == ("duplicate", 555, 1)


@responses.activate
def test_a_file_given_back_once_is_settled_by_the_list_when_its_retry_names_its_own_activity(ingest):
    (upload,) = ingest(ACTIVITY_FIT)
    # An earlier try was given back ("waiting for the Strava quota"): its "not before" has passed.
    Upload.objects.filter(pk=upload.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    responses.post(f"{API}/uploads", body=requests.exceptions.ReadTimeout("the answer never came"))
    responses.post(f"{API}/uploads", status=201, json=answer(2, error="a.fit duplicate of activity 777"))
    services.uploads_dispatch(inline=True)
    upload.refresh_from_db()
    assert (upload.status, upload.next_attempt_at) == ("processing", None)

    # The list call shows activity 777 with our external_id; no status call ends it as a "duplicate".
    responses.get(f"{API}/athlete/activities", json=[listed(upload, 777, upload_id=1, external_id=upload.external_id)])
    responses.get(f"{API}/uploads/2", json=answer(2, error="a.fit duplicate of activity 777"))
    confirm_later(upload)
    upload.refresh_from_db()
    assert (upload.status, upload.activity_id) == ("done", 777)


@responses.activate
def test_a_file_posted_after_a_give_back_is_confirmed_by_the_shared_list_call(ingest):
    from tests.uploads.conftest import OTHER_ACTIVITY_FIT

    uploads = [ingest(path)[0] for path in (ACTIVITY_FIT, OTHER_ACTIVITY_FIT)]
    Upload.objects.filter(pk=uploads[0].pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    responses.post(f"{API}/uploads", status=201, json=answer(1))
    responses.post(f"{API}/uploads", status=201, json=answer(2))
    services.uploads_dispatch(inline=True)
    for upload in uploads:
        upload.refresh_from_db()
    responses.get(f"{API}/athlete/activities", json=[listed(u, 900 + n, upload_id=n + 1, external_id=u.external_id)
                                                     for n, u in enumerate(uploads)])
    calls = len(responses.calls)
    confirm_later(uploads[0])
    assert set(Upload.objects.values_list("status", flat=True)) == {"done"}
    assert [c.request.url.split("?")[0] for c in responses.calls[calls:]] == [f"{API}/athlete/activities"]
