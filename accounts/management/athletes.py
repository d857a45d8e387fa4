"""The --athlete option every command shares."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.models import Athlete
from accounts.selectors import athlete_find


def athlete_from_option(value: str) -> Athlete:
    athlete = athlete_find(value=value)
    if athlete is None:
        raise CommandError(f"No athlete with Strava id or username {value!r} (our id: #N)")
    return athlete
