"""Show or change the simulator's faults and switches (they apply to api/v3 only)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import services
from sandbox.models import SimConfig


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(value)
    return rate


def _switch(value: str) -> bool:
    if value not in ("on", "off"):
        raise ValueError(value)
    return value == "on"


class Command(BaseCommand):
    help = (
        "Inject faults into the Strava simulator (5xx, slow answers, dropped connections, Inactive, failing uploads, "
        "lost push events)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--error-rate", type=_rate, help="share of api/v3 requests answered 500/502/503 (0–1)")
        parser.add_argument("--slow-seconds", type=float, help="how long a slow answer waits")
        parser.add_argument("--slow-rate", type=_rate, help="share of api/v3 requests answered slowly (0–1)")
        parser.add_argument("--drop-rate", type=_rate, help="share of api/v3 requests whose connection is dropped")
        parser.add_argument("--inactive", type=_switch, metavar="on|off", help="answer every api/v3 call 403 Inactive")
        parser.add_argument("--fail-uploads", type=_switch, metavar="on|off", help="every processed upload fails")
        parser.add_argument("--webhooks-down", type=_switch, metavar="on|off", help="push events are lost (never delivered)")
        parser.add_argument("--reset", action="store_true", help="back to no faults (applied before other options)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["slow_seconds"] is not None and options["slow_seconds"] < 0:
            raise CommandError("--slow-seconds must not be negative")
        if options["reset"]:
            services.sim_config_reset()
        config = services.sim_config_update(
            error_rate=options["error_rate"],
            slow_seconds=options["slow_seconds"],
            slow_rate=options["slow_rate"],
            drop_rate=options["drop_rate"],
            inactive=options["inactive"],
            fail_uploads=options["fail_uploads"],
            webhooks_down=options["webhooks_down"],
        )
        self.show(config)

    def show(self, config: SimConfig) -> None:
        self.stdout.write("Strava simulator faults (api/v3 only):")
        self.stdout.write(f"  error rate    {config.error_rate:g}   (500/502/503)")
        self.stdout.write(f"  slow          {config.slow_rate:g} of requests wait {config.slow_seconds:g} s")
        self.stdout.write(f"  drop rate     {config.drop_rate:g}   (connection closed without an answer)")
        self.stdout.write(f"  inactive      {'on' if config.inactive else 'off'}   (403 Forbidden, code Inactive)")
        self.stdout.write(f"  fail uploads  {'on' if config.fail_uploads else 'off'}")
        self.stdout.write(f"  webhooks down {'on' if config.webhooks_down else 'off'}   (push events lost)")
