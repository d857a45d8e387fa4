"""Activities made or edited by hand, as on strava.com or through `POST`/`PUT /activities`; the apps hear of it.

Strava pushes an `update` event only for a change of title, type or privacy, with the new values in
`updates` as strings: `{"title": "Lunch Ride", "type": "Run", "private": "true"}`. Which of the two type
fields `type` reports is not documented; the simulator reports the sport type the athlete picked (the
editor lists sport types), so an app that keeps both must not assume the coarser one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from sandbox import webhooks
from sandbox.errors import bad_request
from sandbox.models import SimActivity, SimAthlete
from sandbox.services.from_file import PARENT_TYPE

# Strava's SportType enumeration (API reference, 2025).
SPORT_TYPES = frozenset({
    "AlpineSki", "BackcountrySki", "Badminton", "Canoeing", "Crossfit", "EBikeRide", "Elliptical",
    "EMountainBikeRide", "Golf", "GravelRide", "Handcycle", "HighIntensityIntervalTraining", "Hike", "IceSkate",
    "InlineSkate", "Kayaking", "Kitesurf", "MountainBikeRide", "NordicSki", "Pickleball", "Pilates", "Racquetball",
    "Ride", "RockClimbing", "RollerSki", "Rowing", "Run", "Sail", "Skateboard", "Snowboard", "Snowshoe", "Soccer",
    "Squash", "StairStepper", "StandUpPaddling", "Surfing", "Swim", "TableTennis", "Tennis", "TrailRun",
    "Velomobile", "VirtualRide", "VirtualRow", "VirtualRun", "Walk", "WeightTraining", "Wheelchair", "Windsurf",
    "Workout", "Yoga",
})


def _sport(value: str, field: str) -> tuple[str, str]:
    """(type, sport_type) for a sport type Strava knows; anything else is its 400."""
    if value not in SPORT_TYPES:
        raise bad_request("Activity", field)
    return PARENT_TYPE.get(value, value), value


def sim_activity_create(
    *,
    athlete: SimAthlete,
    name: str,
    sport_type: str,
    start_date_local: datetime,
    elapsed_time: int,
    description: str = "",
    distance: float = 0.0,
    trainer: bool = False,
    commute: bool = False,
) -> SimActivity:
    """A manual activity (no file, no route, no efforts), as `POST /activities` makes it; a create event follows."""
    if not name.strip():
        raise bad_request("Activity", "name", "missing")
    if elapsed_time <= 0:
        raise bad_request("Activity", "elapsed_time")
    if distance < 0:
        raise bad_request("Activity", "distance")
    kind, sport = _sport(sport_type, "sport_type")
    tz = ZoneInfo(athlete.timezone or "UTC")
    # Strava reads the local start as the athlete's wall clock, whatever offset it carries.
    try:
        start = start_date_local.replace(tzinfo=None, microsecond=0).replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))
    except (OverflowError, ValueError):  # the first or last hours of year 1 or 9999
        raise bad_request("Activity", "start_date_local") from None
    activity = SimActivity(
        athlete=athlete, name=name.strip()[:255], description=description, type=kind, sport_type=sport,
        start_date=start, timezone=athlete.timezone or "UTC", elapsed_time=elapsed_time, moving_time=elapsed_time,
        distance=round(distance, 1), average_speed=round(distance / elapsed_time, 3), trainer=trainer,
        commute=commute, manual=True, created_at=timezone.now(),
    )
    with transaction.atomic():
        activity.save()
        webhooks.activity_event_send(activity=activity, aspect_type="create")
    return activity


@dataclass(frozen=True)
class ActivityChanges:
    """What an edit asks for; None leaves a field as it is."""

    name: str | None = None
    sport_type: str | None = None
    type: str | None = None  # deprecated by Strava in favour of sport_type, still accepted
    description: str | None = None
    commute: bool | None = None
    trainer: bool | None = None
    hide_from_home: bool | None = None
    gear_id: str | None = None
    private: bool | None = None  # strava.com only: the API's UpdatableActivity cannot change it


def sim_activity_update(*, activity: SimActivity, changes: ActivityChanges) -> dict[str, str]:
    """Edit the activity as its owner would; returns the event's `updates` (empty: no event was sent)."""
    updates: dict[str, str] = {}
    if changes.name is not None:
        if not changes.name.strip():
            raise bad_request("Activity", "name")
        if changes.name.strip()[:255] != activity.name:
            activity.name = changes.name.strip()[:255]
            updates["title"] = activity.name
    chosen = changes.sport_type if changes.sport_type is not None else changes.type
    if chosen is not None:
        kind, sport = _sport(chosen, "sport_type" if changes.sport_type is not None else "type")
        if (kind, sport) != (activity.type, activity.sport_type):
            activity.type, activity.sport_type = kind, sport
            updates["type"] = sport
    if changes.private is not None and changes.private != activity.private:
        activity.private = changes.private
        activity.visibility = "only_me" if changes.private else "everyone"
        updates["private"] = "true" if changes.private else "false"
    for field in ("description", "commute", "trainer", "hide_from_home", "gear_id"):
        value = getattr(changes, field)
        if value is not None:
            setattr(activity, field, value)
    with transaction.atomic():
        activity.save()
        if updates:  # Strava is silent about other edits (description, gear, commute...)
            webhooks.activity_event_send(activity=activity, aspect_type="update", updates=updates)
    return updates
