"""The only code that calls Strava's API (or the simulator: `STRAVA_API_URL` chooses).

Every API call takes a permit from the application-wide quota first and reconciles it with
Strava's headers after. Tokens travel only in the `Authorization` header and never reach a
log line. The OAuth endpoints, outside the rate limit, live in `oauth.py`.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import requests
from django.conf import settings

from accounts.services import athlete_access_token

from . import quota
from .errors import NetworkError, RateLimited, ServerError, StravaError, SubscriptionInactive, Unauthorized
from .http import error_for, http_session, response_body, response_message
from .metrics import call_count
from .quota import Grant, Kind, Priority

logger = logging.getLogger(__name__)


def _backoff(attempt: int) -> None:
    """Exponential backoff with full jitter, bounded by STRAVA_BACKOFF_CAP."""
    ceiling = min(settings.STRAVA_BACKOFF_CAP, settings.STRAVA_BACKOFF_BASE * (2**attempt))
    if ceiling > 0:
        time.sleep(random.uniform(0, ceiling))


_DUPLICATE_RE = re.compile(r"/activities/(\d+)|activity (\d+)")


def duplicate_of(error: str | None) -> int | None:
    """The activity id in Strava's "x.fit duplicate of activity N" (plain or HTML form)."""
    if not error or "duplicate" not in error.lower():
        return None
    match = _DUPLICATE_RE.search(error)
    if not match:
        return None
    return int(match.group(1) or match.group(2))


@dataclass(frozen=True)
class Patience:
    """How long a caller waits on Strava: retries after a 5xx or a network error, and seconds per request.

    A person waiting on a page (a login) takes one short try and leaves the rest to the dispatcher.
    """

    retries: int
    timeout: float


