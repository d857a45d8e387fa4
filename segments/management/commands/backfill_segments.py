"""Backfill segment efforts and segment details for every athlete, within the Strava quota.

`--mode` names what to fetch and how to run; give it twice to choose both (`--mode efforts
--mode continuous`), as the original backfill's modes were chosen by name:

both:       efforts, then segments (the default).
efforts:    up to N activities without details (one call each; their efforts come in the same
            payload), and the efforts of activities whose details are stored (no call).
segments:   up to N segments without details (one call each, most ridden first).
one-time:   one run (the default).
continuous: a run every S seconds, until --max-runs (0 = forever) or Ctrl+C.
stats:      done and remaining, calls still needed and when the quota lets them finish.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import close_old_connections

from accounts.management.athletes import athlete_from_option
from segments import selectors, services
from stravasync.commands import StoppableCommand, resumes_at
from stravasync.strava import quota
from stravasync.strava.errors import RateLimited, StravaError, SubscriptionInactive
from stravasync.strava.quota import Priority
from warehouse.models import Activity

WHAT = ("both", "efforts", "segments")
HOW = ("one-time", "continuous", "stats")


def _modes(given: list[str]) -> tuple[str, str]:
    """(what, how) from the --mode values; each at most once."""
    what = [m for m in given if m in WHAT]
    how = [m for m in given if m in HOW]
    if len(what) > 1 or len(how) > 1:
        raise CommandError(f"--mode takes one of {', '.join(WHAT)} and one of {', '.join(HOW)}; got {' '.join(given)}")
    return (what or ["both"])[0], (how or ["one-time"])[0]


class Stop(Exception):
    """The run cannot go on (Ctrl+C, or Strava's API subscription is inactive)."""


class Command(StoppableCommand):
    help = "Backfill segment efforts and segment details within the Strava quota (one-time, continuous, or stats)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mode", action="append", choices=[*WHAT, *HOW], default=[],
                            help="what: both (default), efforts or segments; how: one-time (default), continuous or"
                                 " stats; give --mode twice for both, e.g. --mode efforts --mode continuous")
        parser.add_argument("--activities", type=int, default=100, help="most activities to fetch per run")
        parser.add_argument("--segments", type=int, default=100, help="most segment details to fetch per run")
        parser.add_argument("--interval", type=float, default=900.0, help="seconds between continuous runs")
        parser.add_argument("--max-runs", type=int, default=0, help="continuous: stop after this many runs (0 = never)")
        parser.add_argument("--athlete", default=None, help="only this athlete (Strava id or username)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.athlete = athlete_from_option(options["athlete"]) if options["athlete"] else None
        what, how = _modes(options["mode"])
        if how == "stats":
            self._stats()
            return
        activities = options["activities"] if what in ("both", "efforts") else 0
        segments = options["segments"] if what in ("both", "segments") else 0
        self.totals: Counter[str] = Counter()
        runs = 0
        started = time.monotonic()
        while not self.stopping:
            close_old_connections()
            runs += 1
            try:
                self._run(runs, activities, segments, efforts=what in ("both", "efforts"))
            except Stop as reason:
                if str(reason):
                    self.stdout.write(self.style.WARNING(str(reason)))
            if how == "one-time" or (options["max_runs"] and runs >= options["max_runs"]):
                break
            self.sleep(options["interval"])
        self._summary(runs, time.monotonic() - started)

    # --- one run -------------------------------------------------------------------------------
    def _run(self, number: int, activities: int, segments: int, *, efforts: bool) -> None:
        self.stdout.write(f"run {number}")
        if efforts:
            self._store_free()
            self._fetch_activities(activities)
        if segments:
            self._fetch_segments(segments)

    def _check(self) -> None:
        if self.stopping:
            raise Stop("stopping on request: the item in flight was finished, the rest waits for the next run")

    def _store_free(self) -> None:
        """Activities whose details are already stored: their efforts cost nothing."""
        ids = list(selectors.activities_pending_efforts(athlete=self.athlete).values_list("pk", flat=True))
        for start in range(0, len(ids), 20):
            for activity in Activity.objects.filter(pk__in=ids[start : start + 20]):
                self._check()
                self.totals["efforts stored"] += services.efforts_store(activity=activity)
                self.totals["activities stored with no call"] += 1

    def _fetch_activities(self, limit: int) -> None:
        ids = list(selectors.activities_to_backfill(athlete=self.athlete).values_list("pk", flat=True)[:limit])
        with self.progress(total=len(ids), desc="activities", unit="activity") as bar:
            for pk in ids:
                self._check()
                done = self._with_quota(lambda pk=pk: services.activity_backfill(activity_id=pk))
                self.totals["activities fetched" if done else "activities skipped"] += 1
                bar.update(1)

    def _fetch_segments(self, limit: int) -> None:
        ids = list(selectors.segments_needing_details(athlete=self.athlete).values_list("pk", flat=True)[:limit])
        with self.progress(total=len(ids), desc="segments", unit="segment") as bar:
            for pk in ids:
                self._check()
                outcome = self._with_quota(
                    lambda pk=pk: services.segment_details_fetch(segment_id=pk, priority=Priority.BACKFILL)
                )
                self.totals[f"segments {outcome}"] += 1
                bar.update(1)

    def _with_quota(self, work):
        """Run one item; when the quota says "not before T", wait for T (Ctrl+C still stops) and retry it."""
        while True:
            try:
                return work()
            except RateLimited as exc:
                self._wait_until(exc.retry_at)
            except SubscriptionInactive as exc:
                raise Stop(f"Strava API subscription inactive ({exc.message}): calls paused, nothing lost") from exc
            except StravaError as exc:
                self.stdout.write(self.style.WARNING(f"  failed: {exc.message or type(exc).__name__}"))
                return False

    def _wait_until(self, moment: datetime) -> None:
        self.totals["waits for the quota"] += 1
        self.stdout.write(f"  quota spent; {resumes_at(moment)}; Ctrl+C stops cleanly")
        while quota.seconds_until(moment) > 0:
            self._check()
            time.sleep(min(1.0, max(0.05, quota.seconds_until(moment))))

    # --- output ----------------------------------------------------------------------------------
    def _stats(self) -> None:
        stats = selectors.backfill_stats(athlete=self.athlete)
        scope = f" for {self.athlete}" if self.athlete else ""
        self.stdout.write(f"segment backfill{scope}")
        self.stdout.write(
            f"  activities: {stats['activities_done']} done, {stats['activities_remaining']} remaining"
            f" ({stats['activities_to_fetch']} need a call, {stats['activities_free']} need none)"
        )
        self.stdout.write(
            f"  segments:   {stats['segments_detailed']} detailed, {stats['segments_remaining']} remaining"
            + (f" ({stats['segments_unavailable']} unavailable on Strava)" if stats["segments_unavailable"] else "")
        )
        self.stdout.write(f"  efforts:    {stats['efforts']}")
        self.stdout.write(
            f"  calls still needed: {stats['calls_needed']}"
            + (" (more as the remaining activities reveal new segments)" if stats["activities_to_fetch"] else "")
        )
        if stats["calls_needed"]:
            eta = stats["eta"]
            self.stdout.write(
                f"  estimated finish: {eta:%Y-%m-%d %H:%M} UTC (in {_span(quota.seconds_until(eta))})"
                " at the current quota, priority backfill"
            )
        else:
            self.stdout.write("  estimated finish: nothing left to fetch")

    def _summary(self, runs: int, seconds: float) -> None:
        state = "stopped on request" if self.stopping else "finished"
        self.stdout.write(f"{state} after {runs} run{'s' if runs != 1 else ''} in {_span(seconds)}")
        for key in sorted(self.totals):
            self.stdout.write(f"  {key:32} {self.totals[key]}")
        self._stats()


def _span(seconds: float) -> str:
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"
