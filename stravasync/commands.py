"""The one base for long-running management commands: a clean stop on Ctrl+C or SIGTERM.

The first signal only raises a flag: the item in flight (an API call, a file) finishes and is
stored, so a restart repeats no call. A second signal aborts at once. Waits for the quota sleep
in short steps, so a stop is never held up by a long wait.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from stravasync.strava import quota

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StoppableCommand(BaseCommand):
    stopping = False
    stop_message = "stopping after the current item (again to abort)…"

    def execute(self, *args: Any, **options: Any) -> str | None:
        self.stopping = False
        # Handlers can only be set from the main thread; elsewhere (a test calling the command
        # from a worker thread) the command still runs, it just cannot be signalled.
        if threading.current_thread() is not threading.main_thread():
            return super().execute(*args, **options)
        previous = {number: signal.getsignal(number) for number in _SIGNALS}
        for number in _SIGNALS:
            signal.signal(number, self._on_signal)
        try:
            return super().execute(*args, **options)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stopping:
            raise KeyboardInterrupt
        self.stopping = True
        self.stderr.write(self.stop_message)

    def should_stop(self) -> bool:
        return self.stopping

    def sleep(self, seconds: float) -> bool:
        """Sleep up to `seconds`; False as soon as a stop is asked for."""
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        return not self.stopping

    def wait_until(self, moment: datetime, reason: str) -> bool:
        """Wait until the quota allows the next call; False if asked to stop meanwhile."""
        self.stdout.write(f"  {reason}; {resumes_at(moment)}; Ctrl+C stops cleanly")
        return self.sleep(quota.seconds_until(moment))

    def progress(self, **kwargs: Any) -> tqdm:
        """A tqdm bar on stderr when it is a terminal; silent otherwise (logs, tests, cron).

        Drawn on the stream under the command's own stderr (sys.stderr from manage.py), since
        Django's wrapper would end every redraw with a newline.
        """
        stream = getattr(self.stderr, "_out", sys.stderr)
        return tqdm(disable=not stream.isatty(), file=stream, **kwargs)


def resumes_at(moment: datetime) -> str:
    """"resumes at 14:45:00 UTC (in 4m 10s)": when a wait for the quota ends, in the deployment's time zone."""
    seconds = int(round(quota.seconds_until(moment)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    span = f"{hours}h {minutes}m" if hours else (f"{minutes}m {secs}s" if minutes else f"{secs}s")
    return f"resumes at {timezone.localtime(moment):%H:%M:%S %Z} (in {span})"
