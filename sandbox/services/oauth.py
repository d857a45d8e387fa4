"""OAuth grants: authorization codes, tokens that expire and rotate, deauthorization."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox import webhooks
from sandbox.errors import athlete_limit_exceeded, authorization_error, bad_request
from sandbox.models import (
    SimAthlete,
    SimAuthCode,
    SimToken,
)
from sandbox.selectors import athlete_limit_reached

CODE_LIFETIME = timedelta(minutes=10)


def client_check(*, client_id: str, client_secret: str | None = None) -> None:
    """The simulator knows one application: settings.STRAVA_CLIENT_ID / STRAVA_CLIENT_SECRET."""
    if str(client_id) != str(settings.STRAVA_CLIENT_ID):
        raise bad_request("Application", "client_id")
    if client_secret is not None and not secrets.compare_digest(str(client_secret), str(settings.STRAVA_CLIENT_SECRET)):
        raise authorization_error("Application", "client_secret")


def auth_code_issue(*, athlete: SimAthlete, client_id: str, scopes: list[str]) -> SimAuthCode:
    now = timezone.now()
    return SimAuthCode.objects.create(
        code=secrets.token_hex(20),
        athlete=athlete,
        client_id=client_id,
        scope=",".join(scopes),
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )


def _token_issue(*, athlete: SimAthlete, client_id: str, scope: str) -> SimToken:
    now = timezone.now().replace(microsecond=0)
    return SimToken.objects.create(
        athlete=athlete,
        client_id=client_id,
        scope=scope,
        access_token=secrets.token_hex(20),
        access_expires_at=now + timedelta(seconds=settings.SANDBOX_TOKEN_LIFETIME),
        refresh_token=secrets.token_hex(20),
        created_at=now,
    )


def token_exchange(*, client_id: str, code: str) -> SimToken:
    """A code buys one grant, once, within ten minutes."""
    now = timezone.now()
    with transaction.atomic():
        claimed = SimAuthCode.objects.filter(code=code, client_id=client_id, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
        if claimed != 1:
            raise bad_request("AuthorizationCode", "code")
        auth = SimAuthCode.objects.select_related("athlete").get(code=code)
        # Others may have filled the capacity since the consent: Strava refuses the exchange then.
        if athlete_limit_reached(client_id=client_id, athlete_id=auth.athlete_id):
            raise athlete_limit_exceeded()
        return _token_issue(athlete=auth.athlete, client_id=client_id, scope=auth.scope)


def token_refresh(*, client_id: str, refresh_token: str) -> SimToken:
    """Rotation: a refresh token works once; the new grant carries a new one."""
    now = timezone.now()
    with transaction.atomic():
        old = (
            SimToken.objects.filter(refresh_token=refresh_token, client_id=client_id, revoked_at__isnull=True)
            .select_related("athlete")
            .first()
        )
        if old is None or SimToken.objects.filter(pk=old.pk, refreshed_at__isnull=True).update(refreshed_at=now) != 1:
            raise bad_request("RefreshToken", "refresh_token")
        return _token_issue(athlete=old.athlete, client_id=client_id, scope=old.scope)


def tokens_revoke(*, token: SimToken) -> int:
    """Deauthorization: every grant of the athlete for this application dies; the app hears of it."""
    revoked = SimToken.objects.filter(athlete_id=token.athlete_id, client_id=token.client_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    webhooks.event_send(
        client_id=token.client_id,
        object_type="athlete",
        object_id=token.athlete_id,
        aspect_type="update",
        owner_id=token.athlete_id,
        updates={"authorized": "false"},
    )
    return revoked
