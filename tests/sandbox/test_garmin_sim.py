"""The Garmin simulator's own rules, through Django's test client: tokens, refusals, faults, files, the log."""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import replace
from datetime import UTC, date, timedelta

import fitdecode
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils.timezone import now

from activityfiles import read_activity
from sandbox.garmin import fitfile, jwt, selectors, services
from sandbox.models import SimAthlete, SimGarminAccount, SimGarminMfaChallenge

from ..conftest import DATA_DIR

pytestmark = pytest.mark.django_db

MOUNT = "/sandbox/garmin"
LIST = f"{MOUNT}/connectapi/activitylist-service/activities/search/activities"
TOKEN = f"{MOUNT}/diauth/di-oauth2-service/oauth/token"
RIDE = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit"
RUN = DATA_DIR / "GoldenCheetah_GoldenCheetah__test_runs_Move_2020_01_15_19_27_16_Running.fit"
PALISADE = DATA_DIR / "andrewgy8_python_fit_tool__fit_tool_tests_data_palisade.fit"


@pytest.fixture
def account() -> SimGarminAccount:
    return services.garmin_account_seed(email="Alice@Example.com", password="pw", files=[RIDE, RUN])


def signed_in(client: Client, email: str = "alice@example.com", password: str = "pw") -> dict[str, str]:
    answer = client.post(f"{MOUNT}/sso/signin", {"email": email, "password": password}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens['di_token']}"}


def basic(client_id: str = services.DI_CLIENT_ID) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{client_id}:".encode()).decode()}


def test_the_access_token_is_a_jwt_with_the_claims_the_library_reads(client, account, settings):
    settings.SANDBOX_GARMIN_ACCESS_LIFETIME = 1800
    before = int(now().timestamp())

    payload = jwt.decode(signed_in(client)["di_token"])

    assert payload is not None
    assert payload["client_id"] == services.DI_CLIENT_ID
    assert before + 1800 - 1 <= payload["exp"] <= int(now().timestamp()) + 1800
    assert payload["garmin_guid"] == account.garmin_guid


def test_a_tampered_missing_or_unknown_bearer_is_refused_401(client, account):
    tokens = signed_in(client)
    head, body, signature = tokens["di_token"].split(".")
    forged = base64.urlsafe_b64encode(base64.urlsafe_b64decode(body + "==").replace(b'"exp":', b'"exp":9')).rstrip(b"=").decode()

    for headers in ({}, {"HTTP_AUTHORIZATION": f"Bearer {head}.{forged}.{signature}"}, {"HTTP_AUTHORIZATION": "Bearer x.y.z"}):
        answer = client.get(LIST, **headers)
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid_token", "error_description": "Token is not active"}
    assert client.get(LIST, **bearer(tokens)).status_code == 200


def test_the_token_endpoint_wants_its_client_and_a_refresh_grant(client, account):
    refresh = signed_in(client)["di_refresh_token"]
    form = {"grant_type": "refresh_token", "client_id": services.DI_CLIENT_ID, "refresh_token": refresh}

    no_basic = client.post(TOKEN, form)
    ios = "GARMIN_CONNECT_MOBILE_IOS_DI"
    other_client = client.post(TOKEN, {**form, "client_id": ios}, **basic(ios))
    ticket = client.post(TOKEN, {**form, "grant_type": "https://connectapi.garmin.com/di-oauth2-service/oauth/grant/service_ticket"},
                         **basic())
    good = client.post(TOKEN, form, **basic())

    assert no_basic.status_code == 401 and no_basic.json()["error"] == "invalid_client"
    assert other_client.status_code == 400 and other_client.json()["error"] == "invalid_grant"  # issued to another client
    assert ticket.status_code == 400 and ticket.json()["error"] == "unsupported_grant_type"
    assert good.status_code == 200
    assert set(good.json()) >= {"access_token", "refresh_token", "expires_in", "token_type", "scope"}
    assert good.json()["refresh_token"] != refresh


def test_an_old_access_token_works_until_it_expires_after_a_refresh(client, account):
    tokens = signed_in(client)
    client.post(TOKEN, {"grant_type": "refresh_token", "client_id": services.DI_CLIENT_ID,
                        "refresh_token": tokens["di_refresh_token"]}, **basic())

    assert client.get(LIST, **bearer(tokens)).status_code == 200
    services.garmin_access_expire(account=account)
    assert client.get(LIST, **bearer(tokens)).status_code == 401


