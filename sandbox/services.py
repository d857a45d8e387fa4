"""Writes of the simulator: athletes and seeding, OAuth grants, uploads, subscriptions, switches, the log."""

from __future__ import annotations

import gzip
import hashlib
import logging
import random
import secrets
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Field, Model
from django.utils import timezone

from activityfiles import Verdict, classify_bytes
from sandbox import fakes, webhooks
from sandbox.errors import ApiError, authorization_error, bad_request
from sandbox.models import (
    SimActivity,
    SimAthlete,
    SimAuthCode,
    SimConfig,
    SimPushSubscription,
    SimRequestLog,
    SimSegment,
    SimSegmentEffort,
    SimToken,
    SimUpload,
)
from sandbox.selectors import uploads_due

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
DATA_TYPES = ("fit", "fit.gz", "tcx", "tcx.gz", "gpx", "gpx.gz")
# Strava's upload errors (the duplicate one is built by `duplicate_error`).
ERROR_EMPTY = "The file is empty."
ERROR_MALFORMED = "Improperly formatted data."
ERROR_NO_TIME = "Time information is missing from file."


def duplicate_error(filename: str, activity_id: int) -> str:
    return f"{filename} duplicate of activity {activity_id}"


# --- Athletes and seeding ------------------------------------------------------------------


def sim_athlete_create(
    *, firstname: str = "", lastname: str = "", username: str = "", rng: random.Random | None = None, **fields: Any
) -> SimAthlete:
    """A simulated athlete with a home, a timezone and a body; blank names are made up."""
    rng = rng or random.Random()
    made_up_first, made_up_last = fakes.random_name(rng)
    values: dict[str, Any] = {**fakes.athlete_fields(rng), **fields}
    athlete = SimAthlete.objects.create(
        firstname=firstname.strip() or made_up_first,
        lastname=lastname.strip() or made_up_last,
        username=username,
        **values,
    )
    return athlete


def sim_segments_seed(*, count: int, rng: random.Random | None = None, now: datetime | None = None) -> list[SimSegment]:
    """`count` segments spread over the cities athletes live in."""
    rng = rng or random.Random()
    now = now or timezone.now()
    segments = [fakes.segment_build(rng, city=fakes.CITIES[i % len(fakes.CITIES)], now=now) for i in range(count)]
    return SimSegment.objects.bulk_create(segments, batch_size=500)


def _unique_starts(rng: random.Random, *, athlete: SimAthlete, count: int, earliest: datetime, latest: datetime) -> list[datetime]:
    tz = ZoneInfo(athlete.timezone or "UTC")
    taken = set(SimActivity.objects.filter(athlete=athlete).values_list("start_date", flat=True))
    starts = []
    for _ in range(count):
        start = fakes.random_start(rng, tz=tz, earliest=earliest, latest=latest)
        while start in taken:
            start -= timedelta(seconds=1)
        taken.add(start)
        starts.append(start)
    return starts


def sim_activities_seed(
    athlete: SimAthlete,
    count: int,
    *,
    segments: list[SimSegment] | None = None,
    rng: random.Random | None = None,
    years: float = 3.0,
    now: datetime | None = None,
) -> list[SimActivity]:
    """`count` activities over the past `years`, with efforts on the segments near the athlete."""
    rng = rng or random.Random()
    now = (now or timezone.now()).replace(microsecond=0)  # Strava's one-second resolution
    if segments is None:
        segments = list(SimSegment.objects.all())
    segments = [s for s in segments if s.city == athlete.city] or segments
    by_type: dict[str, list[SimSegment]] = {"Ride": [], "Run": []}
    for segment in segments:
        by_type.setdefault(segment.activity_type, []).append(segment)
    weights = {kind: [s.popularity for s in pool] for kind, pool in by_type.items()}

    starts = _unique_starts(rng, athlete=athlete, count=count, earliest=now - timedelta(days=365 * years), latest=now)
    activities, efforts = [], []
    for start in starts:
        activity = fakes.activity_build(rng, athlete=athlete, start_date=start)
        pool = by_type.get(activity.type, [])
        efforts += fakes.efforts_build(rng, activity=activity, segments=pool, weights=weights.get(activity.type, []))
        activities.append(activity)
    with transaction.atomic():
        _bulk_insert(SimActivity, activities)
        for effort in efforts:
            effort.activity_id = effort.activity.pk
        _bulk_insert(SimSegmentEffort, efforts)
    return activities


