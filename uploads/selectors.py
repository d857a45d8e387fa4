"""Reads for uploads: batch progress and the after-action report."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, When

from stravasync.spreadsheets import csv_dict
from stravasync.strava import quota
from stravasync.strava.quota import Kind, Priority
from warehouse.selectors import activity_hrefs

from .models import Upload, UploadBatch
from .reasons import reason_words

REPORT_COLUMNS = ["file", "status", "upload_id", "activity_id", "duplicate_of", "reason", "start_time", "sport", "sha256"]


def batch_counts(*, batch: UploadBatch) -> dict[str, int]:
    rows = Upload.objects.filter(batch=batch).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def batch_eta(*, batch: UploadBatch) -> datetime | None:
    """When this batch's last file could be posted: its files plus those queued before them."""
    mine = Upload.objects.filter(batch=batch, status__in=[Upload.Status.QUEUED, Upload.Status.UPLOADING])
    last = mine.order_by("-id").values_list("id", flat=True).first()
    if last is None:
        return None
    ahead = Upload.objects.filter(status__in=[Upload.Status.QUEUED, Upload.Status.UPLOADING], id__lte=last).count()
    return quota.estimate_finish(ahead, kind=Kind.WRITE, priority=Priority.UPLOAD)


def batch_report(*, batch: UploadBatch) -> dict:
    """The after-action report: every file with its fate, the totals and the calls spent."""
    rows = []
    for upload in Upload.objects.filter(batch=batch).order_by("id"):
        rows.append({
            "file": upload.original_name,
            "status": upload.status,
            "upload_id": upload.strava_upload_id,
            "activity_id": upload.activity_id,
            "duplicate_of": upload.duplicate_of_activity,
            "reason": upload.reason,
            "start_time": upload.start_time.isoformat() if upload.start_time else None,  # the recorded start
            "sport": upload.sport or None,
            "sha256": upload.sha256,
        })
    batch.refresh_from_db()
    return {
        "batch": batch.pk,
        "athlete": batch.athlete.strava_id,
        "source": batch.source,
        "label": batch.label,
        "created_at": batch.created_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "totals": batch_counts(batch=batch),
        "files": len(rows),
        "api_calls": batch.api_calls,
        "rows": rows,
    }


def batch_report_csv(*, batch: UploadBatch, extra_rows: Iterable[Mapping[str, Any]] = ()) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS)
    writer.writeheader()
    for row in [*batch_report(batch=batch)["rows"], *extra_rows]:
        writer.writerow(csv_dict(row))
    return out.getvalue()


def in_flight_count(*, athlete) -> int:
    return Upload.objects.filter(
        athlete=athlete, status__in=[Upload.Status.QUEUED, Upload.Status.UPLOADING, Upload.Status.PROCESSING]
    ).count()


def uploads_for(*, athlete, status: str = "", batch_id: int | None = None):
    uploads = Upload.objects.filter(athlete=athlete).select_related("batch").order_by("-id")
    if status:
        uploads = uploads.filter(status=status)
    if batch_id:
        uploads = uploads.filter(batch_id=batch_id)
    return uploads


def batch_status(*, batch: UploadBatch, file_limit: int = 1000) -> dict:
    """Live progress for the batch page: counts per state, the share settled, the ETA, the files."""
    counts = batch_counts(batch=batch)
    total = sum(counts.values())
    settled = sum(n for s, n in counts.items() if s in Upload.FINAL)
    eta = batch_eta(batch=batch)
    # Failed files first: they are the ones a person has something to do about.
    uploads = list(Upload.objects.filter(batch=batch)
                   .order_by(Case(When(status=Upload.Status.FAILED, then=0), default=1), "id")[:file_limit])
    hrefs = activity_hrefs(athlete_id=batch.athlete_id,
                           strava_ids=[u.activity_id or u.duplicate_of_activity for u in uploads])
    files = []
    for u in uploads:
        said = reason_words(u.reason)
        activity_id = u.activity_id or u.duplicate_of_activity
        files.append({
            "id": u.pk,
            "file": u.original_name,
            "recorded": u.recorded_label,
            "status": u.status,
            "reason": u.reason,
            "reason_words": said.words,
            "reason_detail": said.detail,
            "activity_id": activity_id,
            "activity_url": hrefs.get(activity_id) if activity_id else None,
            "retry": u.can_retry,  # only where another try can end otherwise
            "upload_anyway": u.can_upload_anyway,
        })
    return {
        "batch": batch.pk,
        "total": total,
        "settled": settled,
        "counts": counts,
        "finished": total > 0 and settled == total,
        "eta": eta.isoformat() if eta else None,
        "eta_seconds": max(0, round(quota.seconds_until(eta))) if eta else 0,
        "api_calls": UploadBatch.objects.filter(pk=batch.pk).values_list("api_calls", flat=True).first() or 0,
        "files": files,
    }
