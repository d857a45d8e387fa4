"""Fetch activities' details (one call each, segment efforts included), newest first, within the quota."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.management.athletes import athlete_from_option
from stravasync.commands import StoppableCommand, resumes_at
from stravasync.strava.errors import RateLimited, StravaError, SubscriptionInactive
from warehouse import selectors, services
from warehouse.models import Activity, SyncRun


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"{value!r} is not a date (YYYY-MM-DD) or a date and time")
        moment = datetime.combine(day, time.min)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


class Command(StoppableCommand):
    help = "Fetch details (and with them every segment effort) for activities that lack them, at priority enrich."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--athlete", help="Strava id or username (default: every athlete)")
        parser.add_argument("--limit", type=int, default=None, help="at most this many activities")
        parser.add_argument("--ids", nargs="+", type=int, default=None, help="these Strava activity ids only")
        parser.add_argument("--after", help="activities starting on or after this date (UTC)")
        parser.add_argument("--before", help="activities starting before this date (UTC)")
        parser.add_argument("--force", action="store_true", help="fetch again even if details are stored")
        parser.add_argument("--no-wait", action="store_true", help="stop when the quota says wait, instead of waiting")

    def handle(self, *args: Any, **options: Any) -> None:
        athlete = athlete_from_option(options["athlete"], connected=True) if options["athlete"] else None
        after, before = _moment(options["after"]), _moment(options["before"])
        selection = dict(athlete_id=athlete.pk if athlete else None, strava_ids=options["ids"], after=after, before=before,
                         force=options["force"])
        total = selectors.activities_to_enrich(**selection).count()
        if options["limit"] is not None:
            total = min(total, options["limit"])
        if options["ids"]:
            missing = set(options["ids"]) - set(Activity.objects.filter(strava_id__in=options["ids"]).values_list(
                "strava_id", flat=True))
            if missing:
                self.stderr.write(f"not in the warehouse (pull first): {', '.join(map(str, sorted(missing)))}")
        bar = self.progress(total=total, desc="details", unit="activity")
        done = {"fetched": 0, "failed": 0, "calls": 0}
        error = ""

        def on_activity(activity: Activity, fetched: bool) -> None:
            bar.update(1)
            done["fetched" if fetched else "failed"] += 1

        remaining = options["limit"]
        while True:
            try:
                services.activities_enrich(**selection, limit=remaining, on_activity=on_activity,
                                           should_stop=self.should_stop, trigger=SyncRun.Trigger.COMMAND)
                break
            except (RateLimited, SubscriptionInactive) as exc:
                if remaining is not None:
                    remaining = max(0, options["limit"] - done["fetched"] - done["failed"])
                retry_at = getattr(exc, "retry_at", None)
                if options["no_wait"] or retry_at is None or not self.wait_until(retry_at, _why(exc)):
                    error = f"{_why(exc)}" + (f"; {resumes_at(retry_at)}" if retry_at else "") + ": run again then"
                    break
            except StravaError as exc:
                error = f"{type(exc).__name__}: {exc.message}"
                break
        bar.close()
        left = selectors.activities_to_enrich(athlete_id=selection["athlete_id"], after=after, before=before).count()
        line = (f"{done['fetched']} activit{'y' if done['fetched'] == 1 else 'ies'} enriched, {done['failed']} failed "
                f"(see the activities' enrich errors); {left} still without details")
        if not error and self.stopping:
            error = "stopped on request; run again to resume"
        elif not error and not done["fetched"] and not done["failed"]:
            error = selectors.enrich_idle_reason(athlete=athlete, strava_ids=options["ids"], after=after,
                                                 before=before, force=options["force"])
            if options["limit"] == 0:
                error = "--limit 0 asks for nothing"
            self.stdout.write(f"{line}: {error}" if error else line)
            return
        self.stdout.write(self.style.ERROR(f"{line}: {error}") if error else self.style.SUCCESS(line))


def _why(exc: StravaError) -> str:
    """The quota's refusal in a person's words (the exception's own text is for logs)."""
    if isinstance(exc, SubscriptionInactive):
        return "Strava API subscription inactive: calls paused"
    return "quota spent (Strava answered 429)" if exc.status == 429 else "quota spent"
