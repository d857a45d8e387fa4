"""The Garmin simulator by hand: seed an account with real files, inject faults, show what was asked of it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.timezone import now

from sandbox.garmin import selectors, services
from sandbox.models import SimAthlete, SimGarminAccount

DATA_DIR = Path(settings.BASE_DIR) / "tests" / "data"
# Real recordings of several sports that Garmin Connect imports (tests/data/PROVENANCE.csv says where from).
DEMO_FILES = (
    "GoldenCheetah_GoldenCheetah__test_aerolab_helmet_testing_2018-10-03-08-36-06.fit",
    "GoldenCheetah_GoldenCheetah__test_runs_Move_2020_01_15_19_27_16_Running.fit",
    "GoldenCheetah_GoldenCheetah__test_swims_AleV_Swim_2015-02-09-16-15.fit",
    "andrewgy8_python_fit_tool__fit_tool_tests_data_palisade.fit",
    "GoldenCheetah_GoldenCheetah__test_rides_Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit",
    "GoldenCheetah_GoldenCheetah__test_rides_20130716_202738.fit",
    "tormoder_fit__testdata_misc_0134902991.fit",
    "jimmykane_sports-lib__integrationTests_fixtures_rides_others_export_2020-01-09_virtualride.fit",
)


def _switch(value: str) -> bool:
    if value not in ("on", "off"):
        raise ValueError(value)
    return value == "on"


class Command(BaseCommand):
    help = "Seed a simulated Garmin Connect account, inject its faults, or show the Garmin request log."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", help="the account (created by --seed)")
        parser.add_argument("--seed", action="store_true", help="create the account with --count activities, one a day")
        parser.add_argument("--password", default="garmin", help="with --seed")
        parser.add_argument("--mfa", action="store_true", help="with --seed: sign-in asks for a code (123456)")
        parser.add_argument("--count", type=int, default=20, help="with --seed: activities, cycling through the demo files")
        parser.add_argument("--from-strava", type=int, default=0, help="with --seed: how many of them came from Strava")
        parser.add_argument("--strava-athlete", type=int, help="with --seed: the simulated Strava athlete's id")
        parser.add_argument("--throttled", type=_switch, metavar="on|off", help="every connectapi request answers 429")
        parser.add_argument("--throttle-next", type=int, metavar="N", help="the next N connectapi requests answer 429")
        parser.add_argument("--revoke", action="store_true", help="end the account's sessions (401, then invalid_grant)")
        parser.add_argument("--expire", action="store_true", help="expire the account's access tokens now")
        parser.add_argument("--clear-log", action="store_true", help="forget the Garmin requests logged so far")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clear_log"]:
            services.garmin_request_log_clear()
        account = self._account(options)
        if account is not None:
            if options["throttled"] is not None or options["throttle_next"] is not None:
                services.garmin_faults_set(account=account, throttled=options["throttled"], throttle_next=options["throttle_next"])
            if options["revoke"]:
                self.stdout.write(f"revoked {services.garmin_sessions_revoke(account=account)} session(s)")
            if options["expire"]:
                self.stdout.write(f"expired {services.garmin_access_expire(account=account)} access token(s)")
            account.refresh_from_db()
            self.stdout.write(
                f"{account.email}: {account.activities.count()} activities, mfa {'on' if account.mfa else 'off'}, "
                f"throttled {'on' if account.throttled else 'off'}, next 429s {account.throttle_next}"
            )
        counts = selectors.garmin_request_counts(account=account)
        self.stdout.write(f"requests: {counts or 'none'}; most at once: {selectors.garmin_max_concurrency(account=account)}")

    def _account(self, options: dict[str, Any]) -> SimGarminAccount | None:
        email = options["email"]
        if not options["seed"]:
            if email is None:
                return None
            account = selectors.garmin_account_by_email(email=email)
            if account is None:
                raise CommandError(f"no simulated Garmin account {email}")
            return account
        if email is None:
            raise CommandError("--seed needs --email")
        if selectors.garmin_account_by_email(email=email) is not None:
            raise CommandError(f"{email} exists already")
        athlete = None
        if options["strava_athlete"] is not None:
            athlete = SimAthlete.objects.filter(pk=options["strava_athlete"]).first()
            if athlete is None:
                raise CommandError(f"no simulated Strava athlete {options['strava_athlete']}")
        account = services.garmin_account_create(email=email, password=options["password"], mfa=options["mfa"],
                                                 strava_athlete=athlete)
        count, from_strava = options["count"], options["from_strava"]
        last_day: date = (now() - timedelta(days=1)).date()
        services.garmin_activities_spread(
            account=account, files=[DATA_DIR / name for name in DEMO_FILES], count=count, last_day=last_day,
            from_strava=range(count - from_strava, count),
        )
        return account
