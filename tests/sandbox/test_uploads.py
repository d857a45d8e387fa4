from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from activityfiles import classify_bytes
from sandbox import services, webhooks
from sandbox.models import SimActivity, SimPushSubscription, SimUpload
from sandbox.services import uploads as upload_services
from tests.conftest import DATA_DIR

from .conftest import API, Verdict, bearer, grant

pytestmark = pytest.mark.django_db

PROCESSING = "Your activity is still being processed."
READY = "Your activity is ready."
ERROR = "There was an error processing your activity."
DELETED = "The created activity has been deleted."
MORNING = datetime(2024, 5, 1, 6, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_alice(alice):
    alice.timezone = "UTC"
    alice.save()


def upload(api, content: bytes = b"ride-1", filename: str = "ride.fit", data_type: str = "fit", **form):
    return api.post("/uploads", {"file": SimpleUploadedFile(filename, content), "data_type": data_type, **form})


def due_now() -> None:
    SimUpload.objects.update(process_after=timezone.now() - timedelta(seconds=1))


def test_an_upload_is_accepted_as_processing_with_strava_s_fields(api, classifier, settings):
    settings.SANDBOX_UPLOAD_DELAY = 60
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING, sport="cycling")

    response = upload(api, external_id="stravasync-42")
    body = response.json()

    assert response.status_code == 201
    assert body == {
        "id": body["id"],
        "id_str": str(body["id"]),
        "external_id": "stravasync-42",
        "error": None,
        "status": PROCESSING,
        "activity_id": None,
    }
    assert api.get(f"/uploads/{body['id']}").json()["status"] == PROCESSING


def test_after_the_delay_the_upload_is_ready_with_its_activity(api, classifier, settings):
    settings.SANDBOX_UPLOAD_DELAY = 60
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING, sport="cycling")
    upload_id = upload(api, filename="ride.fit", external_id="stravasync-42").json()["id"]
    due_now()

    body = api.get(f"/uploads/{upload_id}").json()
    activity = api.get(f"/activities/{body['activity_id']}").json()

    assert body["status"] == READY and body["error"] is None
    assert activity["start_date"] == "2024-05-01T06:12:00Z"
    assert activity["name"] == "Morning Ride"
    assert activity["type"] == "Ride"
    assert activity["upload_id"] == upload_id and activity["upload_id_str"] == str(upload_id)
    assert activity["external_id"] == "stravasync-42"
    # The stand-in file names no distance or duration: the simulator makes none up.
    assert (activity["distance"], activity["moving_time"], activity["map"]["summary_polyline"]) == (0.0, 0, "")


def test_the_upload_s_name_description_and_sport_carry_over(api, classifier):
    classifier[b"run"] = Verdict(status="eligible", start_time=MORNING, sport="running")
    upload_id = upload(api, b"run", filename="run.fit", name="Parkrun", description="PB!").json()["id"]

    activity_id = api.get(f"/uploads/{upload_id}").json()["activity_id"]
    activity = SimActivity.objects.get(pk=activity_id)

    assert (activity.name, activity.description, activity.type) == ("Parkrun", "PB!", "Run")
    assert activity.external_id == "run.fit"


def test_listing_activities_processes_due_uploads_lazily(api, classifier):
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING)
    upload(api)
    assert SimUpload.objects.get().state == "processing"

    listed = api.get("/athlete/activities").json()

    assert [a["start_date"] for a in listed] == ["2024-05-01T06:12:00Z"]
    assert SimUpload.objects.get().state == "ready"


def test_the_same_bytes_again_are_a_duplicate_in_the_post_answer(api, classifier):
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING)
    first = upload(api).json()
    activity_id = api.get(f"/uploads/{first['id']}").json()["activity_id"]

    again = upload(api, filename="copy.fit")

    assert again.status_code == 201
    assert again.json()["status"] == ERROR
    assert again.json()["error"] == f"copy.fit duplicate of activity {activity_id}"
    assert again.json()["activity_id"] is None


def test_a_different_file_with_the_same_start_time_is_a_duplicate_when_processed(api, classifier):
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING)
    classifier[b"ride-1-reexported"] = Verdict(status="eligible", start_time=MORNING + timedelta(microseconds=300))
    first = upload(api).json()
    activity_id = api.get(f"/uploads/{first['id']}").json()["activity_id"]

    second = upload(api, b"ride-1-reexported", filename="ride (1).fit").json()
    assert second["status"] == PROCESSING
    body = api.get(f"/uploads/{second['id']}").json()

    assert body["status"] == ERROR
    assert body["error"] == f"ride (1).fit duplicate of activity {activity_id}"


