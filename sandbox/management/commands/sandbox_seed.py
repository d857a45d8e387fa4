"""Fill the simulator with athletes who have years of activities on a shared pool of segments."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sandbox import services
from sandbox.models import SimAthlete

# `--demo`: what `make run` seeds on a fresh machine, once.
# The first demo athlete's simulated Garmin Connect account (shown on the simulator's sign-in page too).
DEMO_GARMIN_EMAIL, DEMO_GARMIN_PASSWORD = "demo1@garmin.example", "garmin"
DEMO = {"athletes": 3, "activities": 400, "segments": 300, "seed": 2024, "username_prefix": "demo"}


class Command(BaseCommand):
    help = "Create simulated athletes with realistic activity histories (run again to add more)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--athletes", type=int, default=3, help="athletes to create")
        parser.add_argument("--activities", type=int, default=500, help="activities per athlete")
        parser.add_argument("--segments", type=int, default=300, help="size of the shared segment pool")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable data")
        parser.add_argument("--username-prefix", default="sim", help="usernames are <prefix><n>")
        parser.add_argument("--demo", action="store_true", help="a small demo data set, only when the simulator is still empty")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["demo"]:
            if SimAthlete.objects.exists():
                self.stdout.write("The simulator already has athletes; no demo data added.")
                return
            options.update(DEMO)
        started = time.monotonic()
        result = services.sim_seed(
            athletes=options["athletes"],
            activities=options["activities"],
            segments=options["segments"],
            seed=options["seed"],
            username_prefix=options["username_prefix"],
        )
        for athlete in result.athletes:
            self.stdout.write(f"  athlete {athlete.pk}: {athlete.firstname} {athlete.lastname} ({athlete.username})")
        if options["demo"] and result.athletes:
            self._demo_garmin(result.athletes[0])
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(result.athletes)} athletes, {result.activities} activities, "
                f"{result.segments_created} new segments in {time.monotonic() - started:.1f} s."
            )
        )

    def _demo_garmin(self, athlete: SimAthlete) -> None:
        """The first demo athlete also has a Garmin Connect account: 20 real recordings, 12 of them already on Strava."""
        from sandbox.garmin.services import garmin_demo_seed
        from sandbox.management.commands.sandbox_garmin import DATA_DIR, DEMO_FILES

        files = [DATA_DIR / name for name in DEMO_FILES if (DATA_DIR / name).exists()]
        if not files:
            return
        garmin_demo_seed(strava_athlete=athlete, files=files, email=DEMO_GARMIN_EMAIL, password=DEMO_GARMIN_PASSWORD)
        self.stdout.write(f"  Garmin Connect for {athlete.username}: sign in as {DEMO_GARMIN_EMAIL} / "
                          f"{DEMO_GARMIN_PASSWORD} (20 activities, 12 already on Strava)")
