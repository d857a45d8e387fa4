"""Strava's OAuth endpoints: code exchange, token refresh, deauthorization.

They are outside the API rate limit, so they take no permit. Kept apart from the API client:
the client asks `accounts` for an athlete's token, and `accounts` calls these to refresh it.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings

from .errors import NetworkError
from .http import error_for, http_session

logger = logging.getLogger(__name__)


def _oauth_post(path: str, data: dict[str, str]) -> dict:
    url = f"{settings.STRAVA_OAUTH_URL}/{path}"
    try:
        response = http_session().post(url, data=data, timeout=settings.STRAVA_HTTP_TIMEOUT)
    except requests.RequestException as exc:
        raise NetworkError(f"{type(exc).__name__} while calling oauth/{path}") from exc
    logger.info("strava oauth POST /%s -> %s", path, response.status_code)
    error = error_for(response)
    if error is not None:
        raise error
    return response.json()


def exchange_code(code: str) -> dict:
    """Trade an authorization code for tokens (and the athlete)."""
    return _oauth_post(
        "token",
        {
            "client_id": settings.STRAVA_CLIENT_ID,
            "client_secret": settings.STRAVA_CLIENT_SECRET,
            "code": code,
            "grant_type": "authorization_code",
        },
    )


def refresh_access_token(refresh_token: str) -> dict:
    """New access token; the refresh token may rotate, so the caller must save it at once."""
    return _oauth_post(
        "token",
        {
            "client_id": settings.STRAVA_CLIENT_ID,
            "client_secret": settings.STRAVA_CLIENT_SECRET,
            "refresh_token": refresh_token,
            "grant_type": "refresh_token",
        },
    )


def deauthorize(access_token: str) -> None:
    """Revoke all of the athlete's tokens for this application (STRAVA_DEAUTHORIZE_PATH: deauthorize or revoke).

    The token travels in the Authorization header only, as Strava will require from 2027-06-01.
    """
    path = settings.STRAVA_DEAUTHORIZE_PATH
    url = f"{settings.STRAVA_OAUTH_URL}/{path}"
    try:
        response = http_session().post(
            url, headers={"Authorization": f"Bearer {access_token}"}, timeout=settings.STRAVA_HTTP_TIMEOUT
        )
    except requests.RequestException as exc:
        raise NetworkError(f"{type(exc).__name__} while calling oauth/{path}") from exc
    logger.info("strava oauth POST /%s -> %s", path, response.status_code)
    error = error_for(response)
    if error is not None:
        raise error