def test_bad_list_parameters_are_400_not_a_server_error(client, account):
    tokens = signed_in(client)

    for query in ({"start": "-1"}, {"limit": "ten"}, {"startDate": "2026-13-01"}, {"endDate": "yesterday"}):
        assert client.get(LIST, query, **bearer(tokens)).status_code == 400
    assert client.get(LIST, {"limit": "5000"}, **bearer(tokens)).status_code == 200


def test_the_type_filter_takes_a_parent_type_and_its_children(client, account):
    services.garmin_activity_add(account=account, data=PALISADE.read_bytes(), file_name=PALISADE.name)
    tokens = signed_in(client)

    cycling = client.get(LIST, {"activityType": "cycling"}, **bearer(tokens)).json()
    oldest_first = client.get(LIST, {"sortOrder": "asc"}, **bearer(tokens)).json()

    assert sorted(a["activityType"]["typeKey"] for a in cycling) == ["cycling", "road_biking"]
    assert [a["startTimeGMT"][:4] for a in oldest_first] == ["2018", "2020", "2021"]


def test_local_times_follow_the_accounts_timezone(client, account):
    account.timezone = "Europe/Berlin"
    account.save()

    ride = client.get(LIST, {"activityType": "cycling"}, **bearer(signed_in(client))).json()[0]

    assert (ride["startTimeGMT"], ride["startTimeLocal"]) == ("2018-10-03 13:36:06", "2018-10-03 15:36:06")


def test_throttling_one_account_leaves_another_alone(client, account):
    bob = services.garmin_account_seed(email="bob@example.com", password="pw", files=[RUN])
    services.garmin_faults_set(account=account, throttled=True)

    assert client.get(LIST, **bearer(signed_in(client))).status_code == 429
    assert client.get(LIST, **bearer(signed_in(client, "bob@example.com"))).status_code == 200
    assert selectors.garmin_request_counts(account=bob) == {"signin": 1, "activities": 1}


def test_a_pending_mfa_sign_in_expires_and_allows_five_attempts(client):
    services.garmin_account_seed(email="carol@example.com", password="pw", mfa=True, files=[RUN])
    state = client.post(f"{MOUNT}/sso/signin", {"email": "carol@example.com", "password": "pw"},
                        content_type="application/json").json()["client_state"]

    for _ in range(services.MFA_MAX_ATTEMPTS):
        wrong = client.post(f"{MOUNT}/sso/mfa", {"client_state": state, "code": "999999"}, content_type="application/json")
        assert wrong.json()["responseStatus"]["type"] == "INVALID_MFA_CODE"
    exhausted = client.post(f"{MOUNT}/sso/mfa", {"client_state": state, "code": "123456"}, content_type="application/json")
    assert exhausted.status_code == 401 and exhausted.json()["responseStatus"]["type"] == "MFA_ATTEMPTS_EXCEEDED"

    state = client.post(f"{MOUNT}/sso/signin", {"email": "carol@example.com", "password": "pw"},
                        content_type="application/json").json()["client_state"]
    SimGarminMfaChallenge.objects.update(expires_at=now() - timedelta(seconds=1))
    late = client.post(f"{MOUNT}/sso/mfa", {"client_state": state, "code": "123456"}, content_type="application/json")
    assert late.status_code == 401 and late.json()["responseStatus"]["type"] == "MFA_SESSION_EXPIRED"
    garbage = client.post(f"{MOUNT}/sso/mfa", {"client_state": "nonsense", "code": "1"}, content_type="application/json")
    assert garbage.status_code == 401


def test_the_demo_sign_in_page_renders(client):
    page = client.get(f"{MOUNT}/sso/signin")

    assert page.status_code == 200
    assert b"Garmin Connect simulator" in page.content


def test_other_connectapi_paths_are_404_for_a_signed_in_client(client, account):
    tokens = signed_in(client)

    assert client.get(f"{MOUNT}/connectapi/wellness-service/wellness/dailySleepData/x", **bearer(tokens)).status_code == 404
    assert client.get(f"{MOUNT}/connectapi/wellness-service/wellness/dailySleepData/x").status_code == 401


