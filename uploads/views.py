from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404

from . import selectors
from .models import Upload, UploadBatch


def _owned_uploads(request: HttpRequest):  # noqa: ANN202
    """Staff see every upload; an athlete only their own (anything else answers 404)."""
    if request.user.is_staff:
        return Upload.objects.all()
    return Upload.objects.filter(athlete__user=request.user)


def _owned_batches(request: HttpRequest):  # noqa: ANN202
    if request.user.is_staff:
        return UploadBatch.objects.all()
    return UploadBatch.objects.filter(athlete__user=request.user)


@login_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    upload = get_object_or_404(_owned_uploads(request), pk=pk)
    if not upload.file:
        raise Http404("No stored file")
    path = Path(settings.MEDIA_ROOT) / upload.file.name
    if not path.exists():
        raise Http404("The stored file is missing")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=upload.display_name)  # noqa: SIM115


@login_required
def report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("Reports are CSV or JSON")
    batch = get_object_or_404(_owned_batches(request), pk=pk)
    if fmt == "json":
        response: HttpResponse = JsonResponse(selectors.batch_report(batch=batch))
    else:
        response = HttpResponse(selectors.batch_report_csv(batch=batch), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="stravasync-batch-{batch.pk}.{fmt}"'
    return response
