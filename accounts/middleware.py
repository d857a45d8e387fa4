"""Login failures (refused consent, the connected-athlete limit) become a clear message."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from social_core.exceptions import AuthCanceled, SocialAuthBaseException

from .backends import AthleteLimitReached


class StravaLoginErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SocialAuthBaseException):
            return None
        if isinstance(exception, AthleteLimitReached):
            text = (
                "Strava refused the connection: this application has reached its limit of connected "
                "athletes. The operator must ask Strava for a higher limit."
            )
        elif isinstance(exception, AuthCanceled):
            text = "The connection with Strava was cancelled. Nothing was changed."
        else:
            text = f"Connecting with Strava failed: {exception.detail or exception}"
        messages.error(request, text)
        return redirect("home")
