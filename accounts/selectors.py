"""Reads for accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone

from .models import Athlete, StravaToken

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def athlete_for_user(*, user) -> Athlete | None:
    if not user.is_authenticated:
        return None
    return Athlete.objects.filter(user=user).select_related("token").first()


def athlete_find(*, value: str) -> Athlete | None:
    """The athlete a command line names: by Strava id, username (ours or Strava's), or our id as #12."""
    if value.startswith("#") and value[1:].isdigit():
        return Athlete.objects.filter(pk=int(value[1:])).first()
    query = Q(username=value) | Q(user__username=value)
    if value.isdigit():
        query |= Q(strava_id=int(value))
    return Athlete.objects.filter(query).order_by("pk").first()


def user_of_request(request: HttpRequest) -> User:
    """The signed-in user, for views behind login_required; an anonymous visitor is refused."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("Sign in first")
    return user


def athlete_of_request(request) -> Athlete:
    """The signed-in user's athlete; a user who never connected gets a 404, like any foreign row."""
    athlete = Athlete.objects.filter(user=request.user).first()
    if athlete is None:
        raise Http404("Connect with Strava first")
    return athlete


def token_state(*, athlete: Athlete) -> dict[str, object]:
    """What the dashboard says about the token, without ever exposing it."""
    token = StravaToken.objects.filter(athlete=athlete).only("expires_at", "refreshed_at", "scopes").first()
    if athlete.needs_reconnect:
        return {"state": "needs reconnect", "detail": athlete.reconnect_reason}
    if token is None:
        return {"state": "disconnected", "detail": "No token stored."}
    remaining = token.expires_at - timezone.now()
    if remaining.total_seconds() <= 0:
        return {"state": "expired", "detail": "Will be refreshed automatically on next use.", "expires_at": token.expires_at}
    return {"state": "valid", "detail": "", "expires_at": token.expires_at, "refreshed_at": token.refreshed_at}
