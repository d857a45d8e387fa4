"""The dispatcher loop: hands quota permits to the django-q2 workers, once a second."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.db import close_old_connections

from stravasync.commands import StoppableCommand
from stravasync.strava.dispatch import dispatch_tick


class Command(StoppableCommand):
    help = "Run the dispatcher: each tick, every backlog takes the permits the Strava quota grants."
    stop_message = "dispatcher stopping after this tick…"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=settings.DISPATCH_INTERVAL)
        parser.add_argument("--once", action="store_true", help="one tick, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        ticks = 0
        while not self.stopping:
            close_old_connections()
            done = dispatch_tick()
            ticks += 1
            if any(done.values()):
                self.stdout.write(" ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in done.items() if v))
            if options["once"] or not self.sleep(options["interval"]):
                break
        self.stdout.write(f"dispatcher stopped after {ticks} ticks")
