"""Write one athlete's warehouse as a DuckDB file or a zip of Parquet files, for their own SQL."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.athletes import athlete_from_option
from warehouse.services.analytics_export import FORMATS, export_folder, warehouse_export


class Command(BaseCommand):
    help = ("Export one athlete's activities, activity details (JSON), segment efforts and segments as a DuckDB "
            "file or Parquet files in a zip (README: the example queries).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--athlete", required=True, help="Strava id or username")
        parser.add_argument("--format", choices=FORMATS, default="duckdb")
        parser.add_argument("--output", default=None,
                            help="file to write (default: stravasync-<strava id>.duckdb or .parquet.zip here)")

    def handle(self, *args: Any, **options: Any) -> None:
        # No call to Strava: an athlete who has since disconnected may still export what is stored.
        athlete = athlete_from_option(options["athlete"])
        with export_folder() as folder:
            result = warehouse_export(athlete=athlete, fmt=options["format"], folder=Path(folder))
            target = Path(options["output"] or result.path.name).expanduser().resolve()
            if target.is_dir():
                target = target / result.path.name
            size = result.size
            try:
                shutil.move(result.path, target)
            except OSError as exc:
                raise CommandError(f"could not write {target}: {exc.strerror or exc}") from exc
        self.stdout.write(", ".join(f"{n} {name}" for name, n in result.rows.items()))
        if not result.rows.get("activities"):
            self.stdout.write(f"{athlete} has no activities in the warehouse yet (run pull, or import a Strava "
                              "export): the tables are empty")
        self.stdout.write(self.style.SUCCESS(f"wrote {target} ({size / 1e6:.1f} MB in {result.seconds:.1f} s)"))
        if options["format"] == "duckdb":
            self.stdout.write(f"open it with: duckdb {target}")
