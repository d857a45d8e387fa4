"""Writes for Garmin Connect: connect and disconnect, and the check that brings new Garmin
activities to Strava through the same ingest as a browser upload.

A check lists the athlete's Garmin activities since the newest one seen (re-listing the last days,
where late syncs land), records each once, and for each new one decides with no Strava call:
came from Strava (never sent back), already on Strava (the warehouse holds an activity within
±2 minutes with a compatible sport), or download the original and hand it to the uploads, where
the sweep, the quota, the confirmer and the batch report take over.
"""

from __future__ import annotations

import io
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from garminconnect import (
    GarminConnectAuthenticationError,
    GarminConnectConnectionError,
    GarminConnectTooManyRequestsError,
)

from accounts.models import Athlete
from activityfiles.sports import sports_compatible, xml_sport
from uploads.models import UploadBatch
from uploads.services import batch_create, batch_refresh, upload_ingest
from warehouse.models import Activity

from .connect import garmin_api
from .models import GarminActivity, GarminConnection
from .pacing import GarminBackingOff, pacer_backoff_until

log = logging.getLogger(__name__)
MATCH_WINDOW = timedelta(minutes=2)
S = GarminActivity.State


# --- connecting ------------------------------------------------------------------------------


def garmin_connect(*, athlete: Athlete, tokens: str) -> GarminConnection:
    """Keep the session tokens of a sign-in; the first check is due at once."""
    connection, _ = GarminConnection.objects.update_or_create(
        athlete=athlete,
        defaults={"tokens": tokens, "status": GarminConnection.Status.CONNECTED, "last_error": "",
                  "next_check_at": timezone.now(), "lease_until": None},
    )
    return connection


def garmin_disconnect(*, athlete: Athlete) -> bool:
    """Forget the session (its tokens go with the row); the record of activities handled stays, so a
    later connection never downloads them again."""
    deleted, _ = GarminConnection.objects.filter(athlete=athlete).delete()
    return bool(deleted)


def garmin_backfill_request(*, athlete: Athlete, since: date) -> bool:
    """Ask for the athlete's Garmin history since `since`: the next check lists that far back, soon."""
    return bool(GarminConnection.objects.filter(athlete=athlete, status=GarminConnection.Status.CONNECTED).update(
        backfill_since=since, next_check_at=timezone.now()))


def garmin_activity_retry(*, athlete: Athlete, garmin_id: int) -> bool:
    """A failed activity goes back in line with fresh attempts, and the next check comes soon."""
    retried = GarminActivity.objects.filter(athlete=athlete, garmin_id=garmin_id, state=S.FAILED).update(
        state=S.NEW, attempts=0, reason="")
    if retried:
        garmin_check_soon(athlete=athlete)
    return bool(retried)


def garmin_check_soon(*, athlete: Athlete) -> bool:
    """The athlete's next check is due now (the dispatcher hands it out at its next tick)."""
    return bool(GarminConnection.objects.filter(athlete=athlete, status=GarminConnection.Status.CONNECTED).update(
        next_check_at=timezone.now()))


# --- the check -------------------------------------------------------------------------------


@dataclass
class CheckResult:
    listed: int = 0
    new: int = 0
    on_strava: int = 0
    from_strava: int = 0
    downloaded: int = 0
    failed: int = 0
    backlog: int = 0
    would_download: list[int] = field(default_factory=list)
    batch_id: int | None = None
    error: str = ""
    skipped: str = ""


def _lease_take(connection_id: int, now: datetime) -> datetime | None:
    """The lease's end if we took it (a conditional UPDATE), else None."""
    free = GarminConnection.objects.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now), pk=connection_id,
                                           status=GarminConnection.Status.CONNECTED)
    until = now + timedelta(seconds=settings.GARMIN_JOB_LEASE)
    return until if free.update(lease_until=until) == 1 else None


