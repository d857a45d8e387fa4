"""The Strava client against mocked HTTP: every error path, headers, retries taking permits."""

from __future__ import annotations

import io

import pytest
import requests
import responses

from stravasync.strava import quota
from stravasync.strava.client import StravaClient, duplicate_of
from stravasync.strava.errors import (
    BadRequest,
    Forbidden,
    NetworkError,
    NotFound,
    RateLimited,
    ServerError,
    SubscriptionInactive,
    Unauthorized,
)
from stravasync.strava.models import QuotaState

pytestmark = pytest.mark.django_db

API = "https://strava.test/api/v3"
HEADERS = {
    "X-RateLimit-Limit": "200,2000",
    "X-RateLimit-Usage": "1,1",
    "X-ReadRateLimit-Limit": "100,1000",
    "X-ReadRateLimit-Usage": "1,1",
}


@pytest.fixture(autouse=True)
def _api(settings):
    settings.STRAVA_API_URL = API
    settings.STRAVA_OAUTH_URL = "https://strava.test/oauth"
    settings.STRAVA_MAX_RETRIES = 2


@pytest.fixture
def client():
    return StravaClient(access_token="tok-123")


def used() -> int:
    return QuotaState.objects.get().used_short


@responses.activate
def test_the_token_travels_only_in_the_authorization_header(client):
    responses.get(f"{API}/athlete", json={"id": 7}, headers=HEADERS)
    assert client.get_athlete() == {"id": 7}
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer tok-123"
    assert "tok-123" not in sent.url


@responses.activate
def test_list_activities_sends_the_window_and_page_size(client):
    responses.get(f"{API}/athlete/activities", json=[], headers=HEADERS)
    client.list_activities(after=100, before=200, page=2, per_page=200)
    url = responses.calls[0].request.url
    assert "after=100" in url and "before=200" in url and "page=2" in url and "per_page=200" in url


@responses.activate
def test_get_activity_asks_for_all_efforts(client):
    responses.get(f"{API}/activities/5", json={"id": 5}, headers=HEADERS)
    client.get_activity(5)
    assert "include_all_efforts=true" in responses.calls[0].request.url


@responses.activate
def test_upload_posts_multipart_with_external_id_as_a_write(client):
    responses.post(f"{API}/uploads", json={"id": 9, "status": "Your activity is still being processed."}, status=201,
                   headers={**HEADERS, "X-ReadRateLimit-Usage": "0,0"})
    result = client.upload(stream=io.BytesIO(b"FITDATA"), filename="a.fit", data_type="fit", external_id="ss-1")
    assert result["id"] == 9
    body = responses.calls[0].request.body
    assert b"ss-1" in body and b"FITDATA" in body
    state = QuotaState.objects.get()
    assert state.used_short == 1 and state.read_used_short == 0


@responses.activate
def test_headers_after_each_call_update_the_shared_quota(client):
    responses.get(f"{API}/athlete", json={}, headers={**HEADERS, "X-RateLimit-Usage": "42,420",
                                                      "X-ReadRateLimit-Usage": "40,400"})
    client.get_athlete()
    state = QuotaState.objects.get()
    assert (state.used_short, state.used_daily, state.read_used_short, state.read_used_daily) == (42, 420, 40, 400)


