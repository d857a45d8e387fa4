"""Bring an athlete's Garmin Connect activities to Strava now (a backfill with --since)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import CommandError
from tqdm import tqdm

from accounts.management.athletes import athlete_from_option
from garmin import services
from stravasync.commands import StoppableCommand


class Command(StoppableCommand):
    help = ("Check one athlete's Garmin Connect account now: list their activities (since --since, else since the "
            "newest seen), skip those already on Strava (no Strava call) and hand the rest to the uploads.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--athlete", required=True, help="Strava id or username")
        parser.add_argument("--since", type=date.fromisoformat, help="list from this date (YYYY-MM-DD): a backfill")
        parser.add_argument("--dry-run", action="store_true",
                            help="list and compare only: say what would be downloaded, download nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        athlete = athlete_from_option(options["athlete"])
        bar: tqdm | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="activity", desc="Garmin activities", file=self.stderr._out,
                           disable=None)
            bar.update(done - bar.n)

        result = services.garmin_check(athlete_id=athlete.pk, since=options["since"], dry_run=options["dry_run"],
                                       progress=progress)
        if bar is not None:
            bar.close()
        if result.skipped:
            raise CommandError(f"{result.skipped}: connect Garmin on the Garmin page of the web app first"
                               if "not connected" in result.skipped else result.skipped)
        lines = [f"{result.listed} listed by Garmin ({result.new} new)", f"{result.on_strava} already on Strava",
                 f"{result.from_strava} came from Strava (not sent back)"]
        if options["dry_run"]:
            lines.append(f"{len(result.would_download)} would be downloaded: "
                         + (", ".join(map(str, result.would_download)) or "none"))
        else:
            lines.append(f"{result.downloaded} downloaded and queued for Strava"
                         + (f" (batch {result.batch_id})" if result.batch_id else ""))
            if result.backlog:
                lines.append(f"{result.backlog} still waiting: the next checks take them, "
                             f"at most GARMIN_DOWNLOADS_PER_CYCLE per check")
        if result.failed:
            lines.append(f"{result.failed} download(s) failed (retried at the next checks)")
        self.stdout.write("\n".join(lines))
        if result.error:
            raise CommandError(result.error)
