"""List, and with --delete remove, stored files that no row references: uploads, reports, export zips."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from uploads import services
from uploads.services.storage import file_storage
from warehouse.services import export_zip_orphans


class Command(BaseCommand):
    help = ("List stored files no row references (uploads/ and reports/ older than an hour, imports/ older than a "
            "day or of an athlete gone); --delete removes them, through the storage API.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delete", action="store_true", help="delete them (default: only list them)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        found = [*services.stored_upload_orphans(now=now), *export_zip_orphans(now=now)]
        for name, why in found:
            if options["delete"]:
                storage = file_storage() if name.startswith("uploads/") else default_storage
                storage.delete(name)
            self.stdout.write(f"{'deleted' if options['delete'] else 'orphan'}  {name}  ({why})")
        verb = "deleted" if options["delete"] else "found (run with --delete to remove them)"
        self.stdout.write(self.style.SUCCESS(f"{len(found)} orphaned file(s) {verb}"))
