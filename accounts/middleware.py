"""Login failures become a clear message; the connected-athlete limit, a page of its own."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
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
            return athlete_limit_page(request, exception)
        if isinstance(exception, AuthCanceled):
            text = "The connection with Strava was cancelled. Nothing was changed."
        else:
            text = f"Connecting with Strava failed: {exception.detail or exception}"
        messages.error(request, text)
        return redirect("home")


def athlete_limit_page(request: HttpRequest, exception: AthleteLimitReached) -> HttpResponse:
    """A page of its own, not a passing message: the limit, and who can raise it."""
    admins = list(settings.ADMINS)
    context = {
        "capacity": settings.STRAVA_ATHLETE_CAPACITY,
        "operator_email": admins[0][1] if admins else "",
        "strava_message": exception.detail,
    }
    return render(request, "accounts/athlete_limit.html", context, status=403)
