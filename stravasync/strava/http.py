"""The transport under every Strava call: one keep-alive session per process, and the mapping
of Strava's error answers (JSON bodies with `errors[]`) to our exceptions.

Shared by the API client and the OAuth endpoints, which must not import each other.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import requests

from . import quota
from .errors import (
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    StravaError,
    SubscriptionInactive,
    Unauthorized,
)

_local = threading.local()


def http_session() -> requests.Session:
    """One keep-alive session per process (re-made after a fork)."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None or getattr(_local, "pid", None) != os.getpid():
        session = requests.Session()
        session.headers["User-Agent"] = "stravasync/0.1"
        _local.session, _local.pid = session, os.getpid()
    return session


def response_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def response_message(body: Any, response: requests.Response) -> str:
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        details = "; ".join(
            f"{e.get('resource')}.{e.get('field')} {e.get('code')}" for e in body.get("errors") or [] if isinstance(e, dict)
        )
        return f"{message} ({details})" if details else message or response.reason
    return str(body) or response.reason


def _is_inactive(response: requests.Response, body: Any) -> bool:
    return response.status_code == 403 and "inactive" in str(body).lower()


def error_for(response: requests.Response) -> StravaError | None:
    """Map a non-2xx answer to our exception (429 and 5xx are handled by the caller)."""
    status = response.status_code
    if status < 400:
        return None
    body = response_body(response)
    message = response_message(body, response)
    if status == 401:
        missing = None
        if isinstance(body, dict):
            for error in body.get("errors") or []:
                if isinstance(error, dict) and error.get("code") == "missing":
                    missing = str(error.get("field") or "") or None
        return Unauthorized(message, missing_scope=missing, status=status, body=body)
    if _is_inactive(response, body):
        return SubscriptionInactive(message, status=status, body=body)
    if status == 403:
        return Forbidden(message, status=status, body=body)
    if status == 404:
        return NotFound(message, status=status, body=body)
    if status == 429:
        return RateLimited(message, retry_at=quota._dt(quota.now_ts()), status=status, body=body)
    if status >= 500:
        return ServerError(message, status=status, body=body)
    return BadRequest(message, status=status, body=body)
