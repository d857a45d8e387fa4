"""Import Strava's bulk-export zip for an athlete: activities from activities.csv, routes from the files, no call."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from accounts.management.athletes import athlete_from_option
from warehouse import selectors, services
from warehouse.strava_export import ExportError


class Command(BaseCommand):
    help = "Create or fill an athlete's activities from Strava's export zip (activities.csv + files): zero API calls."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("zip", help="the export archive (export_<id>.zip)")
        parser.add_argument("--athlete", required=True, help="Strava id or username")
        parser.add_argument("--no-routes", action="store_true", help="skip reading the activity files for routes")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["zip"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        athlete = athlete_from_option(options["athlete"])
        bar = tqdm(desc="activities", unit="row", disable=not sys.stderr.isatty(), file=sys.stderr)

        def on_progress(what: str, done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            result = services.strava_export_import(athlete_id=athlete.pk, path=path, routes=not options["no_routes"],
                                                   on_progress=on_progress)
        except ExportError as exc:
            raise CommandError(f"cannot import {path.name}: {exc}") from exc
        finally:
            bar.close()
        columns = result.columns
        self.stdout.write(self.style.SUCCESS(
            f"{athlete}: {result.rows} rows read ({columns.language if columns else '?'} header), {result.created} "
            f"activities created, {result.filled} filled, {result.unchanged} unchanged, {result.skipped} skipped; "
            f"{result.routes} routes from files; {result.manual_complete} manual activities complete; 0 API calls "
            f"(run {result.run_id})"
        ))
        if columns and columns.by_position:
            self.stdout.write("Read by position (header not recognised): " + "; ".join(columns.by_position))
        if columns and columns.unknown:
            self.stdout.write(self.style.WARNING("Columns not recognised, ignored: " + ", ".join(columns.unknown)))
        if result.unknown_sports:
            kinds = ", ".join(f"{k} ({n})" for k, n in sorted(result.unknown_sports.items()))
            self.stdout.write(self.style.WARNING(f"Activity types not recognised (kept as written; enrich corrects them): {kinds}"))
        for error in result.errors[:20]:
            self.stdout.write(self.style.WARNING(f"  {error}"))
        left = selectors.activities_without_details(athlete=athlete).count()
        self.stdout.write(f"Details still to fetch (one call each, segment efforts included): {left}")
