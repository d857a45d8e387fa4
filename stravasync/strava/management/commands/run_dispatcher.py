"""The dispatcher loop: hands quota permits to the django-q2 workers, once a second."""

from __future__ import annotations

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from stravasync.strava.dispatch import dispatch_tick


class Command(BaseCommand):
    help = "Run the dispatcher: each tick, every backlog takes the permits the Strava quota grants."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--interval", type=float, default=settings.DISPATCH_INTERVAL)
        parser.add_argument("--once", action="store_true", help="one tick, then exit")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        ticks = 0
        while not self.stopping:
            close_old_connections()
            done = dispatch_tick()
            ticks += 1
            if any(done.values()):
                self.stdout.write(" ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in done.items() if v))
            if options["once"]:
                break
            time.sleep(options["interval"])
        self.stdout.write(f"dispatcher stopped after {ticks} ticks")

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True
