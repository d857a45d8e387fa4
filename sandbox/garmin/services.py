"""Garmin Connect's writes: accounts and their activities (real files), sign-in, DI tokens, faults, the request log.

Keyword-only `garmin_<entity>_<action>` functions; views only parse requests and call them. What a
refused request answers is a GarminRefusal carrying Garmin's status and JSON body.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import F, Max
from django.utils.timezone import now

from activityfiles import read_activity
from sandbox.garmin import activity_types, fitfile, jwt
from sandbox.models import (
    SimAthlete,
    SimGarminAccount,
    SimGarminActivity,
    SimGarminMfaChallenge,
    SimGarminRequest,
    SimGarminToken,
    SimUpload,
)

# The DI client id the Android app signs in as today; the library tries it first, and reads it back from the token.
DI_CLIENT_ID = "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2"
DI_CLIENT_IDS = frozenset({
    "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2", "GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4",
    "GARMIN_CONNECT_MOBILE_ANDROID_DI", "GARMIN_CONNECT_MOBILE_IOS_DI",
})  # fmt: skip
ISSUER = "https://diauth.garmin.com"
SCOPES = ("CONNECT_READ", "CONNECT_WRITE", "CONNECT_MCT_DAILY_LOG_READ", "DT_CLIENT_ANALYTICS_WRITE")
ACTIVITY_ID_BASE = 21_000_000_000  # Garmin's activity ids passed 2e10 in 2025
PROFILE_ID_BASE = 90_000_000
MFA_LIFETIME = timedelta(minutes=5)  # the emailed code's life; a pending sign-in dies with it
MFA_MAX_ATTEMPTS = 5
REFRESH_LIFETIME = timedelta(days=30)  # what peers measured for DI refresh tokens


@dataclass
class GarminRefusal(Exception):
    """A request Garmin refuses: the status and JSON body it answers."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _access_lifetime() -> int:
    return int(settings.SANDBOX_GARMIN_ACCESS_LIFETIME)


# --- accounts and activities ---------------------------------------------------------------------


def garmin_account_create(
    *,
    email: str,
    password: str,
    mfa: bool = False,
    mfa_code: str = "123456",
    full_name: str = "",
    timezone: str = "UTC",
    strava_athlete: SimAthlete | None = None,
) -> SimGarminAccount:
    guid = uuid.uuid4()
    with transaction.atomic():
        last = SimGarminAccount.objects.aggregate(top=Max("profile_id"))["top"] or PROFILE_ID_BASE
        return SimGarminAccount.objects.create(
            email=email.strip().lower(), password=make_password(password), mfa=mfa, mfa_code=mfa_code,
            display_name=str(uuid.uuid4()), full_name=full_name or email.split("@")[0], profile_id=last + 1,
            garmin_guid=str(guid), timezone=timezone, strava_athlete=strava_athlete,
        )


def garmin_activity_add(
    *,
    account: SimGarminAccount,
    data: bytes,
    file_name: str,
    shift: timedelta = timedelta(0),
    from_strava: bool = False,
    name: str | None = None,
) -> SimGarminActivity:
    """Garmin receives a FIT file: it keeps the file and lists what the file says.

    `shift` moves every date in the file (a whole number of seconds; a multiple of 32 s for files with
    compressed timestamps, so whole days always work). `from_strava`: the file as Strava's app records
    it, so the list says manufacturer STRAVA, the only mark Garmin keeps of where a file came from.
    A file Garmin could not read (no activity, no start) raises ValueError, as Garmin refuses its upload.
    """
    seconds = int(shift.total_seconds())
    if seconds != shift.total_seconds():
        raise ValueError("shift by whole seconds")
    data = fitfile.shift_times(data, seconds)
    if from_strava:
        data = fitfile.as_recorded_by_strava(data)
    facts = fitfile.garmin_facts(data)
    summary = read_activity(data)
    if summary is None or summary.start_time is None or summary.data_type != "fit":
        raise ValueError(f"{file_name}: not an activity Garmin Connect can import")
    key = activity_types.type_key(facts.sport, facts.sub_sport)
    with transaction.atomic():
        last = SimGarminActivity.objects.aggregate(top=Max("activity_id"))["top"] or ACTIVITY_ID_BASE
        return SimGarminActivity.objects.create(
            account=account, activity_id=last + 1, name=name or activity_types.default_name(key), type_key=key,
            start_time=summary.start_time.astimezone(UTC).replace(microsecond=0),
            distance=summary.distance, duration=summary.moving_time or summary.elapsed_time,
            elapsed_duration=summary.elapsed_time, moving_duration=summary.moving_time,
            manufacturer=facts.manufacturer, device_id=facts.serial_number, file_name=file_name, data=data,
        )


