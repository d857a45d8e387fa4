"""The --athlete option every command shares."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError

from accounts.models import Athlete
from accounts.selectors import athlete_find


def athlete_from_option(value: str, *, connected: bool = False) -> Athlete:
    """The athlete named on the command line; `connected`: one whose Strava tokens work.

    An athlete exists here only once they have connected Strava in the web app, so both refusals
    say where to go: a Strava username (a simulated athlete's, say) is not enough on its own.
    """
    athlete = athlete_find(value=value)
    if athlete is None:
        raise CommandError(
            f"No athlete here with Strava id or username {value!r}: an athlete appears once they connect "
            f"Strava in the web app ({settings.SITE_URL}/). Connect Strava in the web app first "
            "(an athlete may also be named by our id, as #12)."
        )
    if connected and (not athlete.is_connected or athlete.needs_reconnect):
        why = athlete.reconnect_reason if athlete.needs_reconnect and athlete.reconnect_reason else "not connected to Strava"
        raise CommandError(f"{athlete} ({why}): connect Strava in the web app first ({settings.SITE_URL}/).")
    return athlete
