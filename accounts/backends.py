"""Strava login for social-auth, with every URL from settings and no extra API call."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from social_core.backends.strava import StravaOAuth
from social_core.exceptions import AuthException, AuthProviderError

from stravasync.strava import oauth as strava
from stravasync.strava.errors import Forbidden, StravaError


class AthleteLimitReached(AuthException):
    """Strava's 403 at login: the application's limit of connected athletes is reached."""


class StravaOAuth2(StravaOAuth):
    name = "strava"

    def authorization_url(self) -> str:
        return f"{settings.STRAVA_OAUTH_URL}/authorize"

    def access_token_url(self) -> str:
        return f"{settings.STRAVA_OAUTH_URL}/token"

    def revoke_token_url(self, token: str, uid: str) -> str:
        return f"{settings.STRAVA_OAUTH_URL}/{settings.STRAVA_DEAUTHORIZE_PATH}"

    def request_access_token(self, *args: Any, **kwargs: Any) -> dict:
        """Exchange the code through our one Strava client (never a token in a URL)."""
        code = (kwargs.get("data") or kwargs.get("params") or {}).get("code", "")
        try:
            return strava.exchange_code(code)
        except Forbidden as exc:
            raise AthleteLimitReached(self, exc.message) from exc
        except StravaError as exc:
            raise AuthProviderError(self, exc.message or "Strava refused the login") from exc

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict:
        """The token answer already carries the athlete: spend no API call on it."""
        response = kwargs.get("response") or {}
        return {"athlete": response.get("athlete") or {}}

    def get_user_details(self, response: dict) -> dict:
        details = super().get_user_details(response)
        # Strava usernames are optional; the Strava id keeps our usernames unique.
        details["username"] = details.get("username") or f"strava-{response['athlete']['id']}"
        return details