def garmin_activities_spread(
    *, account: SimGarminAccount, files: Sequence[Path], count: int, last_day: date, from_strava: Sequence[int] = ()
) -> list[SimGarminActivity]:
    """`count` activities, one a day up to `last_day`, cycling through `files` (each keeps its time of day).

    `from_strava`: positions (0-based, oldest first) of the activities that arrive as recorded by Strava's app.
    """
    originals: dict[Path, tuple[bytes, date]] = {}
    for path in files:
        data = path.read_bytes()
        summary = read_activity(data)
        if summary is None or summary.start_time is None:
            raise ValueError(f"{path.name}: no recorded start")
        originals[path] = (data, summary.start_time.astimezone(UTC).date())
    added = []
    for i in range(count):
        path = files[i % len(files)]
        data, recorded = originals[path]
        day = last_day - timedelta(days=count - 1 - i)
        shift = timedelta(days=(day - recorded).days)
        added.append(garmin_activity_add(account=account, data=data, file_name=path.name, shift=shift,
                                         from_strava=i in from_strava))
    return added


def garmin_account_seed(
    *,
    email: str,
    password: str,
    mfa: bool = False,
    files: Sequence[Path] = (),
    shift: timedelta = timedelta(0),
    strava_athlete: SimAthlete | None = None,
) -> SimGarminAccount:
    """An account holding `files` (each moved by `shift`)."""
    account = garmin_account_create(email=email, password=password, mfa=mfa, strava_athlete=strava_athlete)
    for path in files:
        garmin_activity_add(account=account, data=path.read_bytes(), file_name=path.name, shift=shift)
    return account


# --- sign-in and DI tokens -----------------------------------------------------------------------


def _grant(account: SimGarminAccount, client_id: str) -> tuple[SimGarminToken, str]:
    """A new grant; the access token is returned, not kept (the row holds its jti)."""
    issued = now().replace(microsecond=0)
    access_expires = issued + timedelta(seconds=_access_lifetime())
    jti = str(uuid.uuid4())
    access = jwt.encode({
        "scope": list(SCOPES), "iss": ISSUER, "revocation_eligibility": ["GLOBAL_SIGNOUT"], "client_type": "UNDEFINED",
        "exp": int(access_expires.timestamp()), "iat": int(issued.timestamp()), "garmin_guid": account.garmin_guid,
        "jti": jti, "client_id": client_id,
    })  # fmt: skip
    refresh_expires = issued + REFRESH_LIFETIME
    refresh = jwt.encode({
        "iss": ISSUER, "exp": int(refresh_expires.timestamp()), "iat": int(issued.timestamp()),
        "garmin_guid": account.garmin_guid, "jti": str(uuid.uuid4()), "client_id": client_id,
        "nonce": secrets.token_hex(8),
    })  # fmt: skip
    token = SimGarminToken.objects.create(
        account=account, client_id=client_id, access_jti=jti, access_expires_at=access_expires,
        refresh_token=refresh, refresh_expires_at=refresh_expires, created_at=issued,
    )
    return token, access


def _session_json(account: SimGarminAccount, client_id: str) -> dict[str, Any]:
    """What the library's `dumps()` holds once a sign-in ends: `loads()` takes it as it is."""
    token, access = _grant(account, client_id)
    return {"status": "ok", "di_token": access, "di_refresh_token": token.refresh_token, "di_client_id": client_id}


