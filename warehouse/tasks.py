"""django-q2 entry points: load by id, call a service. Safe to run twice or never: the rows are the queue."""

from __future__ import annotations

from stravasync.strava.errors import StravaError

from . import services
from .models import SyncRun
from .strava_export import ExportError


def pull_page(athlete_id: int, grant: dict | None = None) -> None:
    """One page of an athlete's pull, with the permit the dispatcher took."""
    services.pull_claimed(athlete_id=athlete_id, grant=grant)


def enrich_activity(activity_id: int, grant: dict | None = None) -> bool:
    """One activity's detail call, with the permit the dispatcher took."""
    return services.enrich_claimed(activity_id=activity_id, grant=grant)


def pull_athlete(athlete_id: int, full: bool = False) -> dict:
    """A whole pull through the quota at priority pull; stops (state saved) when the quota says wait."""
    try:
        result = services.activities_pull(athlete_id=athlete_id, full=full, pull_now=True, trigger=SyncRun.Trigger.TASK)
    except StravaError as exc:
        return {"stopped": exc.message or type(exc).__name__}
    return {"calls": result.calls, "created": result.created, "updated": result.updated, "done": result.done}


def enrich_athlete(athlete_id: int, limit: int | None = None) -> dict:
    """Enrich an athlete's backlog through the quota at priority enrich; stops when the quota says wait."""
    try:
        fetched, failed, _run = services.activities_enrich(athlete_id=athlete_id, limit=limit, trigger=SyncRun.Trigger.TASK)
    except StravaError as exc:
        return {"stopped": exc.message or type(exc).__name__}
    return {"fetched": fetched, "failed": failed}


def import_export(athlete_id: int, name: str) -> dict:
    """Import an uploaded export zip by its storage name (no call); the archive is deleted after."""
    try:
        result = services.export_import_stored(athlete_id=athlete_id, name=name, trigger=SyncRun.Trigger.WEB)
    except ExportError as exc:
        return {"error": str(exc)}
    return {"created": result.created, "filled": result.filled, "skipped": result.skipped}