def _bulk_insert[M: Model](model: type[M], objs: list[M]) -> None:
    """bulk_create, or on SQLite a plain executemany with ids assigned here: ten times faster for seeding.

    Safe because SQLite transactions here are IMMEDIATE: nobody else inserts between reading the
    highest id and writing, and AUTOINCREMENT then moves its sequence past the ids used.
    """
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "sqlite" or not objs:
        model._default_manager.bulk_create(objs, batch_size=500)  # `objects`: these models have no other manager
        return
    table, fields = model._meta.db_table, model._meta.concrete_fields
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        last = cursor.fetchone()[0]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        last = max(last, cursor.fetchone()[0])
        rows = []
        for pk, obj in enumerate(objs, start=last + 1):
            obj.pk = pk
            obj._state.adding, obj._state.db = False, connection.alias
            values = (getattr(obj, field.attname) for field in fields)
            rows.append([adapt(v) if isinstance(v, datetime) else v for v in values])
        columns = ", ".join(connection.ops.quote_name(_column(field)) for field in fields)
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


def _column(field: Field[Any, Any]) -> str:
    """A concrete field's column: Django calls a field concrete when it has one, so it is never None here."""
    if field.column is None:
        raise ValueError(f"{field.name} has no column of its own")
    return field.column


@dataclass(frozen=True)
class SeedResult:
    athletes: list[SimAthlete]
    activities: int
    segments_created: int


def sim_seed(
    *, athletes: int, activities: int, segments: int = 300, seed: int | None = None, username_prefix: str = "sim"
) -> SeedResult:
    """Athletes with years of history on a shared segment pool; running it again adds more athletes."""
    rng = random.Random(seed)
    now = timezone.now()
    missing = max(0, segments - SimSegment.objects.count())
    sim_segments_seed(count=missing, rng=rng, now=now)
    pool = list(SimSegment.objects.all())
    first = SimAthlete.objects.filter(username__startswith=username_prefix).count() + 1
    created, total = [], 0
    for number in range(first, first + athletes):
        athlete = sim_athlete_create(
            username=f"{username_prefix}{number}",
            rng=rng,
            created_at=now - timedelta(days=rng.uniform(3 * 365, 8 * 365)),
        )
        total += len(sim_activities_seed(athlete, activities, segments=pool, rng=rng, now=now))
        created.append(athlete)
    return SeedResult(athletes=created, activities=total, segments_created=missing)


# --- OAuth ----------------------------------------------------------------------------------


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


# --- Uploads --------------------------------------------------------------------------------


def upload_create(
    *,
    token: SimToken,
    data: bytes,
    filename: str,
    data_type: str,
    name: str = "",
    description: str = "",
    trainer: bool | None = None,
    commute: bool | None = None,
    external_id: str = "",
) -> SimUpload:
    """Accept a file for processing after SANDBOX_UPLOAD_DELAY; the same bytes again are a duplicate at once."""
    if data_type not in DATA_TYPES:
        raise bad_request("Upload", "data_type")
    now = timezone.now()
    sha256 = hashlib.sha256(data).hexdigest()
    upload = SimUpload(
        athlete_id=token.athlete_id,
        client_id=token.client_id,
        filename=filename,
        data_type=data_type,
        sha256=sha256,
        size=len(data),
        data=data,
        name=name,
        description=description,
        trainer=trainer,
        commute=commute,
        external_id=external_id or filename,
        created_at=now,
        process_after=now + timedelta(seconds=settings.SANDBOX_UPLOAD_DELAY),
    )
    earlier = SimUpload.objects.filter(
        athlete_id=token.athlete_id, sha256=sha256, state=SimUpload.State.READY, activity_id__isnull=False
    ).values("activity_id")
    original = SimActivity.objects.filter(pk__in=earlier).order_by("id").values_list("pk", flat=True).first()
    if original is not None:
        upload.state, upload.error = SimUpload.State.ERROR, duplicate_error(filename, original)
        upload.data, upload.processed_at = b"", now
    upload.save()
    return upload