def _client_state(session: str) -> dict[str, Any]:
    """Shaped as the library's own pending MFA state (JSON, naming the domain); the SSO session is its cookie."""
    return {
        "domain": "garmin.com", "flow": "mobile", "method": "email",
        "login_params": {"clientId": "GCM_ANDROID_DARK", "locale": "en-US",
                         "service": "https://mobile.integration.garmin.com/gcm/android"},
        "post_headers": {}, "service_url": "https://mobile.integration.garmin.com/gcm/android", "csrf_token": None,
        "impersonate": None,
        "cookies": [{"name": "SESSIONID", "value": session, "domain": "sso.garmin.com", "path": "/", "secure": True,
                     "expires": None, "domain_specified": False}],
    }  # fmt: skip


def garmin_sign_in(*, email: str, password: str, client_id: str = DI_CLIENT_ID) -> dict[str, Any]:
    """The credential step: tokens, or a pending sign-in waiting for the emailed code."""
    account = SimGarminAccount.objects.filter(email=email.strip().lower()).first()
    # Unknown email and wrong password answer alike, as Garmin's SSO does.
    if account is None or not check_password(password, account.password):
        raise GarminRefusal(401, {
            "status": "error", "responseStatus": {"type": "INVALID_USERNAME_PASSWORD", "message": "", "httpStatus": "UNAUTHORIZED"},
            "error": "401 Unauthorized (Invalid Username or Password)",
        })  # fmt: skip
    if not account.mfa:
        return _session_json(account, client_id)
    challenge = SimGarminMfaChallenge.objects.create(
        account=account, session=secrets.token_urlsafe(24), client_id=client_id, expires_at=now() + MFA_LIFETIME
    )
    return {"status": "needs_mfa", "client_state": _client_state(challenge.session)}


def _mfa_refused(kind: str) -> GarminRefusal:
    return GarminRefusal(401, {
        "status": "error", "responseStatus": {"type": kind, "message": "", "httpStatus": "UNAUTHORIZED"},
        "error": f"MFA verification failed: {kind}",
    })  # fmt: skip


def mfa_session(client_state: Any) -> str:
    """The pending sign-in a client_state names (its SESSIONID cookie); "" when it names none."""
    cookies = client_state.get("cookies") if isinstance(client_state, dict) else None
    if not isinstance(cookies, list):
        return ""
    found = next((c.get("value") for c in cookies if isinstance(c, dict) and c.get("name") == "SESSIONID"), None)
    return str(found or "")


def garmin_mfa_verify(*, client_state: Any, code: str) -> dict[str, Any]:
    """The second step: the code for the pending sign-in `client_state` names; a wrong code may be retried."""
    refusal = None
    with transaction.atomic():
        challenge = SimGarminMfaChallenge.objects.select_for_update().filter(session=mfa_session(client_state)).first()
        if challenge is None or challenge.used_at is not None or challenge.expires_at <= now():
            refusal = "MFA_SESSION_EXPIRED"
        elif challenge.attempts >= MFA_MAX_ATTEMPTS:
            refusal = "MFA_ATTEMPTS_EXCEEDED"
        elif not secrets.compare_digest(str(code).strip(), challenge.account.mfa_code):
            # Counted in the committed transaction: the refusal is raised after it, not inside it.
            challenge.attempts += 1
            challenge.save(update_fields=["attempts"])
            refusal = "INVALID_MFA_CODE"
        else:
            challenge.used_at = now()
            challenge.save(update_fields=["used_at"])
            return _session_json(challenge.account, challenge.client_id)
    raise _mfa_refused(refusal)


def _invalid_grant(refresh_token: str) -> GarminRefusal:
    return GarminRefusal(400, {"error": "invalid_grant", "error_description": f"Invalid refresh token: {refresh_token}"})


