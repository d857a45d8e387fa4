"""Stored files follow their rows: deleting an Upload (one, or a purged athlete's) deletes its file."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Upload


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

    # After the commit: a rolled-back delete must not have lost the bytes.
    transaction.on_commit(delete)
