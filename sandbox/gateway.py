"""The doorway of every simulated request: the request log, then for api/v3 the quota, faults and token."""

from __future__ import annotations

import functools
import random
import socket
import socketserver
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from sandbox import ratelimit, selectors, services
from sandbox.errors import SERVER_ERRORS, ApiError, authorization_error, inactive, rate_limited, server_error
from sandbox.models import SimConfig, SimToken

ApiView = Callable[..., HttpResponse]


def mount_path(request: HttpRequest) -> str:
    """The path below the simulator's mount point, e.g. /api/v3/athlete."""
    mount = reverse("sandbox:authorize").removesuffix("oauth/authorize")
    return "/" + request.path.removeprefix(mount) if request.path.startswith(mount) else request.path


def note(request: HttpRequest, *, client_id: str | None = None, athlete_id: int | None = None) -> None:
    """Tell the request log whose request this was, once the view knows."""
    if client_id is not None:
        request._sim_client_id = client_id  # type: ignore[attr-defined]
    if athlete_id is not None:
        request._sim_athlete_id = athlete_id  # type: ignore[attr-defined]


def _log(request: HttpRequest, *, status: int, started: float) -> None:
    services.sim_request_log(
        client_id=getattr(request, "_sim_client_id", ""),
        athlete_id=getattr(request, "_sim_athlete_id", None),
        method=request.method or "",
        path=mount_path(request),
        query=request.META.get("QUERY_STRING", ""),
        status=status,
        duration_ms=(time.monotonic() - started) * 1000,
    )


def logged(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log an OAuth request (not rate-limited, no faults)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        started, status = time.monotonic(), 500
        note(request, client_id=request.POST.get("client_id") or request.GET.get("client_id") or "")
        try:
            response = view(request, *args, **kwargs)
            status = response.status_code
            return response
        finally:
            _log(request, status=status, started=started)

    return wrapper


class _Dropped(Exception):
    pass


def _handler_socket(request: HttpRequest) -> socket.socket | None:
    """The client's socket: gunicorn names it; Django's dev and live servers keep it on their handler."""
    sock = request.META.get("gunicorn.socket")  # WSGI's environ is the request's META
    if sock is not None:
        return sock
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, socketserver.BaseRequestHandler):
            return candidate.request
        frame = frame.f_back
    return None


def drop_connection(request: HttpRequest) -> HttpResponse:
    """Close the client's connection without an answer, so `requests` raises ConnectionError.

    The socket is shut down under the server; its write of the response then fails with a broken
    pipe, which the server ignores. Where no socket can be found (the test client, ASGI), a
    ConnectionResetError is raised instead.
    """
    sock = _handler_socket(request)
    if sock is None:
        raise ConnectionResetError("sandbox: simulated dropped connection")
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError as exc:
        raise ConnectionResetError("sandbox: simulated dropped connection") from exc
    # Never delivered; a quiet status keeps Django from logging a server error.
    return HttpResponse(status=204)


def _chance(rate: float) -> bool:
    return rate > 0 and random.random() < rate


def _answer(
    request: HttpRequest,
    view: ApiView,
    kwargs: dict[str, Any],
    *,
    token: SimToken | None,
    metered: bool,
    bearer: bool,
    exceeded: bool,
) -> HttpResponse:
    if metered:
        config = SimConfig.load()
        if _chance(config.drop_rate):
            raise _Dropped
        if _chance(config.slow_rate):
            time.sleep(config.slow_seconds)
        if _chance(config.error_rate):
            raise server_error(random.choice(list(SERVER_ERRORS)))
        if config.inactive:
            raise inactive()
        if exceeded:
            raise rate_limited()
    if bearer:
        # Strava's announced rule: access tokens only in the Authorization header.
        if "access_token" in request.GET or token is None or not token.access_valid():
            raise authorization_error()
    return view(request, token, **kwargs)


def api_view(
    *, writes: tuple[str, ...] = (), metered: bool = True, bearer: bool = True
) -> Callable[[ApiView], Callable[..., HttpResponse]]:
    """An api/v3 endpoint: `view(request, token, **kwargs)` runs once quota, faults and token allow.

    `writes`: methods that are not "read" requests in Strava's sense. `metered`: counted in the quota
    and subject to faults (push subscriptions are neither). `bearer`: needs an athlete's token.
    Every answer carries the rate-limit headers.
    """

    def decorate(view: ApiView) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            started, status = time.monotonic(), 500
            token = selectors.token_get(access_token=selectors.bearer_token(request)) if bearer else None
            client_id = token.client_id if token else settings.STRAVA_CLIENT_ID
            if not bearer:
                client_id = request.GET.get("client_id") or request.POST.get("client_id") or client_id
            note(request, client_id=client_id, athlete_id=token.athlete_id if token else None)
            try:
                read = request.method not in writes
                if metered:
                    usage = ratelimit.usage_count(client_id=client_id, read=read)
                else:
                    usage = ratelimit.usage_peek(client_id=client_id)
                try:
                    response = _answer(
                        request,
                        view,
                        kwargs,
                        token=token,
                        metered=metered,
                        bearer=bearer,
                        exceeded=usage.exceeded(read=read),
                    )
                except ApiError as exc:
                    response = exc.response()
                except _Dropped:
                    status = 0
                    return drop_connection(request)
                for header, value in usage.headers().items():
                    response[header] = value
                status = response.status_code
                return response
            finally:
                _log(request, status=status, started=started)

        return wrapper

    return decorate