def garmin_token_refresh(*, client_id: str, refresh_token: str) -> dict[str, Any]:
    """grant_type=refresh_token: a new access token and a new refresh token; the spent one never works again."""
    with transaction.atomic():
        old = SimGarminToken.objects.select_for_update().select_related("account").filter(refresh_token=refresh_token).first()
        if (
            old is None or old.client_id != client_id or old.rotated_at is not None or old.revoked_at is not None
            or old.refresh_expires_at <= now()
        ):
            raise _invalid_grant(refresh_token)
        old.rotated_at = now()
        old.save(update_fields=["rotated_at"])
        token, access = _grant(old.account, client_id)
    return {
        "scope": " ".join(SCOPES), "jti": token.access_jti, "access_token": access, "token_type": "bearer",
        "refresh_token": token.refresh_token, "expires_in": _access_lifetime(),
        "refresh_token_expires_in": int(REFRESH_LIFETIME.total_seconds()),
    }  # fmt: skip


# --- faults --------------------------------------------------------------------------------------


def garmin_faults_set(*, account: SimGarminAccount, throttled: bool | None = None, throttle_next: int | None = None) -> None:
    """429s on connectapi: every request while `throttled`, or the next `throttle_next` requests."""
    if throttled is not None:
        account.throttled = throttled
    if throttle_next is not None:
        account.throttle_next = throttle_next
    account.save(update_fields=["throttled", "throttle_next"])


def garmin_throttle_take(*, account: SimGarminAccount) -> bool:
    """Whether this request is answered 429 (spending one of the `throttle_next`)."""
    if SimGarminAccount.objects.filter(pk=account.pk, throttled=True).exists():
        return True
    return SimGarminAccount.objects.filter(pk=account.pk, throttle_next__gt=0).update(throttle_next=F("throttle_next") - 1) == 1


def garmin_sessions_revoke(*, account: SimGarminAccount) -> int:
    """Garmin ended the account's sessions (password changed, signed out everywhere): 401s, then invalid_grant."""
    return SimGarminToken.objects.filter(account=account, revoked_at__isnull=True).update(revoked_at=now())


def garmin_access_expire(*, account: SimGarminAccount) -> int:
    """The account's access tokens expire now (server side: the client learns it from a 401)."""
    return SimGarminToken.objects.filter(account=account, access_expires_at__gt=now()).update(access_expires_at=now())


# --- the request log -----------------------------------------------------------------------------


def garmin_request_log(
    *, account_id: int | None, endpoint: str, method: str, path: str, query: str, status: int, started: float, finished: float
) -> SimGarminRequest:
    return SimGarminRequest.objects.create(
        account_id=account_id, endpoint=endpoint, method=method, path=path[:255], query=query, status=status,
        started=started, finished=finished,
    )


def garmin_request_log_clear() -> None:
    SimGarminRequest.objects.all().delete()


def garmin_demo_seed(*, strava_athlete: SimAthlete, files: Sequence[Path], email: str, password: str,
                     count: int = 20, on_strava: int = 12) -> SimGarminAccount:
    """The demo's Garmin account: `count` activities, one a day up to yesterday, the oldest `on_strava`
    of them already on the athlete's Strava (the same recordings, as Garmin's own auto-sync would have
    sent them), and the newest one recorded by Strava's app (Garmin must not send it back)."""
    from sandbox.services.uploads import uploads_process_due

    account = garmin_account_create(email=email, password=password, strava_athlete=strava_athlete)
    activities = garmin_activities_spread(account=account, files=files, count=count,
                                          last_day=now().date() - timedelta(days=1), from_strava=[count - 1])
    moment = now()
    for activity in activities[:on_strava]:
        data = bytes(activity.data)
        SimUpload.objects.create(
            athlete=strava_athlete, client_id="garmin-connect", filename=f"{activity.activity_id}.fit", data_type="fit",
            sha256=hashlib.sha256(data).hexdigest(), size=len(data), data=data,
            external_id=f"garmin_push_{activity.activity_id}", created_at=moment, process_after=moment,
        )
    uploads_process_due(athlete_id=strava_athlete.pk, now=moment)
    return account