class StravaClient:
    """Typed calls to Strava's API v3 for one athlete (or for the application itself).

    `priority` decides who is served first when the quota is short; `grant` may carry a
    permit the dispatcher already took, used for the first attempt if still valid.
    """

    def __init__(
        self,
        *,
        athlete_id: int | None = None,
        access_token: str | None = None,
        priority: Priority | int = Priority.INTERACTIVE,
        grant: Grant | None = None,
        token_provider: Callable[[bool], str] | None = None,
        patience: Patience | None = None,
    ) -> None:
        self.athlete_id = athlete_id
        self._patience = patience
        self.priority = Priority(priority)
        self._grant = grant
        self._access_token = access_token
        self._token_provider = token_provider
        self.calls = 0  # HTTP requests actually sent by this client

    # --- tokens -----------------------------------------------------------------------
    def _token(self, *, force_refresh: bool = False) -> str | None:
        if self._token_provider is not None:
            return self._token_provider(force_refresh)
        if self.athlete_id is not None and (self._access_token is None or force_refresh):
            self._access_token = athlete_access_token(athlete_id=self.athlete_id, force_refresh=force_refresh)
        return self._access_token

    # --- permits ----------------------------------------------------------------------
    def _take_permit(self, kind: Kind) -> Grant:
        grant, self._grant = self._grant, None
        if grant is not None and grant.granted:
            # Strava said "Inactive" after the dispatcher handed this permit out: the call would only be
            # refused too. Everything goes through acquire, which lets one probe through now and then.
            inactive = quota.subscription_inactive_message()
            if inactive is not None:
                raise SubscriptionInactive(inactive)
            index, _, _ = quota.window_bounds(quota.now_ts())
            if index == grant.window_index or (grant.at_edge and index == grant.window_index + 1):
                return grant  # an edge permit was also counted in the window that followed
            # The dispatcher's permit belonged to a window that has passed: it is gone.
        grant = quota.acquire(kind=kind, priority=self.priority)
        if grant.granted:
            return grant
        if grant.reason == "inactive":
            raise SubscriptionInactive(quota.subscription_inactive_message() or "Inactive")
        assert grant.not_before is not None
        raise RateLimited(f"no permit before {grant.not_before.isoformat()} ({grant.reason})", retry_at=grant.not_before, status=0)

    # --- the one request loop ---------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        kind: Kind = Kind.READ,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: dict[str, tuple[str, IO[bytes]]] | None = None,
        authenticated: bool = True,
    ) -> Any:
        url = f"{settings.STRAVA_API_URL}/{path.lstrip('/')}"
        retries = settings.STRAVA_MAX_RETRIES if self._patience is None else self._patience.retries
        timeout = settings.STRAVA_HTTP_TIMEOUT if self._patience is None else self._patience.timeout
        attempts = 1 + max(0, retries)
        refreshed = False
        last_error: StravaError | None = None
        attempt = 0
        while attempt < attempts:
            grant = self._take_permit(kind)
            headers = {}
            if authenticated:
                headers["Authorization"] = f"Bearer {self._token(force_refresh=False)}"
            for _, (_, stream) in (files or {}).items():
                stream.seek(0)
            started = time.monotonic()
            try:
                self.calls += 1
                response = http_session().request(
                    method, url, params=params, data=data, files=files, headers=headers,
                    timeout=timeout,
                )
            except requests.RequestException as exc:
                # The request may or may not have reached Strava: its permit stays spent.
                last_error = NetworkError(f"{type(exc).__name__} calling {method} /{path.lstrip('/')}")
                call_count(method=method, path=path, status="network")
                logger.warning("strava %s /%s failed: %s (attempt %d)", method, path, type(exc).__name__, attempt + 1)
                attempt += 1
                if attempt < attempts:
                    _backoff(attempt - 1)
                continue
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.info("strava %s /%s -> %s in %.0f ms", method, path.lstrip("/"), response.status_code, elapsed_ms)
            status = response.status_code
            call_count(method=method, path=path, status=status)

            if status == 429:
                retry_at = quota.record_rate_limited(response.headers, grant=grant)
                body = response_body(response)
                raise RateLimited(response_message(body, response), retry_at=retry_at, body=body)
            if status >= 500:
                quota.reconcile(response.headers, grant=grant, succeeded=False)
                body = response_body(response)
                last_error = ServerError(response_message(body, response), status=status, body=body)
                attempt += 1
                if attempt < attempts:
                    _backoff(attempt - 1)
                continue
            error = error_for(response)
            if isinstance(error, SubscriptionInactive):
                quota.reconcile(response.headers, grant=grant, succeeded=False)
                quota.mark_inactive(error.message or "Inactive")
                raise error
            quota.reconcile(response.headers, grant=grant, succeeded=True)
            if (
                isinstance(error, Unauthorized)
                and error.missing_scope is None
                and not refreshed
                and authenticated
                and (self.athlete_id is not None or self._token_provider is not None)
            ):
                # The token was revoked or expired early: refresh once and try again.
                refreshed = True
                self._token(force_refresh=True)
                continue
            if error is not None:
                raise error
            if status == 204 or not response.content:
                return None
            return response.json()
        assert last_error is not None
        raise last_error

    # --- typed endpoints ------------------------------------------------------------
    def get_athlete(self) -> dict:
        return self.request("GET", "athlete")

    def list_activities(
        self, *, after: int | None = None, before: int | None = None, page: int = 1, per_page: int = 200
    ) -> list[dict]:
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if after is not None:
            params["after"] = int(after)
        if before is not None:
            params["before"] = int(before)
        return self.request("GET", "athlete/activities", params=params)

    def get_activity(self, activity_id: int, *, include_all_efforts: bool = True) -> dict:
        params = {"include_all_efforts": "true"} if include_all_efforts else None
        return self.request("GET", f"activities/{int(activity_id)}", params=params)

    def upload(
        self,
        *,
        stream: IO[bytes],
        filename: str,
        data_type: str,
        external_id: str,
        name: str | None = None,
        description: str | None = None,
        trainer: bool | None = None,
        commute: bool | None = None,
    ) -> dict:
        data: dict[str, Any] = {"data_type": data_type, "external_id": external_id}
        if name:
            data["name"] = name
        if description:
            data["description"] = description
        if trainer is not None:
            data["trainer"] = "1" if trainer else "0"
        if commute is not None:
            data["commute"] = "1" if commute else "0"
        return self.request("POST", "uploads", kind=Kind.WRITE, data=data, files={"file": (filename, stream)})

    def get_upload(self, upload_id: int) -> dict:
        return self.request("GET", f"uploads/{int(upload_id)}")

    def get_segment(self, segment_id: int) -> dict:
        return self.request("GET", f"segments/{int(segment_id)}")

    # --- application-level: push subscriptions (client id and secret, no athlete token) ---
    def _app_credentials(self) -> dict[str, str]:
        return {"client_id": str(settings.STRAVA_CLIENT_ID), "client_secret": settings.STRAVA_CLIENT_SECRET}

    def create_push_subscription(self, *, callback_url: str, verify_token: str) -> dict:
        data = {**self._app_credentials(), "callback_url": callback_url, "verify_token": verify_token}
        return self.request("POST", "push_subscriptions", kind=Kind.WRITE, data=data, authenticated=False)

    def list_push_subscriptions(self) -> list[dict]:
        return self.request("GET", "push_subscriptions", params=self._app_credentials(), authenticated=False)

    def delete_push_subscription(self, subscription_id: int) -> None:
        self.request(
            "DELETE", f"push_subscriptions/{int(subscription_id)}", kind=Kind.WRITE,
            params=self._app_credentials(), authenticated=False,
        )
