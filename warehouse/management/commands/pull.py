"""Pull athletes' activities from Strava: finish (or start) the backfill, then whatever is new."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from accounts.management.athletes import athlete_from_option
from stravasync.commands import StoppableCommand
from stravasync.strava.errors import RateLimited, StravaError, SubscriptionInactive
from warehouse import services
from warehouse.models import SyncRun, SyncState


class Command(StoppableCommand):
    help = "Pull activities for one athlete or every connected athlete, within the quota (priority pull)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--athlete", help="Strava id or username (default: every connected athlete)")
        parser.add_argument("--full", action="store_true", help="walk the whole history again (refreshes every summary)")
        parser.add_argument("--no-wait", action="store_true", help="stop when the quota says wait, instead of waiting")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["athlete"]:
            athletes = [athlete_from_option(options["athlete"], connected=True)]
        else:
            athletes = list(services.connected_athletes())
        if not athletes:
            self.stdout.write(f"Nothing to pull: no athlete is connected with Strava (with permission to read activities)"
                              f" yet. Connect Strava in the web app first ({settings.SITE_URL}/).")
            return
        for athlete in athletes:
            if self.stopping:
                break
            self._pull(athlete, full=options["full"], wait=not options["no_wait"])

    def _pull(self, athlete: Any, *, full: bool, wait: bool) -> None:
        bar = self.progress(desc=f"{athlete} pages", unit="page")
        def on_page(step: str, listed: int, upserted: services.UpsertResult) -> None:
            bar.update(1)
            bar.set_postfix(step=step, created=upserted.created, updated=upserted.updated)

        error = ""
        # Closed on the way out, with the error if anything (Ctrl+C included) escapes the loop.
        with services.sync_run(kind=SyncRun.Kind.PULL, athlete_id=athlete.pk, trigger=SyncRun.Trigger.COMMAND,
                               notes={"full": True} if full else None) as run:
            try:
                while True:
                    try:
                        services.activities_pull(athlete_id=athlete.pk, full=full, pull_now=True, run=run,
                                                 on_page=on_page, should_stop=self.should_stop)
                        break
                    except (RateLimited, SubscriptionInactive) as exc:
                        retry_at = getattr(exc, "retry_at", None)
                        if not wait or retry_at is None or not self.wait_until(retry_at, exc.message or "quota"):
                            error = f"stopped: {exc.message or type(exc).__name__}; run again to resume"
                            break
                        full = False  # the walk restarted once; resume it, do not restart it
                    except StravaError as exc:
                        error = f"{type(exc).__name__}: {exc.message}"
                        break
            finally:
                bar.close()
            if error:
                services.sync_run_book(run, error=error)
        if self.stopping and not error:
            error = "stopped on request; run again to resume where it stopped"
        state = services.sync_state_for(athlete_id=athlete.pk)
        history = _history(state)
        line = (f"{athlete}: {run.pages} page(s), {run.calls} call(s), {run.created} created, {run.updated} updated; "
                f"history {history} (run {run.pk})")
        self.stdout.write(self.style.ERROR(f"{line}: {error}") if error else self.style.SUCCESS(line))


def _history(state: SyncState) -> str:
    """How far the walk back through history got; a stop before its first page leaves no cursor."""
    if state.backfill_done:
        return "complete"
    if state.backfill_cursor is None:
        return "not started yet (run pull again to start it)"
    return f"back to {state.backfill_cursor:%Y-%m-%d} so far"
