"""Strava's ActivityStats of an athlete: recent (four weeks), year-to-date and all-time totals per sport."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from sandbox.models import SimActivity, SimAthlete

# Sport types counted in each family, as Strava counts them (virtual and e-bike rides are rides).
FAMILIES = {
    "ride": {"Ride", "VirtualRide", "GravelRide", "MountainBikeRide", "EBikeRide", "EMountainBikeRide", "Velomobile", "Handcycle"},
    "run": {"Run", "TrailRun", "VirtualRun"},
    "swim": {"Swim"},
}
RECENT = timedelta(weeks=4)


@dataclass
class _Totals:
    count: int = 0
    distance: float = 0.0
    moving_time: int = 0
    elapsed_time: int = 0
    elevation_gain: float = 0.0
    achievement_count: int = 0

    def add(self, activity: SimActivity) -> None:
        self.count += 1
        self.distance += activity.distance
        self.moving_time += activity.moving_time
        self.elapsed_time += activity.elapsed_time
        self.elevation_gain += activity.total_elevation_gain
        self.achievement_count += activity.achievement_count

    def json(self) -> dict[str, object]:
        return {
            "count": self.count,
            "distance": round(self.distance, 1),
            "moving_time": self.moving_time,
            "elapsed_time": self.elapsed_time,
            "elevation_gain": round(self.elevation_gain, 1),
            "achievement_count": self.achievement_count,
        }


@dataclass
class _Family:
    recent: _Totals = field(default_factory=_Totals)
    ytd: _Totals = field(default_factory=_Totals)
    all: _Totals = field(default_factory=_Totals)


def _family(sport_type: str) -> str | None:
    return next((name for name, types in FAMILIES.items() if sport_type in types), None)


def athlete_stats(*, athlete: SimAthlete, now: datetime | None = None) -> dict[str, object]:
    """Totals over the athlete's activities visible to everyone, as Strava counts them (its docs say so)."""
    now = now or timezone.now()
    recent_since = now - RECENT
    local_now = now.astimezone(ZoneInfo(athlete.timezone or "UTC"))
    year_start = local_now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    families = {name: _Family() for name in FAMILIES}
    biggest_ride: float | None = None
    biggest_climb: float | None = None
    fields = ("sport_type", "start_date", "distance", "moving_time", "elapsed_time", "total_elevation_gain")
    activities = SimActivity.objects.filter(athlete=athlete, visibility="everyone", start_date__lte=now).only(
        *fields, "achievement_count", "elev_high", "elev_low"
    )
    for activity in activities:
        name = _family(activity.sport_type)
        if name is None:
            continue
        totals = families[name]
        totals.all.add(activity)
        if activity.start_date >= year_start:
            totals.ytd.add(activity)
        if activity.start_date >= recent_since:
            totals.recent.add(activity)
        if name == "ride":
            biggest_ride = max(biggest_ride or 0.0, activity.distance)
            if activity.elev_high is not None and activity.elev_low is not None:
                biggest_climb = max(biggest_climb or 0.0, round(activity.elev_high - activity.elev_low, 1))
    body: dict[str, object] = {"biggest_ride_distance": biggest_ride, "biggest_climb_elevation_gain": biggest_climb}
    for period in ("recent", "ytd", "all"):
        for name, family in families.items():
            body[f"{period}_{name}_totals"] = getattr(family, period).json()
    return body
