"""Query parameters and path ids out of range: always Strava's 400/404 JSON, never a server error."""

from __future__ import annotations

import random

import pytest

from sandbox import services

from .conftest import OAUTH

pytestmark = pytest.mark.django_db

HUGE = "9" * 24


def bad_request(field: str, code: str) -> dict[str, object]:
    return {"message": "Bad Request", "errors": [{"resource": "Application", "field": field, "code": code}]}


@pytest.mark.parametrize("field", ["after", "before"])
def test_an_epoch_in_milliseconds_is_a_bad_request_in_the_future(api, field):
    response = api.get("/athlete/activities", **{field: "1606086000000"})

    assert response.status_code == 400
    assert response.json() == bad_request(field, "future")


@pytest.mark.parametrize("value", ["yesterday", "1606086000.5", "1.6e9", "inf", "nan", "0x10", "²", HUGE * 2])
@pytest.mark.parametrize("field", ["after", "before", "page", "per_page"])
def test_a_value_that_is_not_a_whole_number_is_a_bad_request_invalid(api, field, value):
    response = api.get("/athlete/activities", **{field: value})

    assert response.status_code == 400
    assert response.json() == bad_request(field, "invalid")


def test_an_epoch_before_year_one_is_invalid_and_one_near_the_limits_is_answered(api):
    too_early = api.get("/athlete/activities", before="-99999999999999")
    early = api.get("/athlete/activities", after="-62135596800")
    late = api.get("/athlete/activities", before="253402300799")

    assert too_early.status_code == 400
    assert too_early.json() == bad_request("before", "invalid")
    assert (early.status_code, late.status_code) == (200, 200)


def test_pages_far_past_the_history_are_empty_and_per_page_stays_between_one_and_two_hundred(api, alice):
    services.sim_activities_seed(alice, 3, segments=[], rng=random.Random(6))

    assert api.get("/athlete/activities", page=HUGE).json() == []
    assert api.get("/athlete/activities", page="0").status_code == 200
    assert len(api.get("/athlete/activities", per_page=HUGE).json()) == 3
    assert len(api.get("/athlete/activities", per_page="-5").json()) == 1
    assert len(api.get("/athlete/activities", per_page="0").json()) == 3


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        (f"/activities/{HUGE}", "Activity"),
        (f"/activities/{HUGE}/streams?keys=time", "Activity"),
        (f"/uploads/{HUGE}", "Upload"),
        (f"/segments/{HUGE}", "Segment"),
    ],
)
def test_an_id_past_sixty_four_bits_is_record_not_found(api, path, resource):
    response = api.client.get(f"/sandbox/strava/api/v3{path}", **{"HTTP_AUTHORIZATION": f"Bearer {api.token.access_token}"})

    assert response.status_code == 404
    assert response.json()["errors"] == [{"resource": resource, "field": "id", "code": "invalid"}]


def test_a_consent_answer_naming_an_odd_athlete_is_a_bad_request(client):
    params = {"client_id": "sandbox", "redirect_uri": "http://app.test/cb", "response_type": "code", "requested_scope": "read"}

    for choice in ("²", HUGE, "-1"):
        response = client.post(f"{OAUTH}/authorize", {**params, "athlete": choice, "scope": ["read"]})
        assert response.status_code == 400, choice
