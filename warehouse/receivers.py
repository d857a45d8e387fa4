"""What the warehouse does when lower apps speak: a purged athlete's export zips go; a new athlete's first page comes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.models import Athlete
from accounts.signals import athlete_connected
from stravasync.storage import storage_folder_delete
from warehouse.services.interactive import athlete_first_page


@receiver(post_delete, sender=Athlete, dispatch_uid="warehouse.athlete_imports_delete")
def athlete_imports_delete(sender: type[Athlete], instance: Athlete, **kwargs: Any) -> None:
    # Zips waiting for (or left by) an import task; after the commit, so a rollback keeps them.
    folder = f"imports/{instance.pk}"
    transaction.on_commit(lambda: storage_folder_delete(default_storage, folder))


@receiver(athlete_connected, dispatch_uid="warehouse.athlete_first_page")
def athlete_first_page_fetch(sender: type[Athlete], athlete: Athlete, **kwargs: Any) -> None:
    # The person who just signed in sees their newest activities at once (priority interactive);
    # the rest of the history follows at priority pull, from the dispatcher.
    if settings.WAREHOUSE_FIRST_PAGE_AT_CONNECT and "activity:read" in (athlete.scopes or ""):
        athlete_first_page(athlete_id=athlete.pk)
