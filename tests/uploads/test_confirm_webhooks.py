"""With webhooks live the confirmer leaves fresh uploads to their `create` event, then falls back to its calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from tests.uploads.conftest import ACTIVITY_FIT
from tests.uploads.conftest import MOCKED_API as API
from uploads import services
from uploads.models import Upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mocked_strava")]

GRACE = 120


@pytest.fixture
def live_subscription(settings):
    from webhooks.models import WebhookSubscription

    settings.WEBHOOK_CONFIRM_GRACE_SECONDS = GRACE
    return WebhookSubscription.objects.create(strava_id=4242, callback_url="https://example.test/strava/webhook/")


def _processing(ingest, *, upload_id: int):
    (upload,) = ingest(ACTIVITY_FIT)
    posted_at = timezone.now()
    Upload.objects.filter(pk=upload.pk).update(status="processing", strava_upload_id=upload_id, posted_at=posted_at)
    return upload, posted_at


def _ready(upload_id: int, activity_id: int) -> dict:
    return {"id": upload_id, "id_str": str(upload_id), "external_id": "x", "status": "Your activity is ready.",
            "error": None, "activity_id": activity_id}


@responses.activate
def test_with_a_live_subscription_a_young_upload_costs_no_call_and_an_old_one_is_confirmed(ingest, live_subscription):
    upload, posted_at = _processing(ingest, upload_id=300)
    responses.get(f"{API}/uploads/300", json=_ready(300, 3000))

    assert services.uploads_confirm(now=posted_at + timedelta(seconds=GRACE - 1)) == 0
    assert len(responses.calls) == 0
    assert Upload.objects.get(pk=upload.pk).status == "processing"

    # No event came (missed, or Strava refused the file): after the grace the confirmer does its usual work.
    assert services.uploads_confirm(now=posted_at + timedelta(seconds=GRACE + 1)) == 1
    upload.refresh_from_db()
    assert (upload.status, upload.activity_id) == ("done", 3000)


@responses.activate
def test_without_a_subscription_the_confirmer_does_not_wait_for_events(ingest, settings):
    settings.WEBHOOK_CONFIRM_GRACE_SECONDS = GRACE
    upload, posted_at = _processing(ingest, upload_id=301)
    responses.get(f"{API}/uploads/301", json=_ready(301, 3001))
    assert services.uploads_confirm(now=posted_at + timedelta(seconds=1)) == 1
    assert Upload.objects.get(pk=upload.pk).status == "done"


@responses.activate
def test_the_create_event_settles_the_upload_within_the_grace_and_the_confirmer_spends_nothing(
    ingest, live_subscription, alice, django_capture_on_commit_callbacks
):
    from webhooks.models import WebhookEvent
    from webhooks.services import webhook_events_dispatch

    upload, posted_at = _processing(ingest, upload_id=302)
    WebhookEvent.objects.create(object_type="activity", object_id=3002, aspect_type="create",
                                owner_id=alice.strava_id, event_time=int(posted_at.timestamp()) + 2, athlete=alice)
    responses.get(f"{API}/activities/3002", json={
        "id": 3002, "upload_id": 302, "external_id": upload.external_id, "name": "Ride", "type": "Ride",
        "sport_type": "Ride", "start_date": "2019-02-17T06:26:44Z", "distance": 1000.0, "segment_efforts": [],
    })

    with django_capture_on_commit_callbacks(execute=True):  # the detail call's task, run inline
        webhook_events_dispatch()
    assert services.uploads_confirm(now=posted_at + timedelta(seconds=5)) == 0
    upload.refresh_from_db()
    assert (upload.status, upload.activity_id) == ("done", 3002)
    assert [call.request.url.split("?")[0] for call in responses.calls] == [f"{API}/activities/3002"]
    # After the grace there is nothing left for the confirmer either.
    assert services.uploads_confirm(now=posted_at + timedelta(seconds=GRACE + 1)) == 0
