"""Delete spool files that killed requests left behind (none that a live request still holds)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from uploads import services


class Command(BaseCommand):
    help = "Delete ingest spool files in the temporary folder that no live request holds."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = services.spools_clean()
        self.stdout.write(f"removed {removed} spool file(s) that no live request held")
