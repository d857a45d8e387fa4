"""Stored files follow their rows: deleting an Upload (one, or a purged athlete's) deletes its file.

A purged athlete takes along everything stored in their name: their uploads folder (files no row
points at too) and their batches' reports. Always after the commit: a rolled-back delete must not
have lost the bytes.
"""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import Athlete
from stravasync.storage import storage_folder_delete

from .models import Upload, UploadBatch
from .services.storage import file_storage


@receiver(post_delete, sender=Upload, dispatch_uid="uploads.stored_file_delete")
def stored_file_delete(sender: type[Upload], instance: Upload, **kwargs: Any) -> None:
    name = instance.file.name if instance.file else ""
    if not name:
        return
    storage = instance.file.storage

    def delete() -> None:
        # Copies of the same bytes share one stored file: only the last row takes it along.
        if not Upload.objects.filter(file=name).exists():
            storage.delete(name)

    transaction.on_commit(delete)


def batch_report_names(batch_id: int) -> list[str]:
    """Where a batch's after-action report is stored (uploads.services.reports writes these names)."""
    return [f"reports/batch-{batch_id}.json", f"reports/batch-{batch_id}.csv"]


@receiver(post_delete, sender=UploadBatch, dispatch_uid="uploads.batch_reports_delete")
def batch_reports_delete(sender: type[UploadBatch], instance: UploadBatch, **kwargs: Any) -> None:
    names = batch_report_names(instance.pk)

    def delete() -> None:
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(delete)


@receiver(post_delete, sender=Athlete, dispatch_uid="uploads.athlete_files_delete")
def athlete_files_delete(sender: type[Athlete], instance: Athlete, **kwargs: Any) -> None:
    # Every row's file is already on its way (above); this also takes what no row points at.
    folder = f"uploads/{instance.pk}"
    transaction.on_commit(lambda: storage_folder_delete(file_storage(), folder))