@responses.activate
def test_429_raises_rate_limited_and_closes_the_window(client):
    responses.get(f"{API}/athlete", status=429, headers=HEADERS, json={
        "message": "Rate Limit Exceeded",
        "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}]})
    with pytest.raises(RateLimited) as caught:
        client.get_athlete()
    assert "Rate Limit Exceeded" in caught.value.message
    assert len(responses.calls) == 1  # a 429 is never retried at once
    state = QuotaState.objects.get()
    assert state.closed_until == caught.value.retry_at and state.rate_limited_total == 1
    with pytest.raises(RateLimited):
        client.get_athlete()
    assert len(responses.calls) == 1  # the closed window refuses without calling


@responses.activate
def test_401_with_a_missing_scope_names_it(client):
    responses.get(f"{API}/activities/1", status=401, headers=HEADERS, json={
        "message": "Authorization Error",
        "errors": [{"resource": "AccessToken", "field": "activity:read_permission", "code": "missing"}]})
    with pytest.raises(Unauthorized) as caught:
        client.get_activity(1)
    assert caught.value.missing_scope == "activity:read_permission"


@responses.activate
def test_404_raises_not_found(client):
    responses.get(f"{API}/segments/3", status=404, headers=HEADERS, json={
        "message": "Record Not Found", "errors": [{"resource": "Segment", "field": "id", "code": "invalid"}]})
    with pytest.raises(NotFound, match="Record Not Found"):
        client.get_segment(3)


@responses.activate
def test_other_4xx_are_bad_requests_and_not_retried(client):
    responses.post(f"{API}/uploads", status=400, headers=HEADERS, json={
        "message": "Bad Request", "errors": [{"resource": "Upload", "field": "data_type", "code": "invalid"}]})
    with pytest.raises(BadRequest) as caught:
        client.upload(stream=io.BytesIO(b"x"), filename="a.xyz", data_type="xyz", external_id="e")
    assert caught.value.names("Upload", "data_type")
    assert len(responses.calls) == 1


@responses.activate
def test_403_inactive_pauses_every_call(client):
    responses.get(f"{API}/athlete", status=403, headers=HEADERS, json={
        "message": "Forbidden", "errors": [{"resource": "Application", "field": "subscription", "code": "Inactive"}]})
    with pytest.raises(SubscriptionInactive):
        client.get_athlete()
    assert quota.subscription_inactive_message()
    with pytest.raises(SubscriptionInactive):
        client.get_athlete()
    assert len(responses.calls) == 1


@responses.activate
def test_another_403_is_forbidden_not_inactive(client):
    responses.get(f"{API}/athlete", status=403, headers=HEADERS, json={"message": "Forbidden", "errors": []})
    with pytest.raises(Forbidden):
        client.get_athlete()
    assert quota.subscription_inactive_message() is None


@responses.activate
def test_5xx_is_retried_and_each_retry_takes_its_own_permit(client):
    responses.get(f"{API}/athlete", status=503, headers=HEADERS, json={"message": "Service Unavailable"})
    responses.get(f"{API}/athlete", status=502, headers=HEADERS, json={"message": "Bad Gateway"})
    responses.get(f"{API}/athlete", json={"id": 1}, headers=HEADERS)
    assert client.get_athlete() == {"id": 1}
    assert len(responses.calls) == 3
    assert used() == 3


@responses.activate
def test_5xx_gives_up_after_the_bounded_retries(client):
    responses.get(f"{API}/athlete", status=500, headers=HEADERS, json={"message": "Internal Error"})
    with pytest.raises(ServerError):
        client.get_athlete()
    assert len(responses.calls) == 3  # 1 + STRAVA_MAX_RETRIES
    assert used() == 3


@responses.activate
def test_timeouts_and_connection_errors_are_retried_then_raised(client):
    responses.get(f"{API}/athlete", body=requests.ConnectTimeout("slow"))
    responses.get(f"{API}/athlete", body=requests.ConnectionError("reset"))
    responses.get(f"{API}/athlete", body=requests.ReadTimeout("slow"))
    with pytest.raises(NetworkError):
        client.get_athlete()
    assert len(responses.calls) == 3
    assert used() == 3


@responses.activate
def test_a_retry_without_a_permit_raises_rate_limited_instead_of_calling(client, settings):
    settings.QUOTA_LIMIT_SHORT = 1
    responses.get(f"{API}/athlete", status=500, headers={}, json={})
    with pytest.raises(RateLimited) as caught:
        client.get_athlete()
    assert len(responses.calls) == 1
    assert caught.value.retry_at is not None


@responses.activate
def test_a_dispatcher_permit_is_used_for_the_first_attempt(settings):
    grant = quota.acquire(kind=quota.Kind.READ)
    responses.get(f"{API}/athlete", json={}, headers=HEADERS)
    StravaClient(access_token="t", grant=grant).get_athlete()
    assert used() == 1


@responses.activate
def test_an_expired_token_is_refreshed_once_and_the_call_repeated():
    current = {"token": "old", "refreshes": 0}

    def provider(force: bool) -> str:
        if force:
            current["token"], current["refreshes"] = "new", current["refreshes"] + 1
        return current["token"]

    responses.get(f"{API}/athlete", status=401, headers=HEADERS, json={
        "message": "Authorization Error", "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}]})
    responses.get(f"{API}/athlete", json={"id": 2}, headers=HEADERS)
    assert StravaClient(token_provider=provider).get_athlete() == {"id": 2}
    assert current["refreshes"] == 1
    assert [c.request.headers["Authorization"] for c in responses.calls] == ["Bearer old", "Bearer new"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("ride.fit duplicate of activity 3888037200", 3888037200),
        ("ride.fit duplicate of <a href='/activities/3888037200' target='_blank'>activity 3888037200</a>", 3888037200),
        ("There was an error processing your activity.", None),
        (None, None),
    ],
)
def test_duplicate_errors_name_the_activity(error, expected):
    assert duplicate_of(error) == expected
