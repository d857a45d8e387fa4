"""Strava's error answers: `{"message": ..., "errors": [{"resource", "field", "code"}]}`."""

from __future__ import annotations

from django.http import JsonResponse


class ApiError(Exception):
    """An answer Strava gives instead of the object; services raise it, views render it."""

    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []

    def response(self) -> JsonResponse:
        return JsonResponse({"message": self.message, "errors": self.errors}, status=self.status)


def _error(resource: str, field: str, code: str) -> list[dict[str, str]]:
    return [{"resource": resource, "field": field, "code": code}]


def bad_request(resource: str, field: str, code: str = "invalid") -> ApiError:
    return ApiError(400, "Bad Request", _error(resource, field, code))


def authorization_error(resource: str = "Athlete", field: str = "access_token", code: str = "invalid") -> ApiError:
    return ApiError(401, "Authorization Error", _error(resource, field, code))


def missing_scope(permission: str) -> ApiError:
    """E.g. `activity:read_permission` when the token lacks activity:read."""
    return ApiError(401, "Authorization Error", _error("AccessToken", permission, "missing"))


def not_found(resource: str, field: str = "id") -> ApiError:
    return ApiError(404, "Record Not Found", _error(resource, field, "invalid"))


def rate_limited() -> ApiError:
    return ApiError(429, "Rate Limit Exceeded", _error("Application", "rate limit", "exceeded"))


def inactive() -> ApiError:
    return ApiError(403, "Forbidden", _error("Application", "subscription", "Inactive"))


SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def server_error(status: int) -> ApiError:
    return ApiError(status, SERVER_ERRORS.get(status, "Internal Server Error"))


def forbidden(resource: str, field: str = "id") -> ApiError:
    """Another athlete's resource that only its owner may read (e.g. /athletes/{id}/stats)."""
    return ApiError(403, "Forbidden", _error(resource, field, "forbidden"))


def athlete_limit_exceeded() -> ApiError:
    """The application's capacity of connected athletes is full (SANDBOX_MAX_ATHLETES)."""
    return ApiError(403, "Limit of connected athletes exceeded", _error("Athlete", "", "limit exceeded"))