def test_a_shifted_file_is_a_valid_fit_file_with_every_date_moved():
    data = RIDE.read_bytes()

    shifted = fitfile.shift_times(data, 86400 * 400 + 7)

    original, moved = read_activity(data), read_activity(shifted)
    assert original is not None and moved is not None and original.start_time and moved.start_time
    assert moved.start_time - original.start_time == timedelta(days=400, seconds=7)
    assert moved.distance == original.distance and len(moved.points) == len(original.points)
    assert all(b.time - a.time == timedelta(days=400, seconds=7) for a, b in zip(original.points, moved.points, strict=True)
               if a.time and b.time)
    with fitdecode.FitReader(shifted, check_crc=fitdecode.CrcCheck.RAISE) as reader:
        assert sum(1 for _ in reader) > 0  # the CRC was recomputed


def test_a_file_from_strava_names_strava_as_manufacturer_and_nothing_else_changes():
    data = RUN.read_bytes()

    restamped = fitfile.as_recorded_by_strava(data)

    assert fitfile.garmin_facts(restamped).manufacturer == "STRAVA"
    assert fitfile.garmin_facts(data).manufacturer == "SUUNTO"
    before, after = read_activity(data), read_activity(restamped)
    assert before is not None and after is not None
    assert (before.device_name, after.device_name) == ("Suunto", "Strava")
    assert replace(after, device_name=before.device_name) == before


def test_what_garmin_cannot_import_is_refused_when_seeding(account):
    settings_file = DATA_DIR / "dtcooper_python-fitparse__tests_files_Settings2.fit"

    with pytest.raises(ValueError):
        services.garmin_activity_add(account=account, data=settings_file.read_bytes(), file_name=settings_file.name)
    with pytest.raises(ValueError):
        services.garmin_activity_add(account=account, data=b"not a fit file", file_name="junk.fit")


def test_spread_gives_distinct_days_and_keeps_each_files_time_of_day(account):
    added = services.garmin_activities_spread(account=account, files=[RIDE, RUN], count=20, last_day=date(2026, 5, 20),
                                              from_strava=[18, 19])

    assert len({a.start_time.date() for a in added}) == 20
    assert added[-1].start_time.date() == date(2026, 5, 20)
    assert {a.start_time.astimezone(UTC).time().isoformat() for a in added[0::2]} == {"13:36:06"}
    assert [a.manufacturer for a in added[-3:]] == ["SUUNTO", "STRAVA", "STRAVA"]


def test_the_download_zip_holds_the_served_file(client, account):
    activity = account.activities.order_by("start_time").first()
    assert activity is not None

    answer = client.get(f"{MOUNT}/connectapi/download-service/files/activity/{activity.activity_id}", **bearer(signed_in(client)))

    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert archive.read(f"{activity.activity_id}_ACTIVITY.fit") == RIDE.read_bytes()


@pytest.mark.parametrize(("spans", "most"), [
    ([], 0),
    ([(0.0, 1.0), (1.0, 2.0), (2.5, 3.0)], 1),  # one after another, touching
    ([(0.0, 2.0), (1.0, 3.0)], 2),
    ([(0.0, 10.0), (1.0, 2.0), (1.5, 3.0), (5.0, 6.0)], 3),
])  # fmt: skip
def test_max_overlap_counts_requests_open_at_one_instant(spans, most):
    assert selectors.max_overlap(spans) == most


def test_the_command_seeds_an_account_injects_faults_and_reports(account):
    athlete = SimAthlete.objects.create(firstname="Demo", lastname="Rider")
    out = io.StringIO()

    call_command("sandbox_garmin", "--seed", "--email", "demo@example.com", "--count", "20", "--from-strava", "2",
                 "--strava-athlete", str(athlete.pk), stdout=out)
    call_command("sandbox_garmin", "--email", "demo@example.com", "--throttle-next", "3", stdout=out)

    demo = SimGarminAccount.objects.get(email="demo@example.com")
    assert demo.strava_athlete == athlete and demo.throttle_next == 3
    assert demo.activities.count() == 20
    assert demo.activities.filter(manufacturer="STRAVA").count() == 2
    assert "demo@example.com: 20 activities" in out.getvalue()
