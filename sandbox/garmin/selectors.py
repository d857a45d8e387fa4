"""Garmin Connect's reads: the token behind a bearer header, the activity search, and what the request log shows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet
from django.utils.timezone import now

from sandbox.garmin import activity_types, jwt
from sandbox.models import SimGarminAccount, SimGarminActivity, SimGarminMfaChallenge, SimGarminRequest, SimGarminToken


def garmin_token_for_bearer(*, authorization: str) -> SimGarminToken | None:
    """The live grant an `Authorization: Bearer <JWT>` header names: signed here, not expired, not revoked."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value:
        return None
    payload = jwt.decode(value.strip())
    if payload is None:
        return None
    token = SimGarminToken.objects.select_related("account").filter(access_jti=str(payload.get("jti"))).first()
    if token is None or token.revoked_at is not None or token.access_expires_at <= now():
        return None
    return token


def garmin_account_by_email(*, email: str) -> SimGarminAccount | None:
    return SimGarminAccount.objects.filter(email=email.strip().lower()).first()


def garmin_account_for_mfa_session(*, session: str) -> SimGarminAccount | None:
    challenge = SimGarminMfaChallenge.objects.select_related("account").filter(session=session).first() if session else None
    return challenge.account if challenge else None


def garmin_account_for_refresh_token(*, refresh_token: str) -> SimGarminAccount | None:
    """Whose refresh token this is (spent or not), for the request log."""
    token = SimGarminToken.objects.select_related("account").filter(refresh_token=refresh_token).first()
    return token.account if token else None


@dataclass(frozen=True)
class Search:
    start: int = 0
    limit: int = 20
    start_date: date | None = None
    end_date: date | None = None
    activity_type: str | None = None
    ascending: bool = False


def garmin_activities_search(*, account: SimGarminAccount, search: Search) -> list[SimGarminActivity]:
    """A page of the account's activities, newest first unless asked otherwise; dates are local days, both included."""
    zone = ZoneInfo(account.timezone)
    rows: QuerySet[SimGarminActivity] = SimGarminActivity.objects.filter(account=account)
    if search.start_date is not None:
        rows = rows.filter(start_time__gte=datetime.combine(search.start_date, time(), zone))
    if search.end_date is not None:
        rows = rows.filter(start_time__lt=datetime.combine(search.end_date + timedelta(days=1), time(), zone))
    if search.activity_type:
        # A parent type takes its children, as Garmin's filter does (cycling → road_biking, ...).
        wanted = search.activity_type
        keys = [k for k in activity_types.TYPES if wanted in (k, activity_types.parent_key(k))]
        rows = rows.filter(type_key__in=keys)
    order = ("start_time", "activity_id") if search.ascending else ("-start_time", "-activity_id")
    return list(rows.order_by(*order).defer("data")[search.start : search.start + search.limit])


def garmin_activity_file(*, account: SimGarminAccount, activity_id: int) -> SimGarminActivity | None:
    return SimGarminActivity.objects.filter(account=account, activity_id=activity_id).first()


def garmin_request_counts(*, account: SimGarminAccount | None = None, status: int | None = None) -> dict[str, int]:
    """Requests answered per endpoint (signin, mfa, token, socialProfile, user-settings, activities, download, ...)."""
    rows = SimGarminRequest.objects.all()
    if account is not None:
        rows = rows.filter(account=account)
    if status is not None:
        rows = rows.filter(status=status)
    return {row["endpoint"]: row["n"] for row in rows.values("endpoint").annotate(n=Count("id")).order_by()}


def garmin_max_concurrency(*, account: SimGarminAccount | None = None) -> int:
    """The most Garmin requests the simulator was answering at one moment (1 = they never overlapped).

    From the log's wall-clock spans: a request whose answer was ready before the next one began does
    not overlap it, so a client that waits for each answer always scores 1, however slow the machine.
    """
    rows = SimGarminRequest.objects.all()
    if account is not None:
        rows = rows.filter(account=account)
    return max_overlap(rows.values_list("started", "finished"))


def max_overlap(spans: Iterable[tuple[float, float]]) -> int:
    """The most spans open at one instant; a span that ends exactly when another begins does not overlap it."""
    events: list[tuple[float, int]] = []
    for start, end in spans:
        events += [(start, 1), (end, -1)]
    events.sort()  # at one instant (end, -1) sorts before (start, 1)
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best