def _classify(data: bytes) -> Verdict | None:
    """The neutral file readers' verdict; None means the file could not be read."""
    try:
        return classify_bytes(data)
    except Exception:  # a reader bug must not wedge the simulator: the upload fails instead
        log.exception("sandbox: the classifier raised")
        return None


def _sport(verdict_sport: str | None) -> str:
    sport = (verdict_sport or "").lower()
    if "virtual" in sport:
        return "VirtualRide"
    if "run" in sport:
        return "Run"
    if "swim" in sport:
        return "Swim"
    if "walk" in sport or "hik" in sport:
        return "Walk"
    return "Ride"


@dataclass(frozen=True)
class _Outcome:
    error: str = ""
    start: datetime | None = None
    sport: str = "Ride"


def _upload_read(upload: SimUpload) -> _Outcome:
    if SimConfig.load().fail_uploads:
        return _Outcome(error=ERROR_MALFORMED)
    data = bytes(upload.data)
    if upload.data_type.endswith(".gz") and data:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return _Outcome(error=ERROR_MALFORMED)
    if not data.strip():
        return _Outcome(error=ERROR_EMPTY)
    verdict = _classify(data)
    if verdict is None or verdict.status != "eligible":
        return _Outcome(error=ERROR_MALFORMED)
    if verdict.start_time is None:
        return _Outcome(error=ERROR_NO_TIME)
    start = verdict.start_time.astimezone(UTC).replace(microsecond=0)
    return _Outcome(start=start, sport=_sport(verdict.sport))


def _activity_from_upload(upload: SimUpload, *, start: datetime, sport: str) -> SimActivity:
    rng = random.Random(upload.sha256)
    athlete = upload.athlete
    activity = fakes.activity_build(
        rng, athlete=athlete, start_date=start, sport=sport, trainer=bool(upload.trainer), commute=bool(upload.commute)
    )
    activity.type = activity.sport_type = sport  # the file's sport, not a made-up variant
    local = start.astimezone(ZoneInfo(activity.timezone))
    activity.name = upload.name or fakes.default_name(activity.sport_type, local)
    activity.description = upload.description
    activity.external_id = upload.external_id
    activity.upload_id = upload.pk
    activity.manual = activity.private = False
    activity.visibility = "everyone"
    activity.kudos_count = activity.comment_count = 0
    pool = list(SimSegment.objects.filter(activity_type=activity.type, city=athlete.city))
    efforts = fakes.efforts_build(rng, activity=activity, segments=pool, weights=[s.popularity for s in pool])
    activity.save()
    SimSegmentEffort.objects.bulk_create(efforts)
    return activity


def _upload_process(upload_id: int) -> None:
    with transaction.atomic():
        upload = (
            SimUpload.objects.select_for_update(of=("self",))
            .select_related("athlete")
            .filter(pk=upload_id, state=SimUpload.State.PROCESSING)
            .first()
        )
        if upload is None:  # another request processed it first
            return
        outcome = _upload_read(upload)
        activity = None
        start = outcome.start
        if not outcome.error and start is not None:
            existing = (
                SimActivity.objects.filter(athlete_id=upload.athlete_id, start_date=start)
                .values_list("pk", flat=True)
                .first()
            )
            if existing is not None:
                outcome = _Outcome(error=duplicate_error(upload.filename, existing))
            else:
                activity = _activity_from_upload(upload, start=start, sport=outcome.sport)
        upload.state = SimUpload.State.ERROR if activity is None else SimUpload.State.READY
        upload.error = outcome.error
        upload.activity_id = activity.pk if activity else None
        upload.data, upload.processed_at = b"", timezone.now()
        upload.save()
        if activity is not None:
            webhooks.event_send(
                client_id=upload.client_id,
                object_type="activity",
                object_id=activity.pk,
                aspect_type="create",
                owner_id=upload.athlete_id,
            )


