"""Upload pages. Every query goes through the signed-in athlete: another athlete's rows are 404."""

from __future__ import annotations

import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.selectors import athlete_of_request, user_of_request
from stravasync.redirects import redirect_next

from . import selectors, services
from .models import Upload, UploadBatch
from .multipart import sent_name


def _uploads(request: HttpRequest) -> QuerySet[Upload]:
    """Staff may open any file from the admin; an athlete only their own."""
    if request.user.is_staff:
        return Upload.objects.all()
    return Upload.objects.filter(athlete__user=user_of_request(request))


def _batches(request: HttpRequest) -> QuerySet[UploadBatch]:
    if request.user.is_staff:
        return UploadBatch.objects.all()
    return UploadBatch.objects.filter(athlete__user=user_of_request(request))


@login_required
def upload_page(request: HttpRequest) -> HttpResponse:
    athlete = athlete_of_request(request)
    context = {
        "athlete": athlete,
        "uploads_allowed": athlete.has_scope("activity:write"),
        "max_files": settings.UPLOADS_WEB_MAX_FILES,
        "max_request_bytes": settings.UPLOADS_WEB_MAX_REQUEST_BYTES,
        "max_file_bytes": settings.UPLOADS_MAX_FILE_BYTES,
    }
    return render(request, "uploads/upload.html", context)


@login_required
@require_POST
def batch_create(request: HttpRequest) -> JsonResponse:
    athlete = athlete_of_request(request)
    # "Keep here only": the files fill the warehouse and go nowhere; the default also sends them to Strava.
    local_only = request.POST.get("send") == "no"
    batch = services.batch_create(athlete=athlete, source=UploadBatch.Source.WEB, local_only=local_only,
                                  label="browser upload, kept here only" if local_only else "browser upload")
    return JsonResponse({"id": batch.pk, "url": reverse("uploads:batch", args=[batch.pk])}, status=201)


@login_required
@require_POST
def batch_add_files(request: HttpRequest, pk: int) -> JsonResponse:
    """Receive one request's worth of files (streamed to disk by Django) into a batch."""
    athlete = athlete_of_request(request)
    batch = get_object_or_404(UploadBatch, pk=pk, athlete=athlete)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.UPLOADS_WEB_MAX_REQUEST_BYTES:
        return JsonResponse({"error": f"request larger than {settings.UPLOADS_WEB_MAX_REQUEST_BYTES} bytes"}, status=413)
    if selectors.in_flight_count(athlete=athlete) >= settings.UPLOADS_MAX_IN_FLIGHT:
        return JsonResponse({"error": "too many of your files are still waiting; try again when they have settled"},
                            status=429)
    files = request.FILES.getlist("files")
    results = []
    deadline = services.ingest_deadline()  # one for the whole request, however many files it holds
    for uploaded in files:
        try:
            name = sent_name(request, uploaded)  # unusable names become refused rows, never a 400
            created = services.upload_ingest(batch=batch, name=name, stream=uploaded, deadline=deadline, refresh=False)
        except OSError as exc:
            results.append({"file": uploaded.name, "status": "failed", "reason": f"could not be stored: {exc}"})
            continue
        finally:
            uploaded.close()
        results += [{"file": u.original_name, "status": u.status, "reason": u.reason} for u in created]
    for content in request.POST.getlist("files"):  # a file part sent with an empty name arrives as a field
        if content:
            created = services.upload_ingest(batch=batch, name="", stream=io.BytesIO(), refresh=False)
            results += [{"file": u.original_name, "status": u.status, "reason": u.reason} for u in created]
    services.batch_refresh(batch_id=batch.pk)  # once for the request: ingest stays linear
    return JsonResponse({"batch": batch.pk, "files": results})


@login_required
def batch_page(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(UploadBatch.objects.filter(athlete__user=user_of_request(request)), pk=pk)
    return render(request, "uploads/batch.html", {"batch": batch, "status": selectors.batch_status(batch=batch)})


@login_required
def batch_status(request: HttpRequest, pk: int) -> JsonResponse:
    batch = get_object_or_404(UploadBatch.objects.filter(athlete__user=user_of_request(request)), pk=pk)
    return JsonResponse(selectors.batch_status(batch=batch))


@login_required
def history(request: HttpRequest) -> HttpResponse:
    athlete = athlete_of_request(request)
    status = request.GET.get("status") or ""
    batch_id = request.GET.get("batch") or ""
    uploads = selectors.uploads_for(athlete=athlete, status=status, batch_id=int(batch_id) if batch_id.isdigit() else None)
    page = Paginator(uploads, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "batch_id": batch_id,
        "statuses": Upload.Status.choices,
        "batches": UploadBatch.objects.filter(athlete=athlete)[:50],
        "retryable_count": services.uploads_retryable(athlete=athlete).count(),
    }
    return render(request, "uploads/history.html", context)


@login_required
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    upload = get_object_or_404(Upload.objects.filter(athlete__user=user_of_request(request)), pk=pk)
    if services.upload_retry(upload=upload):
        messages.success(request, f"{upload.display_name} is queued again.")
    else:
        messages.error(request, f"{upload.display_name} cannot be retried: only a file that Strava refused or that "
                                "failed on its way there can end otherwise.")
    return redirect_next(request, reverse("uploads:history"))


@login_required
@require_POST
def upload_anyway(request: HttpRequest, pk: int) -> HttpResponse:
    upload = get_object_or_404(Upload.objects.filter(athlete__user=user_of_request(request)), pk=pk)
    if services.upload_anyway(upload=upload):
        messages.success(request, f"{upload.display_name} is queued for Strava, though it looked like no activity.")
    else:
        messages.error(request, f"{upload.display_name} is not a junk file with its bytes kept ({upload.status}).")
    return redirect_next(request, reverse("uploads:history"))


@login_required
@require_POST
def retry_all_failed(request: HttpRequest) -> HttpResponse:
    athlete = athlete_of_request(request)
    count = services.uploads_retry_failed(athlete=athlete)
    messages.success(request, f"{count} failed file(s) queued again.")
    return redirect_next(request, reverse("uploads:history"))


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    upload = get_object_or_404(Upload.objects.filter(athlete__user=user_of_request(request)), pk=pk)
    if services.upload_delete(upload=upload):
        messages.success(request, f"{upload.display_name} and its stored file were deleted.")
    else:
        messages.error(request, "A file on its way to Strava cannot be deleted; wait until it has settled.")
    return redirect_next(request, reverse("uploads:history"))


@login_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    upload = get_object_or_404(_uploads(request), pk=pk)
    stored_name = upload.file.name  # what `if upload.file` tests: a FieldFile is truthy when it has a name
    if not stored_name:
        raise Http404("No stored file")
    # Streamed from the storage (local disk or a bucket), whichever machine stored it. A bucket
    # opens lazily, so a missing file is asked about first: a 404, not an error mid-stream.
    storage = upload.file.storage
    if not storage.exists(stored_name):
        raise Http404("The stored file is missing")
    return FileResponse(storage.open(stored_name, "rb"), as_attachment=True, filename=upload.display_name)


@login_required
def report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("Reports are CSV or JSON")
    batch = get_object_or_404(_batches(request), pk=pk)
    if fmt == "json":
        response: HttpResponse = JsonResponse(selectors.batch_report(batch=batch))
    else:
        response = HttpResponse(selectors.batch_report_csv(batch=batch), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="stravasync-batch-{batch.pk}.{fmt}"'
    return response
