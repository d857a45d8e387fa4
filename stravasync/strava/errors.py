"""The few exceptions every Strava failure becomes, each carrying Strava's own message."""

from __future__ import annotations

from datetime import datetime


class StravaError(Exception):
    """Base class: `message` is Strava's text, `status` the HTTP status (0 for network)."""

    def __init__(self, message: str = "", *, status: int = 0, body: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body


class RateLimited(StravaError):
    """No permit now (or Strava answered 429): try again at `retry_at`."""

    def __init__(self, message: str = "", *, retry_at: datetime, status: int = 429, body: object = None) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_at = retry_at


class SubscriptionInactive(StravaError):
    """Strava's 403 "Inactive": the application's API subscription lapsed; every call pauses."""


class Unauthorized(StravaError):
    """401: bad or expired token, or a scope the athlete did not grant (`missing_scope`)."""

    def __init__(self, message: str = "", *, missing_scope: str | None = None, status: int = 401, body: object = None):
        super().__init__(message, status=status, body=body)
        self.missing_scope = missing_scope


class Forbidden(StravaError):
    """403 other than "Inactive" (e.g. the limit of connected athletes)."""


class NotFound(StravaError):
    """404: the object does not exist or is not visible to this athlete."""


class BadRequest(StravaError):
    """400 or another 4xx not covered above; `errors` is Strava's error list."""

    @property
    def errors(self) -> list[dict]:
        if isinstance(self.body, dict):
            return list(self.body.get("errors") or [])
        return []

    def names(self, resource: str, field: str) -> bool:
        return any(e.get("resource") == resource and e.get("field") == field for e in self.errors)


class ServerError(StravaError):
    """5xx after the retries ran out."""


class NetworkError(StravaError):
    """Timeout or connection failure after the retries ran out."""


class ReconnectNeeded(StravaError):
    """The athlete's refresh token is dead or missing: they must connect again."""