@pytest.mark.parametrize(
    ("content", "verdict", "data_type", "error"),
    [
        (b"", None, "fit", "The file is empty."),
        (b"garbage", Verdict(status="failed", reason="no header"), "fit", "Improperly formatted data."),
        (b"monitoring", Verdict(status="junk", reason="monitoring_b"), "fit", "Improperly formatted data."),
        (b"no-time", Verdict(status="eligible", start_time=None), "fit", "Time information is missing from file."),
        (b"not gzip at all", None, "fit.gz", "Improperly formatted data."),
    ],
)
def test_unusable_files_end_in_strava_s_errors(api, classifier, content, verdict, data_type, error):
    if verdict:
        classifier[content] = verdict

    upload_id = upload(api, content, data_type=data_type).json()["id"]
    body = api.get(f"/uploads/{upload_id}").json()

    assert (body["status"], body["error"], body["activity_id"]) == (ERROR, error, None)


def test_gzipped_files_are_read_after_gunzipping(api, classifier):
    classifier[b"<gpx>...</gpx>"] = Verdict(status="eligible", start_time=MORNING, data_type="gpx")

    upload_id = upload(api, gzip.compress(b"<gpx>...</gpx>"), filename="walk.gpx.gz", data_type="gpx.gz").json()["id"]

    assert api.get(f"/uploads/{upload_id}").json()["status"] == READY


def test_fail_uploads_makes_every_processed_upload_fail(api, classifier):
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING)
    services.sim_config_update(fail_uploads=True)

    upload_id = upload(api).json()["id"]
    body = api.get(f"/uploads/{upload_id}").json()

    assert (body["status"], body["error"]) == (ERROR, "Improperly formatted data.")


def test_a_file_the_readers_cannot_read_is_improperly_formatted(api):
    upload_id = upload(api, b"ride-1").json()["id"]

    assert classify_bytes(b"ride-1").status == "failed"
    assert api.get(f"/uploads/{upload_id}").json()["error"] == "Improperly formatted data."


def test_a_reader_that_raises_fails_the_upload_instead_of_wedging_the_simulator(api, monkeypatch):
    def broken(data: bytes) -> None:
        raise IndexError("a bound check the reader missed")

    monkeypatch.setattr(upload_services, "classify_bytes", broken)
    upload_id = upload(api).json()["id"]

    assert api.get(f"/uploads/{upload_id}").json()["error"] == "Improperly formatted data."


def test_an_unknown_data_type_or_a_missing_file_is_a_bad_request(api):
    wrong_type = upload(api, data_type="zip")
    no_file = api.post("/uploads", {"data_type": "fit"})

    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"] == [{"resource": "Upload", "field": "data_type", "code": "invalid"}]
    assert no_file.status_code == 400


def test_an_upload_whose_activity_was_deleted_says_so(api, classifier):
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING)
    upload_id = upload(api).json()["id"]
    activity_id = api.get(f"/uploads/{upload_id}").json()["activity_id"]

    services.sim_activity_delete(activity_id=activity_id)

    assert api.get(f"/uploads/{upload_id}").json()["status"] == DELETED


def test_another_athlete_s_upload_is_not_found(client, api, bob, classifier):
    upload_id = upload(api).json()["id"]

    assert client.get(f"{API}/uploads/{upload_id}", **bearer(grant(bob))).status_code == 404


@responses.activate
def test_a_created_activity_is_announced_to_the_subscription(api, classifier, django_capture_on_commit_callbacks):
    SimPushSubscription.objects.create(client_id="sandbox", callback_url="http://app.test/hook", verify_token="t")
    hook = responses.post("http://app.test/hook", json={})
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING)
    upload_id = upload(api).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        activity_id = api.get(f"/uploads/{upload_id}").json()["activity_id"]
    webhooks.deliveries_wait()

    event = json.loads(hook.calls[0].request.body)
    assert {k: event[k] for k in ("aspect_type", "object_type", "object_id", "owner_id")} == {
        "aspect_type": "create",
        "object_type": "activity",
        "object_id": activity_id,
        "owner_id": api.token.athlete_id,
    }
    assert event["subscription_id"] == SimPushSubscription.objects.get().pk


def test_a_real_fit_file_becomes_an_activity_at_its_recorded_start(api):
    path = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit"
    verdict = classify_bytes(path.read_bytes())

    upload_id = upload(api, path.read_bytes(), filename=path.name).json()["id"]
    body = api.get(f"/uploads/{upload_id}").json()

    assert body["status"] == READY, body["error"]
    activity = SimActivity.objects.get(pk=body["activity_id"])
    assert activity.start_date == verdict.start_time.replace(microsecond=0)


def test_a_real_gzipped_gpx_run_becomes_a_run(api):
    path = DATA_DIR / "jimmykane_sports-lib__samples_gpx_garmin.gpx"

    upload_id = upload(api, gzip.compress(path.read_bytes()), filename="run.gpx.gz", data_type="gpx.gz").json()["id"]
    activity = SimActivity.objects.get(pk=api.get(f"/uploads/{upload_id}").json()["activity_id"])

    assert activity.type == "Run"
    assert activity.start_date == datetime(2018, 4, 23, 15, 54, 34, tzinfo=UTC)
