"""What the warehouse commands share: finding athletes, a clean stop, waiting for the quota."""

from __future__ import annotations

import signal
import time
from datetime import datetime

from django.core.management.base import BaseCommand

from stravasync.strava import quota


class StoppableCommand(BaseCommand):
    """Ctrl+C or SIGTERM finishes the current call, saves the position and stops."""

    stopping = False

    def catch_signals(self) -> None:
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, signum: int, frame: object) -> None:
        if self.stopping:
            raise KeyboardInterrupt
        self.stopping = True
        self.stderr.write("stopping after the current call (again to abort)…")

    def should_stop(self) -> bool:
        return self.stopping

    def wait_until(self, moment: datetime, reason: str) -> bool:
        """Sleep until the quota allows the next call; False if asked to stop meanwhile."""
        seconds = quota.seconds_until(moment)
        self.stdout.write(f"  {reason}: waiting {seconds:.0f} s (until {moment:%H:%M:%S} UTC); Ctrl+C stops cleanly")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.stopping:
                return False
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        return not self.stopping