def garmin_check(*, athlete_id: int, since: date | None = None, dry_run: bool = False,
                 lease: datetime | None = None, progress: Any = None) -> CheckResult:
    """One check of the athlete's Garmin account (one job per athlete at a time: a lease on the row).

    `lease` is the lease the dispatcher took for us: the check runs only while the row still holds
    exactly it, so a task delivered twice, or after its lease was given back, does nothing.
    `progress(done, total)` is told of each activity decided, for the command line's bar.
    """
    result = CheckResult()
    connection = GarminConnection.objects.filter(athlete_id=athlete_id).first()
    if connection is None or connection.status != GarminConnection.Status.CONNECTED:
        result.skipped = "Garmin is not connected" if connection is None else "Garmin needs you to sign in again"
        return result
    now = timezone.now()
    if lease is not None:
        if connection.lease_until != lease:
            result.skipped = "this check's lease is gone (done already, or expired)"
            return result
    elif not _lease_take(connection.pk, now):
        result.skipped = "another check of this athlete is running"
        return result
    api = None
    next_check = now + _interval()
    try:
        api = garmin_api(connection.tokens)
        listing_from = _listing_start(connection, since)
        _record_listing(connection, api.get_activities_by_date(listing_from.isoformat(),
                                                               (timezone.now().date() + timedelta(days=1)).isoformat()),
                        result)
        _decide(connection, api, result, dry_run=dry_run, progress=progress)
        result.backlog = GarminActivity.objects.filter(athlete_id=athlete_id, state=S.NEW).count()
        if result.backlog and not dry_run:
            next_check = timezone.now() + timedelta(seconds=settings.GARMIN_BACKLOG_RECHECK)
        fields: dict[str, Any] = {"last_error": "", "last_success_at": timezone.now()}
        if since is None and connection.backfill_since is not None and not dry_run:
            fields["backfill_since"] = None
        GarminConnection.objects.filter(pk=connection.pk).update(**fields)
    except GarminConnectAuthenticationError:
        result.error = "Garmin needs you to sign in again"
        _needs_signin(connection.pk)
        api = None  # its tokens are dead: nothing to save
    except (GarminBackingOff, GarminConnectTooManyRequestsError):
        until = pacer_backoff_until() or timezone.now() + timedelta(seconds=settings.GARMIN_BACKOFF_MIN)
        result.error = f"Garmin asked us to slow down; the next check after {until:%H:%M} UTC"
        next_check = until + timedelta(seconds=random.uniform(0, 60))  # spread the resumption
    except (GarminConnectConnectionError, TimeoutError, OSError, ValueError, KeyError, TypeError) as exc:
        # Nothing a Garmin answer holds may crash a worker: the reason is kept and the next check tries again.
        result.error = f"Garmin check failed: {_short(exc)}"
        log.warning("Garmin check of athlete %s failed: %s", athlete_id, _short(exc))
    finally:
        _job_end(connection, api, next_check=next_check, error=result.error)
    return result


def _interval() -> timedelta:
    """The time to the next check: the interval ±10 %, so athletes spread out over it."""
    return timedelta(seconds=settings.GARMIN_CHECK_INTERVAL * random.uniform(0.9, 1.1))


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:300]


def _listing_start(connection: GarminConnection, since: date | None) -> date:
    relist = timedelta(days=settings.GARMIN_RELIST_DAYS)
    start = since or connection.backfill_since
    if start is None:
        newest = connection.newest_start
        start = (newest - relist).date() if newest else (timezone.now() - relist).date()
    return start


def _needs_signin(connection_id: int) -> None:
    GarminConnection.objects.filter(pk=connection_id).update(
        status=GarminConnection.Status.NEEDS_SIGNIN, tokens="", last_error="Garmin needs you to sign in again")


