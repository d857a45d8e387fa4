"""Warehouse pages. Every query goes through the signed-in athlete: another athlete's activity is a 404."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.selectors import athlete_of_request
from stravasync.redirects import redirect_next
from stravasync.strava.errors import RateLimited, StravaError

from . import charts, selectors, services
from .forms import ExportUploadForm, FilterForm
from .models import Activity, SyncRun
from .routes import polyline_decode, route_drawing
from .services.analytics_export import FORMATS as ANALYTICS_FORMATS
from .services.analytics_export import export_folder, warehouse_export
from .services.interactive import SyncBusy, activities_sync_now, sync_queue
from .signals import efforts_reader

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _activity(request: HttpRequest, strava_id: int) -> Activity:
    activity = selectors.activity_for(athlete=athlete_of_request(request), strava_id=strava_id)
    if activity is None:
        raise Http404("No such activity of yours")
    return activity


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page") or "1"
    return int(value) if value.isdigit() else 1


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    athlete = athlete_of_request(request)
    form = FilterForm(request.GET or None)
    filters = form.filters()
    page = selectors.activity_list_page(athlete=athlete, filters=filters, page=_page_number(request))
    query = urlencode(filters.as_query())
    context = {
        "athlete": athlete,
        "form": form,
        "filters": filters,
        "query": query,
        "sports": selectors.sports_for(athlete=athlete),
        "sorts": [("-start_date", "newest"), ("start_date", "oldest"), ("-distance", "longest"),
                  ("-moving_time", "most time"), ("-total_elevation_gain", "most climbing")],
        "status": selectors.sync_status(athlete=athlete, total=None if filters.filtered else page["total"]),
        **page,
    }
    return render(request, "warehouse/activities.html", context)


def _splits(activity: Activity) -> list[dict[str, Any]]:
    detail = activity.detail or {}
    splits = [s for s in detail.get("splits_metric") or [] if isinstance(s, dict)]
    speeds = [s.get("average_speed") or 0.0 for s in splits]
    low, high = min(speeds, default=0.0), max(speeds, default=0.0)
    # Bars from 30 % (slowest split) to 100 % (fastest): the differences show, no bar vanishes.
    return [{**s, "share": round(30 + 70 * ((v - low) / (high - low))) if high > low else 100}
            for s, v in zip(splits, speeds, strict=True)]


def _efforts(activity: Activity) -> tuple[Any, str]:
    """The activity's segment efforts: the segments app's, when it registered a reader; else those in the detail."""
    reader = efforts_reader()
    if reader is not None:
        efforts: Any = reader(activity=activity)
    else:
        efforts = [e for e in (activity.detail or {}).get("segment_efforts") or [] if isinstance(e, dict)]
    template = select_template(["segments/_activity_efforts.html", "warehouse/_efforts.html"]).template.name
    return efforts, template


@login_required
def activity_page(request: HttpRequest, strava_id: int) -> HttpResponse:
    return _activity_render(request, _activity(request, strava_id))


@login_required
def file_activity_page(request: HttpRequest, pk: int) -> HttpResponse:
    """An activity known only from the athlete's own file; once Strava has it, its page is by Strava's id."""
    activity = selectors.file_activity_for(athlete=athlete_of_request(request), pk=pk)
    if activity is None:
        moved = Activity.objects.filter(athlete=athlete_of_request(request), pk=pk).first()
        if moved is None:
            raise Http404("No such activity of yours")
        return redirect(moved.get_absolute_url())
    return _activity_render(request, activity)


def _activity_render(request: HttpRequest, activity: Activity) -> HttpResponse:
    detail = activity.detail or {}
    polyline = (detail.get("map") or {}).get("polyline") or activity.summary_polyline
    efforts, efforts_template = _efforts(activity)
    device = str(detail.get("device_name") or activity.device_name or "")
    context = {
        "activity": activity,
        "route": route_drawing(polyline_decode(polyline)) if polyline else None,
        "splits": _splits(activity),
        "efforts": efforts,
        "efforts_template": efforts_template,
        "device": device,
        # Strava's brand guidelines ask for Garmin's credit where the data came from a Garmin device.
        "device_is_garmin": device.lower().startswith("garmin"),
    }
    return render(request, "warehouse/activity.html", context)


@login_required
def activity_json(request: HttpRequest, strava_id: int) -> JsonResponse:
    activity = _activity(request, strava_id)
    data = {"strava_id": activity.strava_id, "summary": activity.summary, "detail": activity.detail,
            "export_row": activity.export_row}
    response = JsonResponse(data)
    response["Content-Disposition"] = f'attachment; filename="activity-{activity.strava_id}.json"'
    return response


@login_required
def export(request: HttpRequest, fmt: str) -> StreamingHttpResponse | FileResponse:
    if fmt in ANALYTICS_FORMATS:
        return _analytics_export(request, fmt)
    if fmt not in ("csv", "json"):
        raise Http404("Exports are CSV, JSON, DuckDB or Parquet")
    athlete = athlete_of_request(request)
    activities = selectors.activities_for(athlete=athlete, filters=FilterForm(request.GET or None).filters())
    if fmt == "csv":
        response = StreamingHttpResponse(selectors.export_csv_lines(activities=activities), content_type="text/csv")
    else:
        response = StreamingHttpResponse(selectors.export_json_chunks(activities=activities),
                                         content_type="application/json")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="stravasync-activities-{athlete.strava_id}-{stamp}.{fmt}"'
    return response


def _analytics_export(request: HttpRequest, fmt: str) -> FileResponse:
    """The whole warehouse of the signed-in athlete (never a filter, never another's) as one file."""
    athlete = athlete_of_request(request)
    with export_folder() as folder:
        result = warehouse_export(athlete=athlete, fmt=fmt, folder=Path(folder))
        # Opened before the folder goes: the open file outlives its name, and is streamed from disk.
        stream = result.path.open("rb")
    stamp = timezone.now().strftime("%Y%m%d")
    suffix = "duckdb" if fmt == "duckdb" else "parquet.zip"
    return FileResponse(stream, as_attachment=True, filename=f"stravasync-{athlete.strava_id}-{stamp}.{suffix}",
                        content_type="application/octet-stream" if fmt == "duckdb" else "application/zip")


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    athlete = athlete_of_request(request)
    years = selectors.stats_years(athlete=athlete)
    year_param = request.GET.get("year") or ""
    year = int(year_param) if year_param.isdigit() else (years[0] if years else timezone.now().year)
    metric_param = request.GET.get("metric") or ""
    metric = metric_param if metric_param in selectors.METRICS else "distance"
    label, unit = selectors.METRICS[metric]
    weekly = selectors.stats_weekly(athlete=athlete, year=year)
    monthly = selectors.stats_monthly(athlete=athlete, year=year)
    compared = selectors.stats_years_compared(athlete=athlete, metric=metric)
    week_labels = [d.strftime("%-d %b") for d in weekly["labels"]]
    context = {
        "athlete": athlete,
        "years": years,
        "year": year,
        "metric": metric,
        "metrics": selectors.METRICS,
        "metric_label": label,
        "unit": unit,
        "weekly": weekly,
        "monthly": monthly,
        "compared": compared,
        "weekly_chart": charts.stacked_bars(week_labels, selectors.chart_series(weekly, metric), unit=unit,
                                            label_every=4, chart_id="weekly-chart"),
        "monthly_chart": charts.stacked_bars(MONTHS, selectors.chart_series(monthly, metric), unit=unit,
                                             chart_id="monthly-chart"),
        "years_chart": charts.lines(MONTHS, [(str(y), compared["cumulative"][y]) for y in compared["years"][:8]],
                                    unit=unit, chart_id="years-chart"),
    }
    return render(request, "warehouse/stats.html", context)


@login_required
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    """Pull what is new now, at priority interactive (a few calls: fast enough to answer the click).

    When the quota or Strava says wait, the pull is queued instead: the dispatcher takes it when it may.
    """
    athlete = athlete_of_request(request)
    try:
        result = activities_sync_now(athlete_id=athlete.pk)
    except SyncBusy as exc:
        messages.info(request, str(exc))
    except RateLimited as exc:
        sync_queue(athlete_id=athlete.pk)
        when = timezone.localtime(exc.retry_at).strftime("%H:%M")
        messages.warning(request, f"Strava's allowance is spent for now: your pull is queued and resumes at {when}.")
    except StravaError as exc:
        sync_queue(athlete_id=athlete.pk)
        messages.error(request, f"Strava refused the pull ({exc.message or type(exc).__name__}): it is queued "
                                "and the background sync tries again.")
    else:
        more = "" if result.done else " More follow in the background."
        messages.success(request, f"Pulled {result.created} new and {result.updated} updated activities "
                                  f"({result.calls} Strava calls).{more}")
    return redirect_next(request, reverse("warehouse:list"))


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload Strava's export zip; it is imported in the background with no API call."""
    athlete = athlete_of_request(request)
    form = ExportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["archive"]
        services.export_import_request(athlete_id=athlete.pk, archive=uploaded)
        uploaded.close()
        messages.success(request, f"{uploaded.name} received: it is being imported (no Strava call is spent).")
        return redirect("warehouse:import")
    runs = SyncRun.objects.filter(athlete=athlete, kind=SyncRun.Kind.IMPORT).order_by("-started_at")[:10]
    return render(request, "warehouse/import.html", {"form": form, "runs": runs})
