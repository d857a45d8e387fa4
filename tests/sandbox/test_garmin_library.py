"""The real garminconnect library against the Garmin simulator over real HTTP, routed by garmin/transport.py."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, timedelta

import pytest
import requests
from garminconnect import (
    Garmin,
    GarminConnectAuthenticationError,
    GarminConnectNotFoundError,
    GarminConnectTooManyRequestsError,
)

from activityfiles import read_activity
from garmin.transport import route_to
from sandbox.garmin import selectors, services
from sandbox.models import SimGarminAccount

from ..conftest import DATA_DIR

pytestmark = pytest.mark.django_db(transaction=True)

RIDE = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit"
RUN = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_runs_Move_2020_01_15_19_27_16_Running.fit"
SWIM = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_swims_AleV_Swim_2015-02-09-16-15.fit"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def garmin_url(sim_server: str) -> str:
    return sim_server.replace("/sandbox/strava", "/sandbox/garmin")


@pytest.fixture
def account() -> SimGarminAccount:
    return services.garmin_account_seed(email="alice@example.com", password=PASSWORD, files=[RIDE, RUN, SWIM])


def sign_in(garmin_url: str, email: str = "alice@example.com", password: str = PASSWORD) -> requests.Response:
    return requests.post(f"{garmin_url}/sso/signin", json={"email": email, "password": password}, timeout=10)


def library(garmin_url: str, tokens: dict[str, object]) -> Garmin:
    """The library as the app will hold it: tokens loaded, requests routed to the simulator, no retry sleeps."""
    client = Garmin(retry_attempts=0)
    route_to(client, garmin_url)
    client.client.loads(json.dumps(tokens))
    return client


@pytest.fixture
def garmin(garmin_url: str, account: SimGarminAccount) -> Garmin:
    answer = sign_in(garmin_url)
    assert answer.status_code == 200
    return library(garmin_url, answer.json())


def test_sign_in_answers_exactly_what_dumps_holds(garmin_url, account):
    tokens = sign_in(garmin_url).json()

    client = library(garmin_url, tokens)

    assert tokens["status"] == "ok"
    assert json.loads(client.client.dumps()) == {k: tokens[k] for k in ("di_token", "di_refresh_token", "di_client_id")}
    # The client id comes back out of the JWT, as the library reads it.
    assert client.client._extract_client_id_from_jwt(tokens["di_token"]) == tokens["di_client_id"]


def test_login_with_the_token_json_loads_the_profile(garmin_url, account):
    client = Garmin(retry_attempts=0)
    route_to(client, garmin_url)

    client.login(tokenstore=json.dumps(sign_in(garmin_url).json()))

    assert client.display_name == account.display_name
    assert client.unit_system == "metric"
    assert selectors.garmin_request_counts(status=200) == {"signin": 1, "socialProfile": 1, "user-settings": 1}


def test_the_list_is_built_from_the_files_newest_first(garmin):
    listed = garmin.get_activities(0, 10)

    assert [a["activityType"]["typeKey"] for a in listed] == ["running", "cycling", "lap_swimming"]
    summary = read_activity(RUN.read_bytes())
    assert summary is not None and summary.start_time is not None
    newest = listed[0]
    assert newest["startTimeGMT"] == summary.start_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert newest["distance"] == pytest.approx(summary.distance, abs=0.01)
    assert newest["elapsedDuration"] == pytest.approx(summary.elapsed_time)
    assert newest["manufacturer"] == "SUUNTO"
    assert listed[1]["manufacturer"] == "GARMIN" and listed[1]["deviceId"] == 3932089040
    assert garmin.get_activities(1, 1) == [listed[1]]


def test_the_original_download_is_a_zip_of_the_file_byte_for_byte(garmin):
    ride = next(a for a in garmin.get_activities(0, 10) if a["activityType"]["typeKey"] == "cycling")

    body = garmin.download_activity(ride["activityId"], dl_fmt=Garmin.ActivityDownloadFormat.ORIGINAL)

    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.namelist() == [f"{ride['activityId']}_ACTIVITY.fit"]
        assert archive.read(archive.namelist()[0]) == RIDE.read_bytes()


def test_a_missing_or_someone_elses_activity_is_not_found(garmin):
    bob = services.garmin_account_seed(email="bob@example.com", password=PASSWORD, files=[RIDE])
    bobs = bob.activities.get().activity_id

    for activity_id in (bobs, bobs + 1000):
        with pytest.raises(GarminConnectNotFoundError):
            garmin.download_activity(activity_id, dl_fmt=Garmin.ActivityDownloadFormat.ORIGINAL)


def test_by_date_pages_through_local_days_both_included(garmin, account):
    services.garmin_activities_spread(account=account, files=[RIDE, RUN], count=30, last_day=_day("2026-03-30"))

    march = garmin.get_activities_by_date("2026-03-05", "2026-03-28")

    assert len(march) == 24  # 20 per page: the library asked twice, then got an empty page
    assert march[0]["startTimeGMT"].startswith("2026-03-28") and march[-1]["startTimeGMT"].startswith("2026-03-05")
    assert selectors.garmin_request_counts()["activities"] == 3


def test_three_refreshes_in_a_row_each_rotate_the_refresh_token(garmin_url, garmin, settings):
    # Shorter than the library's 15-minute margin: it refreshes before every call.
    settings.SANDBOX_GARMIN_ACCESS_LIFETIME = 60
    garmin = library(garmin_url, sign_in(garmin_url).json())
    seen = [json.loads(garmin.client.dumps())["di_refresh_token"]]

    for _ in range(3):
        assert len(garmin.get_activities(0, 5)) == 3
        seen.append(json.loads(garmin.client.dumps())["di_refresh_token"])

    assert len(set(seen)) == 4
    assert selectors.garmin_request_counts(status=200)["token"] == 3
    # A spent refresh token is refused as Garmin refuses it; the last one still works.
    for spent in seen[:3]:
        answer = _refresh(garmin_url, spent)
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"
    assert _refresh(garmin_url, seen[3]).status_code == 200


def test_an_access_token_expired_on_the_server_is_refreshed_after_the_401(garmin_url, garmin, account):
    before = json.loads(garmin.client.dumps())
    services.garmin_access_expire(account=account)

    assert len(garmin.get_activities(0, 5)) == 3

    after = json.loads(garmin.client.dumps())
    assert after["di_refresh_token"] != before["di_refresh_token"]
    assert selectors.garmin_request_counts() == {"signin": 1, "activities": 2, "token": 1}


def test_a_revoked_session_is_an_authentication_error(garmin_url, garmin, account):
    services.garmin_sessions_revoke(account=account)

    with pytest.raises(GarminConnectAuthenticationError):
        garmin.get_activities(0, 5)

    refused = selectors.garmin_request_counts(account=account, status=400)
    assert refused == {"token": 1}  # the library tried its refresh token once: invalid_grant
    # Signing in again is a new session.
    assert len(library(garmin_url, sign_in(garmin_url).json()).get_activities(0, 5)) == 3


def test_an_injected_429_is_too_many_requests_then_the_account_resumes(garmin, account):
    services.garmin_faults_set(account=account, throttle_next=1)

    with pytest.raises(GarminConnectTooManyRequestsError):
        garmin.get_activities(0, 5)
    assert len(garmin.get_activities(0, 5)) == 3

    services.garmin_faults_set(account=account, throttled=True)
    for _ in range(2):
        with pytest.raises(GarminConnectTooManyRequestsError):
            garmin.download_activity(account.activities.first().activity_id, dl_fmt=Garmin.ActivityDownloadFormat.ORIGINAL)
    assert selectors.garmin_request_counts(status=429) == {"activities": 1, "download": 2}


def test_mfa_sign_in_takes_the_emailed_code_and_refuses_a_wrong_one(garmin_url):
    services.garmin_account_seed(email="carol@example.com", password=PASSWORD, mfa=True, files=[RUN])

    first = sign_in(garmin_url, "carol@example.com").json()
    assert first["status"] == "needs_mfa"
    state = json.loads(json.dumps(first["client_state"]))  # JSON-serialisable, as the app will keep it
    wrong = requests.post(f"{garmin_url}/sso/mfa", json={"client_state": state, "code": "000000"}, timeout=10)
    right = requests.post(f"{garmin_url}/sso/mfa", json={"client_state": state, "code": "123456"}, timeout=10)
    again = requests.post(f"{garmin_url}/sso/mfa", json={"client_state": state, "code": "123456"}, timeout=10)

    assert wrong.status_code == 401 and wrong.json()["responseStatus"]["type"] == "INVALID_MFA_CODE"
    assert right.status_code == 200 and right.json()["status"] == "ok"
    assert again.status_code == 401  # a finished sign-in cannot be finished twice
    assert [a["activityType"]["typeKey"] for a in library(garmin_url, right.json()).get_activities(0, 5)] == ["running"]


def test_a_wrong_password_is_refused_like_an_unknown_email(garmin_url, account):
    wrong = sign_in(garmin_url, password="nope")
    unknown = sign_in(garmin_url, email="nobody@example.com")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["responseStatus"]["type"] == "INVALID_USERNAME_PASSWORD"
    assert "nope" not in wrong.text


def test_an_activity_from_strava_is_listed_with_strava_as_manufacturer(garmin, account):
    services.garmin_activity_add(account=account, data=RUN.read_bytes(), file_name=RUN.name,
                                 shift=timedelta(days=2000), from_strava=True)

    newest = garmin.get_activities(0, 1)[0]

    assert newest["manufacturer"] == "STRAVA"
    body = garmin.download_activity(newest["activityId"], dl_fmt=Garmin.ActivityDownloadFormat.ORIGINAL)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        fit = archive.read(archive.namelist()[0])
    summary = read_activity(fit)
    assert summary is not None and summary.start_time is not None
    assert summary.start_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") == newest["startTimeGMT"]


def test_requests_one_after_another_never_overlap(garmin, account):
    for activity in garmin.get_activities(0, 10):
        garmin.download_activity(activity["activityId"], dl_fmt=Garmin.ActivityDownloadFormat.ORIGINAL)

    assert selectors.garmin_request_counts(account=account) == {"signin": 1, "activities": 1, "download": 3}
    assert selectors.garmin_max_concurrency() == 1


def _refresh(garmin_url: str, refresh_token: str) -> requests.Response:
    import base64

    client_id = services.DI_CLIENT_ID
    return requests.post(
        f"{garmin_url}/diauth/di-oauth2-service/oauth/token",
        data={"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token},
        headers={"Authorization": "Basic " + base64.b64encode(f"{client_id}:".encode()).decode()},
        timeout=10,
    )


def _day(text: str):
    from datetime import date

    return date.fromisoformat(text)