def _job_end(connection: GarminConnection, api: Any, *, next_check: datetime, error: str) -> None:
    """Save the (rotated) tokens, give back the lease and set the next check, whatever happened."""
    fields: dict[str, Any] = {"lease_until": None, "last_check_at": timezone.now(), "next_check_at": next_check}
    if error:
        fields["last_error"] = error[:500]
    if api is not None:
        tokens = api.client.dumps()
        if json.loads(tokens).get("di_refresh_token") and tokens != connection.tokens:
            fields["tokens"] = tokens
            fields["refreshes"] = connection.refreshes + 1
    # Not for a connection meanwhile disconnected or marked: those rows keep what they say.
    GarminConnection.objects.filter(pk=connection.pk, status=GarminConnection.Status.CONNECTED).update(**fields)
    GarminConnection.objects.filter(pk=connection.pk).update(lease_until=None, last_check_at=fields["last_check_at"])


def _parse_start(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def came_from_strava(item: dict[str, Any]) -> bool:
    """Garmin lists activities other services sent it; one whose origin is Strava must not go back."""
    manufacturer = str(item.get("manufacturer") or "").upper()
    return manufacturer == "STRAVA"


def _record_listing(connection: GarminConnection, items: Any, result: CheckResult) -> None:
    """Record each listed activity once (known ids are left as they are)."""
    rows, newest = [], connection.newest_start
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("activityId"), int):
            continue
        start = _parse_start(item.get("startTimeGMT"))
        type_key = str((item.get("activityType") or {}).get("typeKey") or "") if isinstance(
            item.get("activityType"), dict) else ""
        sport, _trainer = xml_sport(type_key)
        from_strava = came_from_strava(item)
        rows.append(GarminActivity(
            athlete_id=connection.athlete_id, garmin_id=item["activityId"], name=str(item.get("activityName") or "")[:300],
            start_time=start, type_key=type_key[:60], sport=(sport or "")[:40],
            state=S.FROM_STRAVA if from_strava else S.NEW, handled_at=timezone.now() if from_strava else None,
            reason="uploaded to Garmin from Strava: not sent back" if from_strava else "",
        ))
        if start and (newest is None or start > newest):
            newest = start
    result.listed = len(rows)
    known = set(GarminActivity.objects.filter(athlete_id=connection.athlete_id,
                                              garmin_id__in=[r.garmin_id for r in rows]).values_list("garmin_id",
                                                                                                     flat=True))
    fresh = [r for r in rows if r.garmin_id not in known]
    GarminActivity.objects.bulk_create(fresh, ignore_conflicts=True)
    result.new = len(fresh)
    result.from_strava = sum(1 for r in fresh if r.state == S.FROM_STRAVA)
    if newest != connection.newest_start:
        GarminConnection.objects.filter(pk=connection.pk).update(newest_start=newest)


def strava_match(*, athlete_id: int, start: datetime | None, sport: str) -> int | None:
    """The Strava id of a warehouse activity that is this one (start ±2 min, compatible sport); no API call."""
    if start is None:
        return None
    # Only what Strava has: an activity the warehouse knows from a file alone (strava_id null) still needs sending.
    near = Activity.objects.filter(athlete_id=athlete_id, strava_id__isnull=False, start_date__gte=start - MATCH_WINDOW,
                                   start_date__lte=start + MATCH_WINDOW).values_list("strava_id", "sport_type")
    for strava_id, sport_type in near:
        if strava_id is not None and sports_compatible(sport, sport_type):
            return strava_id
    return None


