"""Reads for the athlete's dashboard and the operator's sync page (states and counts, never activities)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Athlete
from garmin.selectors import garmin_status
from segments.selectors import segments_without_details
from stravasync.strava import quota
from stravasync.strava.quota import Kind, Priority
from uploads.models import Upload
from warehouse.models import Activity, SyncState

from .waits import GARMIN_SIGNIN, INACTIVE, RECONNECT, clock, finish_estimate, pull_failed_wait, quota_wait

S = Upload.Status
UPLOADS_IN_PROGRESS = (S.RECEIVED, S.QUEUED, S.UPLOADING, S.PROCESSING)
UPLOADS_NEEDING_CALLS = (S.QUEUED, S.UPLOADING, S.PROCESSING)


@dataclass
class Stage:
    """One line of the dashboard: what is left, when it could be done, and why it waits."""

    key: str
    label: str
    count: int
    detail: str = ""
    finish: datetime | None = None
    wait: str | None = None


@dataclass
class DashboardStatus:
    stages: list[Stage]
    failed_uploads: list[Upload]
    failed_total: int
    reasons: list[str] = field(default_factory=list)  # waits that stop everything for this athlete
    activities: int = 0


def _share(mine: int, everyone: QuerySet) -> int:
    """Calls until the athlete's part is done: athletes with work of one stage take turns (fair share)."""
    if mine <= 0:
        return 0
    athletes = everyone.values("athlete").distinct().count() or 1
    return max(mine, min(everyone.count(), mine * athletes))


def _stage(snapshot: dict, *, key: str, label: str, count: int, calls: int, priority: Priority, kind: Kind,
           detail: str = "", blocked: str | None = None) -> Stage:
    stage = Stage(key=key, label=label, count=count, detail=detail)
    if calls <= 0:
        return stage
    stage.wait = blocked or quota_wait(snapshot=snapshot, priority=priority, kind=kind)
    if blocked is None and stage.wait != INACTIVE:
        stage.finish = finish_estimate(calls=calls, priority=priority, kind=kind)
    return stage


def _garmin_detail(garmin: dict) -> str:
    """Garmin's line: its state, the last check and its error, what waits and what failed."""
    parts = [f"{garmin['state']}", f"{garmin['backlog']} waiting"]
    if garmin["failed"]:
        parts.append(f"{garmin['failed']} failed (retry on the Garmin page)")
    parts.append(f"last check {clock(garmin['last_check_at'])}" if garmin["last_check_at"] else "not checked yet")
    if garmin["last_error"]:
        parts.append(f"last error: {garmin['last_error']}")
    return " · ".join(parts)


def dashboard_status(*, athlete: Athlete) -> DashboardStatus:
    """The athlete's uploads, warehouse and segments still to do, with estimated finishes and waits."""
    snapshot = quota.quota_snapshot()
    reasons = []
    blocked = None
    if athlete.needs_reconnect:
        blocked = RECONNECT
        reasons.append(RECONNECT)
    if snapshot["state"].inactive_since is not None:
        reasons.append(INACTIVE)
    garmin = garmin_status(athlete=athlete)
    if garmin.get("needs_signin"):
        reasons.append(GARMIN_SIGNIN)

    uploads = Upload.objects.filter(athlete=athlete)
    in_progress = uploads.filter(status__in=UPLOADS_IN_PROGRESS).count()
    everyone_uploads = Upload.objects.filter(status__in=UPLOADS_NEEDING_CALLS)
    my_upload_calls = uploads.filter(status__in=UPLOADS_NEEDING_CALLS).count()
    failed = uploads.filter(status=S.FAILED).order_by("-id")
    stages = [_stage(snapshot, key="uploads", label="Uploads in progress", count=in_progress,
                     calls=_share(my_upload_calls, everyone_uploads), priority=Priority.UPLOAD, kind=Kind.WRITE,
                     blocked=blocked)]

    sync = SyncState.objects.filter(athlete=athlete).first()
    history_done = sync is not None and sync.backfill_done
    detail = "complete" if history_done else "still being fetched"
    if sync is not None and not history_done and sync.backfill_cursor:
        detail = f"still being fetched (back to {sync.backfill_cursor:%d %b %Y} so far)"
    history = _stage(snapshot, key="history", label="Activity history", count=0 if history_done else 1,
                     calls=0 if history_done else 1, priority=Priority.PULL, kind=Kind.READ, detail=detail,
                     blocked=blocked)
    activities = Activity.objects.filter(athlete=athlete).count()
    if sync is not None and sync.last_error and history.wait is None and blocked is None:
        # Strava failed the pull (a 5xx, a timeout) while the quota is fine: say so, and when it is tried again.
        history.wait = pull_failed_wait(last_error=sync.last_error, retry_at=sync.not_before, now=timezone.now(),
                                        first=activities == 0)
        if activities == 0:
            reasons.append(history.wait)  # a person who just signed in sees nothing else yet
    stages.append(history)

    everyone_details = Activity.objects.filter(detail_fetched_at__isnull=True, athlete__needs_reconnect=False)
    my_details = Activity.objects.filter(athlete=athlete, detail_fetched_at__isnull=True).count()
    stages.append(_stage(snapshot, key="details", label="Activity details to fetch", count=my_details,
                         calls=_share(my_details, everyone_details), priority=Priority.ENRICH, kind=Kind.READ,
                         blocked=blocked))

    my_segments = segments_without_details(athlete=athlete).count()
    # Segments are shared: the whole segment backlog goes before the last of the athlete's.
    all_segments = segments_without_details().count()
    stages.append(_stage(snapshot, key="segments", label="Segments to fetch", count=my_segments,
                         calls=all_segments if my_segments else 0, priority=Priority.BACKFILL, kind=Kind.READ,
                         blocked=blocked))
    if garmin["connected"]:
        # Garmin downloads take no Strava permit: their wait is Garmin's pace, not the quota.
        stages.append(Stage(
            key="garmin", label="Garmin activities to bring over", count=garmin["backlog"],
            detail=_garmin_detail(garmin),
            wait=GARMIN_SIGNIN if garmin.get("needs_signin") else (
                f"Garmin asked us to slow down; resumes at {clock(garmin['backoff_until'])}"
                if garmin["backoff_until"] and garmin["backlog"] else None),
        ))
    return DashboardStatus(
        stages=stages, failed_uploads=list(failed[:20]), failed_total=failed.count(), reasons=reasons,
        activities=activities,
    )
