"""Writes for accounts: connecting, token refresh under a row lock, disconnecting."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from stravasync.strava import oauth as strava
from stravasync.strava.errors import BadRequest, NetworkError, ReconnectNeeded

from .models import Athlete, StravaToken
from .signals import athlete_connected

logger = logging.getLogger(__name__)


def _expiry(payload: dict) -> datetime:
    if payload.get("expires_at"):
        return datetime.fromtimestamp(int(payload["expires_at"]), tz=UTC)
    return timezone.now() + timedelta(seconds=int(payload.get("expires_in") or 0))


@sensitive_variables("token_payload")
def athlete_connect(*, user, athlete_data: dict, token_payload: dict, scopes: str) -> Athlete:
    """Create or update the athlete and store their tokens (encrypted) after a login."""
    now = timezone.now()
    with transaction.atomic():
        athlete, _ = Athlete.objects.update_or_create(
            strava_id=int(athlete_data["id"]),
            defaults={
                "user": user,
                "username": athlete_data.get("username") or "",
                "firstname": athlete_data.get("firstname") or "",
                "lastname": athlete_data.get("lastname") or "",
                "avatar_url": athlete_data.get("profile") or athlete_data.get("profile_medium") or "",
                "scopes": scopes,
                "connected_at": now,
                "disconnected_at": None,
                "needs_reconnect": False,
                "reconnect_reason": "",
            },
        )
        StravaToken.objects.update_or_create(
            athlete=athlete,
            defaults={
                "access_token": token_payload["access_token"],
                "refresh_token": token_payload["refresh_token"],
                "expires_at": _expiry(token_payload),
                "scopes": scopes,
            },
        )
    logger.info("athlete %s connected with scopes %s", athlete.strava_id, scopes)
    # After the commit: a receiver's Strava call must find the token saved, even inside a request's transaction.
    transaction.on_commit(lambda: athlete_connected.send(sender=Athlete, athlete=athlete))
    return athlete


def athlete_mark_needs_reconnect(*, athlete_id: int, reason: str) -> None:
    Athlete.objects.filter(pk=athlete_id).update(needs_reconnect=True, reconnect_reason=reason[:300])
    logger.warning("athlete %s needs to reconnect: %s", athlete_id, reason)


@sensitive_variables("token", "payload")
def athlete_access_token(*, athlete_id: int, force_refresh: bool = False) -> str:
    """A valid access token for the athlete, refreshed at most once however many ask at once.

    The refresh is guarded by a lease on the token row, taken with a conditional UPDATE: one
    caller wins it and refreshes; the others wait until the new token is saved. The rotated
    refresh token is committed before the lease is released, so nobody ever presents a
    refresh token Strava has retired. (A lease rather than SELECT ... FOR UPDATE held across
    the HTTP call: on SQLite that would lock the whole database for the call's duration.)
    Raises ReconnectNeeded if Strava says the refresh token is dead.
    """
    margin = timedelta(seconds=settings.STRAVA_TOKEN_REFRESH_MARGIN)
    lease = timedelta(seconds=settings.STRAVA_HTTP_TIMEOUT + 10)
    token = StravaToken.objects.filter(athlete_id=athlete_id).first()
    if token is None:
        raise ReconnectNeeded("No Strava token stored: connect with Strava again.")
    if not force_refresh and token.expires_at - margin > timezone.now():
        return token.access_token
    stale_access_token = token.access_token
    deadline = time.monotonic() + lease.total_seconds() * 2

    while True:
        now = timezone.now()
        if _take_lease(token.pk, now, lease):
            break
        time.sleep(0.05)
        token = StravaToken.objects.get(pk=token.pk)
        if token.access_token != stale_access_token and token.expires_at - margin > timezone.now():
            return token.access_token  # someone else refreshed while we waited
        if time.monotonic() > deadline:
            raise NetworkError("Timed out waiting for another worker's token refresh")

    token = StravaToken.objects.get(pk=token.pk)
    if token.access_token != stale_access_token and token.expires_at - margin > timezone.now():
        StravaToken.objects.filter(pk=token.pk).update(refresh_lease_until=None)
        return token.access_token
    try:
        payload = strava.refresh_access_token(token.refresh_token)
    except BadRequest as exc:
        StravaToken.objects.filter(pk=token.pk).update(refresh_lease_until=None)
        if not (exc.names("RefreshToken", "refresh_token") or exc.status in (400, 401)):
            raise
        athlete_mark_needs_reconnect(athlete_id=athlete_id, reason="Strava no longer accepts our refresh token.")
        raise ReconnectNeeded(exc.message, status=exc.status, body=exc.body) from exc
    except Exception:
        StravaToken.objects.filter(pk=token.pk).update(refresh_lease_until=None)
        raise
    token.access_token = payload["access_token"]
    token.refresh_token = payload.get("refresh_token") or token.refresh_token
    token.expires_at = _expiry(payload)
    token.refreshed_at = timezone.now()
    token.refresh_count += 1
    token.refresh_lease_until = None
    token.save()
    return token.access_token


def _take_lease(token_pk: int, now, lease: timedelta) -> bool:
    with transaction.atomic():
        return bool(
            StravaToken.objects.filter(
                Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lt=now), pk=token_pk
            ).update(refresh_lease_until=now + lease)
        )


@sensitive_variables("access_token")
def athlete_disconnect(*, athlete: Athlete, delete_data: bool) -> None:
    """Revoke our access at Strava, forget the tokens, and keep or delete the athlete's data."""
    token = StravaToken.objects.filter(athlete=athlete).first()
    if token is not None:
        try:
            access_token = athlete_access_token(athlete_id=athlete.pk)
            strava.deauthorize(access_token)
        except Exception as exc:  # we forget the tokens whatever Strava answers
            logger.warning("deauthorize for athlete %s failed: %s", athlete.strava_id, type(exc).__name__)
        StravaToken.objects.filter(athlete=athlete).delete()
    athlete_purge_or_keep(athlete=athlete, delete_data=delete_data)


def athlete_purge_or_keep(*, athlete: Athlete, delete_data: bool) -> None:
    """After a disconnect: delete everything of the athlete's (their user too), or keep it.

    Deleting the rows is the whole purge: the apps that store files subscribe to the deletes and
    remove the athlete's stored files (uploads, export zips, reports) once the transaction commits.
    """
    if delete_data:
        user_id = athlete.user_id
        with transaction.atomic():
            athlete.delete()  # cascades to everything the other apps keep per athlete
            get_user_model().objects.filter(pk=user_id).delete()
        return
    Athlete.objects.filter(pk=athlete.pk).update(disconnected_at=timezone.now(), needs_reconnect=False)
