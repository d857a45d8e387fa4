"""The one boundary where a Garmin password is used: signing in, with its MFA second step.

Garmin's credential login imitates a browser's TLS handshake (curl_cffi) and cannot be pointed at
a simulator, so it sits behind these two functions: with GARMIN_SANDBOX_URL set they ask the
simulator's stand-in sign-in over HTTP instead; everything around them (the MFA two-step, saving
the tokens, the error mapping) is the same code in both modes.

The password lives in memory for the length of one call: it is never stored, logged, put in the
session or shown in an error (the views are `secret_request`: their error reports show no
variables). What survives between the two MFA steps is the library's
`client_state` (session cookies: as sensitive as a password), which the caller keeps encrypted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from garminconnect import (
    Garmin,
    GarminConnectAuthenticationError,
    GarminConnectConnectionError,
    GarminConnectTooManyRequestsError,
)

from .pacing import PacedAdapter, pacer_turn


class SignInRefused(Exception):
    """Garmin refused the sign-in (wrong email/password or code); the message is safe to show."""


@dataclass(frozen=True)
class SignInStep:
    """Either the session tokens (done) or the state to finish with an MFA code."""

    tokens: str = ""
    mfa_state: dict[str, Any] | None = None


def _sandbox_post(path: str, payload: dict[str, Any]) -> dict[str, Any]:
    with requests.Session() as session:
        session.mount("http://", PacedAdapter())
        session.mount("https://", PacedAdapter())
        response = session.post(f"{settings.GARMIN_SANDBOX_URL}/sso/{path}", json=payload,
                                timeout=settings.GARMIN_HTTP_TIMEOUT)
    if response.status_code == 429:
        raise SignInRefused("Garmin is refusing sign-ins from this server for now (too many requests); try later.")
    if response.status_code in (400, 401, 403):
        raise SignInRefused("Garmin did not accept that code." if path == "mfa"
                            else "Garmin did not accept that email and password.")
    response.raise_for_status()
    return response.json()


def _step_from(answer: dict[str, Any]) -> SignInStep:
    if answer.get("status") == "needs_mfa":
        return SignInStep(mfa_state=answer["client_state"])
    return SignInStep(tokens=json.dumps({k: answer.get(k) for k in ("di_token", "di_refresh_token", "di_client_id")}))


def signin_start(*, email: str, password: str) -> SignInStep:
    """Sign in with the email and password; the tokens, or the state an MFA code finishes."""
    if settings.GARMIN_SANDBOX_URL:
        return _step_from(_sandbox_post("signin", {"email": email, "password": password}))
    api = Garmin(email, password, return_on_mfa=True, retry_attempts=0)
    try:
        status, state = _paced(api.login)
    except (GarminConnectAuthenticationError, GarminConnectConnectionError) as exc:
        raise SignInRefused("Garmin did not accept that email and password.") from exc
    if status == "needs_mfa":
        return SignInStep(mfa_state=state)
    return SignInStep(tokens=api.client.dumps())


def signin_finish(*, mfa_state: dict[str, Any], code: str) -> str:
    """Finish a sign-in waiting for its MFA code; the session tokens."""
    if settings.GARMIN_SANDBOX_URL:
        step = _step_from(_sandbox_post("mfa", {"client_state": mfa_state, "code": code}))
        if not step.tokens:
            raise SignInRefused("Garmin did not accept that code.")
        return step.tokens
    api = Garmin(return_on_mfa=True, retry_attempts=0)
    try:
        _paced(lambda: api.resume_login(mfa_state, code))
    except (GarminConnectAuthenticationError, GarminConnectConnectionError) as exc:
        raise SignInRefused("Garmin did not accept that code.") from exc
    return api.client.dumps()


def _paced(call: Any) -> Any:
    """The real login makes its own requests (curl_cffi): hold the pacer's turn around the whole of it."""
    with pacer_turn() as turn:
        try:
            result = call()
        except GarminConnectTooManyRequestsError as exc:
            turn.status = 429
            raise SignInRefused("Garmin is refusing sign-ins from this server for now (too many requests).") from exc
        turn.status = 200
        return result
