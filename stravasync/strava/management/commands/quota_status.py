"""Show the application-wide Strava quota: limits, usage, resets, permits per priority."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from stravasync.strava import quota


class Command(BaseCommand):
    help = "Show Strava API limits, usage, next resets and permits available now per priority."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--clear-inactive", action="store_true", help="the API subscription is back: resume calls")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clear_inactive"]:
            quota.clear_inactive()
        status = quota.quota_status()
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2))
            return
        limits, usage = status["limits"], status["usage"]
        self.stdout.write(f"Strava client {status['client_id']}")
        for kind in ("overall", "read"):
            self.stdout.write(
                f"  {kind:8} window {usage[kind]['window']:>6}/{limits[kind]['window']:<6}"
                f" day {usage[kind]['daily']:>6}/{limits[kind]['daily']}"
            )
        self.stdout.write(f"  window resets at {status['window_resets_at']}, day at {status['day_resets_at']}")
        if status["closed_until"]:
            self.stdout.write(self.style.WARNING(f"  closed after a 429 until {status['closed_until']}"))
        if status["subscription_inactive"]:
            self.stdout.write(self.style.ERROR(f"  API subscription inactive: {status['subscription_message']}"))
        if not status["window_usage_known"] and settings.QUOTA_WINDOW_PROBE_PERMITS > 0:
            self.stdout.write("  this window's usage not yet seen in Strava's headers: probing with a few permits")
        self.stdout.write("  permits available now (read / write):")
        for priority, available in status["available_now"].items():
            self.stdout.write(f"    {priority:12} {available['read']:>5} / {available['write']}")
        self.stdout.write(f"  429s received so far: {status['rate_limited_total']}")
        for row in status["backlog"]:
            finish = row["estimated_finish"] or "nothing waiting"
            self.stdout.write(f"  backlog {row['backlog']:10} {row['calls']:>7} calls at priority {row['priority']}: {finish}")
