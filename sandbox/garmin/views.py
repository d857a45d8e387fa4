"""Garmin Connect's endpoints, thin: every request logged with its span, faults and the bearer token checked first."""

from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import time
import zipfile
from collections.abc import Callable
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from sandbox.garmin import selectors, serializers, services
from sandbox.garmin.services import GarminRefusal
from sandbox.models import SimGarminAccount

MAX_LIMIT = 1000  # the library refuses more; Garmin answers at most this many
View = Callable[..., HttpResponse]

# connectapi's answers to a refused bearer and to a client over its rate (a Spring resource server's words).
TOKEN_NOT_ACTIVE = {"error": "invalid_token", "error_description": "Token is not active"}
TOO_MANY_REQUESTS = {"message": "Too Many Requests", "error": "TooManyRequestsException"}


def _note(request: HttpRequest, account: SimGarminAccount | None) -> None:
    if account is not None:
        request._garmin_account_id = account.pk  # type: ignore[attr-defined]


def logged(endpoint: str) -> Callable[[View], View]:
    """Log the request's span and status under `endpoint`; a GarminRefusal becomes its JSON answer."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Wall-clock time, not monotonic: spans from several server processes are compared.
            started, status = time.time(), 500
            try:
                try:
                    response = view(request, *args, **kwargs)
                except GarminRefusal as refusal:
                    response = JsonResponse(refusal.body, status=refusal.status)
                status = response.status_code
                return response
            finally:
                services.garmin_request_log(
                    account_id=getattr(request, "_garmin_account_id", None), endpoint=endpoint,
                    method=request.method or "", path=request.path, query=request.META.get("QUERY_STRING", ""),
                    status=status, started=started, finished=time.time(),
                )

        return wrapper

    return decorate


def connectapi(endpoint: str) -> Callable[[View], View]:
    """A connectapi endpoint: `view(request, account, **kwargs)` runs for a live bearer token and no injected 429."""

    def decorate(view: View) -> View:
        @logged(endpoint)
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            token = selectors.garmin_token_for_bearer(authorization=request.headers.get("Authorization", ""))
            if token is None:
                raise GarminRefusal(401, TOKEN_NOT_ACTIVE)
            _note(request, token.account)
            if services.garmin_throttle_take(account=token.account):
                raise GarminRefusal(429, TOO_MANY_REQUESTS)
            return view(request, token.account, **kwargs)

        return wrapper

    return decorate


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise GarminRefusal(400, {"error": "invalid_request", "message": "the body is not JSON"}) from exc
    if not isinstance(body, dict):
        raise GarminRefusal(400, {"error": "invalid_request", "message": "the body is not a JSON object"})
    return body


# --- SSO stand-in --------------------------------------------------------------------------------


@logged("signin")
def sso_signin(request: HttpRequest) -> HttpResponse:
    """POST {email, password} → the session's token JSON, or needs_mfa with a client_state; GET: a demo page."""
    if request.method == "GET":
        return render(request, "sandbox/garmin/signin.html", {})
    if request.method != "POST":
        return HttpResponse(status=405)
    body = _json_body(request)
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise GarminRefusal(400, {"error": "invalid_request", "message": "email and password are required"})
    _note(request, selectors.garmin_account_by_email(email=email))
    answer = services.garmin_sign_in(email=email, password=password)
    return JsonResponse(answer)


@logged("mfa")
def sso_mfa(request: HttpRequest) -> HttpResponse:
    """POST {client_state, code} → the session's token JSON; 401 for a wrong, spent or expired code."""
    if request.method != "POST":
        return HttpResponse(status=405)
    body = _json_body(request)
    _note(request, selectors.garmin_account_for_mfa_session(session=services.mfa_session(body.get("client_state"))))
    return JsonResponse(services.garmin_mfa_verify(client_state=body.get("client_state"), code=str(body.get("code", ""))))


# --- diauth --------------------------------------------------------------------------------------


def _basic_client_id(request: HttpRequest) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value, validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return None


@logged("token")
def di_token(request: HttpRequest) -> HttpResponse:
    """The DI OAuth2 token endpoint; only grant_type=refresh_token can happen here (service tickets come from SSO)."""
    if request.method != "POST":
        return HttpResponse(status=405)
    client_id = request.POST.get("client_id", "")
    if client_id not in services.DI_CLIENT_IDS or _basic_client_id(request) != client_id:
        raise GarminRefusal(401, {"error": "invalid_client", "error_description": "Bad client credentials"})
    grant_type = request.POST.get("grant_type", "")
    if grant_type != "refresh_token":
        raise GarminRefusal(400, {"error": "unsupported_grant_type", "error_description": f"Unsupported grant type: {grant_type}"})
    refresh_token = request.POST.get("refresh_token", "")
    _note(request, selectors.garmin_account_for_refresh_token(refresh_token=refresh_token))
    return JsonResponse(services.garmin_token_refresh(client_id=client_id, refresh_token=refresh_token))


# --- connectapi ----------------------------------------------------------------------------------


@connectapi("socialProfile")
def social_profile(request: HttpRequest, account: SimGarminAccount) -> HttpResponse:
    return JsonResponse(serializers.social_profile(account))


@connectapi("user-settings")
def user_settings(request: HttpRequest, account: SimGarminAccount) -> HttpResponse:
    return JsonResponse(serializers.user_settings(account))


def _int(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise GarminRefusal(400, {"message": f"Invalid value for {name}: {raw}", "error": "BadRequestException"})
    return int(raw)


def _date(request: HttpRequest, name: str) -> date | None:
    raw = request.GET.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise GarminRefusal(400, {"message": f"Invalid date for {name}: {raw}", "error": "BadRequestException"}) from exc


@connectapi("activities")
def activities_search(request: HttpRequest, account: SimGarminAccount) -> HttpResponse:
    search = selectors.Search(
        start=_int(request, "start", 0),
        limit=min(_int(request, "limit", 20), MAX_LIMIT),
        start_date=_date(request, "startDate"),
        end_date=_date(request, "endDate"),
        activity_type=request.GET.get("activityType") or None,
        ascending=request.GET.get("sortOrder", "").lower() == "asc",
    )
    items = selectors.garmin_activities_search(account=account, search=search)
    return JsonResponse([serializers.activity(item, account) for item in items], safe=False)


@connectapi("download")
def download_original(request: HttpRequest, account: SimGarminAccount, activity_id: int) -> HttpResponse:
    """The original upload, zipped as Garmin serves it: one entry, `{activityId}_ACTIVITY.fit`."""
    item = selectors.garmin_activity_file(account=account, activity_id=activity_id)
    if item is None:
        # Another athlete's activity and a missing one answer alike.
        raise GarminRefusal(404, {"message": "Activity not found", "error": "NotFoundException"})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{item.activity_id}_ACTIVITY.fit", bytes(item.data))
    response = HttpResponse(buffer.getvalue(), content_type="application/x-zip-compressed")
    response["Content-Disposition"] = f'attachment; filename="{item.activity_id}.zip"'
    return response


@connectapi("other")
def unknown(request: HttpRequest, account: SimGarminAccount, rest: str) -> HttpResponse:
    """Every other connectapi path: the simulator has not got it, which Garmin answers as a 404."""
    raise GarminRefusal(404, {"message": f"No endpoint /{rest}", "error": "NotFoundException"})
