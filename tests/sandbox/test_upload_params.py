"""Upload fields as clients really send them: multipart over HTTP, the fields in the body or the query string."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from sandbox import services
from sandbox.models import SimActivity, SimUpload

from .conftest import Verdict, grant

pytestmark = pytest.mark.django_db(transaction=True)

MORNING = datetime(2024, 5, 1, 6, 12, tzinfo=UTC)


@pytest.fixture
def token():
    athlete = services.sim_athlete_create(firstname="Query", lastname="String", timezone="UTC")
    return grant(athlete)


def post_upload(sim_server: str, token, *, params: dict[str, str], data: dict[str, str] | None = None) -> requests.Response:
    return requests.post(
        f"{sim_server}/api/v3/uploads",
        params=params,
        data=data or {},
        files={"file": ("ride.fit", b"ride-1", "application/octet-stream")},
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=10,
    )


def test_stravalib_s_fields_in_the_query_string_of_a_multipart_post_are_accepted(sim_server, token, classifier):
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING, sport="cycling")
    params = {
        "data_type": "fit",
        "external_id": "stravasync-7",
        "name": "Query ride",
        "description": "sent like stravalib",
        "trainer": "true",
        "commute": "1",
        "activity_type": "ride",
    }

    response = post_upload(sim_server, token, params=params)
    upload_id = response.json()["id"]
    status = requests.get(
        f"{sim_server}/api/v3/uploads/{upload_id}", headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10
    ).json()

    assert response.status_code == 201, response.text
    assert response.json()["external_id"] == "stravasync-7"
    activity = SimActivity.objects.get(pk=status["activity_id"])
    assert (activity.name, activity.description, activity.external_id) == ("Query ride", "sent like stravalib", "stravasync-7")
    assert (activity.trainer, activity.commute, activity.type) == (True, True, "Ride")


def test_a_field_in_the_body_wins_over_the_same_field_in_the_query_string(sim_server, token, classifier):
    response = post_upload(
        sim_server,
        token,
        params={"data_type": "zip", "name": "from the query", "external_id": "query-1"},
        data={"data_type": "fit", "name": "from the body"},
    )

    assert response.status_code == 201, response.text
    upload = SimUpload.objects.get(pk=response.json()["id"])
    assert (upload.data_type, upload.name, upload.external_id) == ("fit", "from the body", "query-1")


def test_the_upload_s_activity_type_beats_the_file_s_sport(sim_server, token, classifier):
    classifier[b"ride-1"] = Verdict(status="eligible", start_time=MORNING, sport="cycling")

    upload_id = post_upload(sim_server, token, params={"data_type": "fit", "activity_type": "TrailRun"}).json()["id"]
    services.uploads_process_due(athlete_id=token.athlete_id)

    activity = SimActivity.objects.get(upload_id=upload_id)
    assert (activity.type, activity.sport_type) == ("Run", "TrailRun")


def test_a_missing_data_type_in_both_places_is_still_a_bad_request(sim_server, token):
    response = post_upload(sim_server, token, params={"name": "no type"})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"resource": "Upload", "field": "data_type", "code": "invalid"}]