def uploads_process_due(*, athlete_id: int, now: datetime | None = None) -> int:
    """Process, oldest first, the athlete's uploads whose delay has passed (lazily, when they are read)."""
    due = list(uploads_due(athlete_id=athlete_id, now=now).values_list("pk", flat=True))
    for upload_id in due:
        _upload_process(upload_id)
    return len(due)


def sim_activity_delete(*, activity_id: int) -> bool:
    """Delete an activity as its owner would on strava.com; its upload then reads 'deleted'."""
    activity = SimActivity.objects.filter(pk=activity_id).first()
    if activity is None:
        return False
    client_ids = set(
        SimToken.objects.filter(athlete_id=activity.athlete_id, revoked_at__isnull=True).values_list("client_id", flat=True)
    )
    with transaction.atomic():
        activity.delete()
        for client_id in client_ids:
            webhooks.event_send(
                client_id=client_id,
                object_type="activity",
                object_id=activity_id,
                aspect_type="delete",
                owner_id=activity.athlete_id,
            )
    return True


# --- Push subscriptions ---------------------------------------------------------------------


def push_subscription_create(*, client_id: str, callback_url: str, verify_token: str) -> SimPushSubscription:
    """One per application; the callback must pass the handshake first."""
    if SimPushSubscription.objects.filter(client_id=client_id).exists():
        raise bad_request("PushSubscription", "", "already exists")
    if not callback_url:
        raise bad_request("PushSubscription", "callback_url", "empty")
    if not webhooks.handshake(callback_url=callback_url, verify_token=verify_token):
        raise bad_request("PushSubscription", "callback url", "not verifiable")
    try:
        with transaction.atomic():
            return SimPushSubscription.objects.create(client_id=client_id, callback_url=callback_url, verify_token=verify_token)
    except IntegrityError:
        raise bad_request("PushSubscription", "", "already exists") from None


def push_subscription_delete(*, client_id: str, subscription_id: int) -> None:
    deleted, _ = SimPushSubscription.objects.filter(pk=subscription_id, client_id=client_id).delete()
    if not deleted:
        raise ApiError(404, "Record Not Found", [{"resource": "PushSubscription", "field": "id", "code": "invalid"}])


# --- Switches and the request log -----------------------------------------------------------


def sim_config_update(
    *,
    error_rate: float | None = None,
    slow_seconds: float | None = None,
    slow_rate: float | None = None,
    drop_rate: float | None = None,
    inactive: bool | None = None,
    fail_uploads: bool | None = None,
) -> SimConfig:
    config = SimConfig.load()
    changes = {
        "error_rate": error_rate,
        "slow_seconds": slow_seconds,
        "slow_rate": slow_rate,
        "drop_rate": drop_rate,
        "inactive": inactive,
        "fail_uploads": fail_uploads,
    }
    for field, value in changes.items():
        if value is not None:
            setattr(config, field, value)
    config.save()
    return config


def sim_config_reset() -> SimConfig:
    SimConfig.objects.filter(pk=1).delete()
    return SimConfig.load()


def sim_request_log(
    *, client_id: str, athlete_id: int | None, method: str, path: str, query: str, status: int, duration_ms: float
) -> SimRequestLog:
    return SimRequestLog.objects.create(
        client_id=client_id or "",
        athlete_id=athlete_id,
        method=method,
        path=path[:255],
        query=query,
        status=status,
        created_at=timezone.now(),
        duration_ms=round(duration_ms, 2),
    )
