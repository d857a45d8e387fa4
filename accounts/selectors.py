"""Reads for accounts."""

from __future__ import annotations

from django.utils import timezone

from .models import Athlete, StravaToken


def athlete_for_user(*, user) -> Athlete | None:  # noqa: ANN001
    if not user.is_authenticated:
        return None
    return Athlete.objects.filter(user=user).select_related("token").first()


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
