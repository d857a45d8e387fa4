"""What the warehouse does when rows of lower apps go: a purged athlete's export zips are deleted too."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import Athlete
from stravasync.storage import storage_folder_delete


@receiver(post_delete, sender=Athlete, dispatch_uid="warehouse.athlete_imports_delete")
def athlete_imports_delete(sender: type[Athlete], instance: Athlete, **kwargs: Any) -> None:
    # Zips waiting for (or left by) an import task; after the commit, so a rollback keeps them.
    folder = f"imports/{instance.pk}"
    transaction.on_commit(lambda: storage_folder_delete(default_storage, folder))