def _decide(connection: GarminConnection, api: Any, result: CheckResult, *, dry_run: bool, progress: Any) -> None:
    """Settle the waiting activities, oldest first, downloading at most GARMIN_DOWNLOADS_PER_CYCLE."""
    waiting = list(GarminActivity.objects.filter(athlete_id=connection.athlete_id, state=S.NEW)
                   .order_by("start_time", "garmin_id"))
    batch: UploadBatch | None = None
    downloads = 0
    try:
        for done, activity in enumerate(waiting, start=1):
            match = strava_match(athlete_id=connection.athlete_id, start=activity.start_time, sport=activity.sport)
            if match is not None:
                result.on_strava += 1
                if not dry_run:
                    GarminActivity.objects.filter(pk=activity.pk).update(
                        state=S.ON_STRAVA, strava_activity_id=match, handled_at=timezone.now(),
                        reason=f"already on Strava (activity {match})")
            elif dry_run:
                result.would_download.append(activity.garmin_id)
            elif downloads < settings.GARMIN_DOWNLOADS_PER_CYCLE:
                downloads += 1
                batch = batch or batch_create(athlete=connection.athlete, source=UploadBatch.Source.GARMIN,
                                              label=f"Garmin Connect, {timezone.now():%Y-%m-%d %H:%M}")
                _download_and_ingest(api, activity, batch, result)
            if progress is not None:
                progress(done, len(waiting))
    finally:
        if batch is not None:
            result.batch_id = batch.pk
            batch_refresh(batch_id=batch.pk)


def _download_and_ingest(api: Any, activity: GarminActivity, batch: UploadBatch, result: CheckResult) -> None:
    """Download the original (a zip holding the FIT) and hand it to the uploads; failures count an attempt."""
    try:
        data = api.download_activity(str(activity.garmin_id), dl_fmt=api.ActivityDownloadFormat.ORIGINAL)
        if not isinstance(data, bytes | bytearray) or not data:
            raise ValueError("Garmin sent an empty file")
    except (GarminConnectAuthenticationError, GarminConnectTooManyRequestsError, GarminBackingOff):
        raise  # the whole check stops: the session or the pace is at fault, not this activity
    except Exception as exc:  # whatever one download does, the others go on
        attempts = activity.attempts + 1
        final = attempts >= settings.GARMIN_MAX_ATTEMPTS
        GarminActivity.objects.filter(pk=activity.pk).update(
            attempts=attempts, state=S.FAILED if final else S.NEW,
            reason=f"download failed ({attempts} of {settings.GARMIN_MAX_ATTEMPTS}): {_short(exc)}")
        result.failed += 1
        return
    upload_ingest(batch=batch, name=f"garmin-{activity.garmin_id}.zip", stream=io.BytesIO(bytes(data)), refresh=False)
    GarminActivity.objects.filter(pk=activity.pk).update(
        state=S.SENT, attempts=activity.attempts + 1, upload_batch=batch, handled_at=timezone.now(), reason="")
    result.downloaded += 1


# --- the dispatcher's step -------------------------------------------------------------------


def garmin_checks_dispatch(*, inline: bool = False) -> int:
    """Dispatcher step: hand the connections whose check is due to workers, at most GARMIN_CONCURRENT_JOBS at once.

    Checks run one per athlete (the lease) and their requests one at a time (the pacer); the oldest
    due goes first, and each check downloads at most GARMIN_DOWNLOADS_PER_CYCLE, so one athlete's
    long backlog never starves another's.
    """
    now = timezone.now()
    if pacer_backoff_until() is not None:
        return 0
    busy = GarminConnection.objects.filter(lease_until__gte=now).count()
    room = settings.GARMIN_CONCURRENT_JOBS - busy
    if room <= 0:
        return 0
    due = (GarminConnection.objects.filter(
        Q(next_check_at__isnull=True) | Q(next_check_at__lte=now),
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        status=GarminConnection.Status.CONNECTED, athlete__disconnected_at__isnull=True,
    ).order_by("next_check_at", "pk").values_list("pk", "athlete_id")[:room])
    handed = 0
    for pk, athlete_id in due:
        lease = _lease_take(pk, now)
        if lease is None:
            continue
        handed += 1
        if inline:
            garmin_check(athlete_id=athlete_id, lease=lease)
        else:
            from django_q.tasks import async_task

            async_task("garmin.tasks.garmin_check", athlete_id, lease.isoformat(),
                       task_name=f"garmin check athlete {athlete_id}")
    return handed
