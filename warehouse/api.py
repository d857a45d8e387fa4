"""`/api/sync/`: "Sync now" for scripts and the page (POST), and the athlete's audit log of sync runs (GET)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_http_methods

from accounts.selectors import athlete_of_request
from stravasync.strava import quota
from stravasync.strava.errors import RateLimited, ReconnectNeeded, StravaError, SubscriptionInactive, Unauthorized

from . import selectors
from .models import SyncRun
from .services.interactive import SyncBusy, activities_sync_now, sync_queue


def rate_limit_summary() -> dict[str, Any]:
    """Used and remaining per 15 minutes and per day (overall and reads), and seconds to each reset."""
    status = quota.quota_status()
    snap = {}
    for kind in ("overall", "read"):
        limits, usage = status["limits"][kind], status["usage"][kind]
        snap[kind] = {
            "window": {"limit": limits["window"], "used": usage["window"],
                       "remaining": max(0, limits["window"] - usage["window"])},
            "daily": {"limit": limits["daily"], "used": usage["daily"],
                      "remaining": max(0, limits["daily"] - usage["daily"])},
        }
    return {
        **snap,
        "window_resets_at": status["window_resets_at"],
        "window_resets_in": round(quota.seconds_until(datetime.fromisoformat(status["window_resets_at"]))),
        "day_resets_at": status["day_resets_at"],
        "day_resets_in": round(quota.seconds_until(datetime.fromisoformat(status["day_resets_at"]))),
        "subscription_inactive": status["subscription_inactive"],
    }


def _run_json(run: SyncRun) -> dict[str, Any]:
    return {
        "id": run.pk, "kind": run.kind, "trigger": run.trigger, "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None, "calls": run.calls,
        "pages": run.pages, "new": run.created, "updated": run.updated, "error": run.error,
    }


def _refused(status: int, reason: str, detail: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"ok": False, "reason": reason, "detail": detail, **extra,
                         "rate_limit": rate_limit_summary()}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sync(request: HttpRequest) -> JsonResponse:
    """POST: pull what is new now, at priority interactive. GET: the athlete's recent sync runs."""
    athlete = athlete_of_request(request)
    if request.method == "GET":
        runs = selectors.sync_runs_recent(athlete=athlete)
        return JsonResponse({"runs": [_run_json(run) for run in runs], "rate_limit": rate_limit_summary()})
    try:
        result = activities_sync_now(athlete_id=athlete.pk)
    except SyncBusy as exc:
        return _refused(409, "busy", str(exc))
    except RateLimited as exc:
        # As the page's form does: the pull is queued, and the dispatcher takes it when the window reopens.
        sync_queue(athlete_id=athlete.pk)
        wait = round(quota.seconds_until(exc.retry_at))
        response = _refused(429, "rate_limited", f"Strava's quota is spent for now: your pull is queued; "
                            f"it goes by itself, or try again in {wait} s.",
                            retry_at=exc.retry_at.isoformat(), retry_after=wait, queued=True)
        response["Retry-After"] = str(max(1, wait))
        return response
    except SubscriptionInactive as exc:
        return _refused(503, "inactive", f"Strava says this application is inactive: {exc.message or 'Inactive'}")
    except (ReconnectNeeded, Unauthorized) as exc:
        return _refused(409, "reconnect", f"Reconnect Strava to continue ({exc.message or type(exc).__name__}).")
    except StravaError as exc:
        sync_queue(athlete_id=athlete.pk)
        return _refused(502, "strava_error", f"Strava answered an error ({exc.message or type(exc).__name__}): "
                        "your pull is queued and the background sync tries again.", queued=True)
    return JsonResponse({
        "ok": True, "run_id": result.run_id, "new": result.created, "updated": result.updated,
        "pages": result.pages, "calls": result.calls, "complete": result.done,
        "rate_limit": rate_limit_summary(),
    })
