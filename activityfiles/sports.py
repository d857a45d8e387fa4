"""Strava's ``sport_type`` (and trainer flag) from what a file says its sport is.

One mapping for every reader (the sweep, the full read, the benchmarks and the tests that
compare us with fitparse), so that they can only disagree about what a file says, never
about what it means. FIT enum numbers come from fitdecode's profile, not typed by hand;
a value may arrive as the number or as its profile name (fitparse and fitdecode name the
values they know and pass the others through as numbers).

A ``generic`` FIT sport (with no telling sub_sport) maps to None: the file does not say
what was done, and Strava then falls back to the athlete's default sport, which we cannot
know here. Every other sport Strava has no type for maps to ``Workout``, as Strava does.
"""

from __future__ import annotations

import functools

from fitdecode.profile import FIELD_TYPES

_SPORT_NAMES: dict[int, str] = dict(FIELD_TYPES["sport"].enum)
_SUB_SPORT_NAMES: dict[int, str] = dict(FIELD_TYPES["sub_sport"].enum)

# Sport name -> Strava sport_type when the sub_sport adds nothing.
_SPORT = {
    "running": "Run", "cycling": "Ride", "e_biking": "EBikeRide", "swimming": "Swim", "walking": "Walk",
    "hiking": "Hike", "mountaineering": "Hike", "rowing": "Rowing", "cross_country_skiing": "NordicSki",
    "alpine_skiing": "AlpineSki", "snowboarding": "Snowboard", "snowshoeing": "Snowshoe",
    "inline_skating": "InlineSkate", "ice_skating": "IceSkate", "kayaking": "Kayaking", "paddling": "Canoeing",
    "stand_up_paddleboarding": "StandUpPaddling", "surfing": "Surfing", "kitesurfing": "Kitesurf",
    "windsurfing": "Windsurf", "sailing": "Sail", "rock_climbing": "RockClimbing", "golf": "Golf",
    "soccer": "Soccer", "tennis": "Tennis", "training": "Workout", "fitness_equipment": "Workout",
    "hiit": "HighIntensityIntervalTraining", "wheelchair_push_walk": "Wheelchair", "wheelchair_push_run": "Wheelchair",
}  # fmt: skip

# (sport name, sub_sport name) -> (sport_type, trainer); "*" matches any sport.
_SUB = {
    ("running", "trail"): ("TrailRun", False),
    ("running", "treadmill"): ("Run", True),
    ("running", "indoor_running"): ("Run", True),
    ("running", "virtual_activity"): ("VirtualRun", False),
    ("cycling", "mountain"): ("MountainBikeRide", False),
    ("cycling", "downhill"): ("MountainBikeRide", False),
    ("cycling", "gravel_cycling"): ("GravelRide", False),
    ("cycling", "indoor_cycling"): ("Ride", True),
    ("cycling", "spin"): ("Ride", True),
    ("cycling", "virtual_activity"): ("VirtualRide", False),
    ("cycling", "e_bike_mountain"): ("EMountainBikeRide", False),
    ("cycling", "e_bike_fitness"): ("EBikeRide", False),
    ("cycling", "hand_cycling"): ("Handcycle", False),
    ("cycling", "indoor_hand_cycling"): ("Handcycle", True),
    ("e_biking", "e_bike_mountain"): ("EMountainBikeRide", False),
    ("walking", "indoor_walking"): ("Walk", True),
    ("rowing", "indoor_rowing"): ("Rowing", True),
    ("rowing", "virtual_activity"): ("VirtualRow", False),
    ("alpine_skiing", "backcountry"): ("BackcountrySki", False),
    ("cross_country_skiing", "indoor_skiing"): ("NordicSki", True),
    # Indoor machines and gym sessions, whatever sport (fitness_equipment, training, generic) carries them.
    ("*", "treadmill"): ("Run", True),
    ("*", "indoor_running"): ("Run", True),
    ("*", "indoor_cycling"): ("Ride", True),
    ("*", "spin"): ("Ride", True),
    ("*", "indoor_rowing"): ("Rowing", True),
    ("*", "elliptical"): ("Elliptical", True),
    ("*", "stair_climbing"): ("StairStepper", True),
    ("*", "strength_training"): ("WeightTraining", False),
    ("*", "yoga"): ("Yoga", False),
    ("*", "pilates"): ("Pilates", False),
    ("*", "hiit"): ("HighIntensityIntervalTraining", False),
    ("*", "indoor_climbing"): ("RockClimbing", False),
    ("*", "bouldering"): ("RockClimbing", False),
    ("racket", "pickleball"): ("Pickleball", False),
    ("racket", "padel"): ("Padel", False),
    ("racket", "squash"): ("Squash", False),
    ("racket", "badminton"): ("Badminton", False),
    ("racket", "racquetball"): ("Racquetball", False),
    ("racket", "table_tennis"): ("TableTennis", False),
}
_NO_SPORT = frozenset(("generic", "all"))  # says nothing about what was done (see the module docstring)


def _name(value: int | str | None, names: dict[int, str]) -> str | None:
    """A profile name for an enum value given as a number, a name or a numeric string; None if invalid."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.isdigit():
            return value
        value = int(value)
    if value == 0xFF:  # FIT's "invalid": the field was not given
        return None
    return names.get(value, str(value))


@functools.lru_cache(maxsize=1024)  # the sweep asks for the same few pairs over and over
def strava_sport(sport: int | str | None, sub_sport: int | str | None = None) -> tuple[str | None, bool]:
    """(Strava sport_type, trainer) for a FIT sport/sub_sport pair; (None, False) when the file names no sport."""
    name = _name(sport, _SPORT_NAMES)
    sub = _name(sub_sport, _SUB_SPORT_NAMES)
    if name is None:
        return None, False
    if sub is not None:
        found = _SUB.get((name, sub)) or _SUB.get(("*", sub))
        if found:
            return found
    if name in _NO_SPORT:
        return None, False
    return _SPORT.get(name, "Workout"), False


# GPX <trk><type> and TCX <Activity Sport=...>: writers use Strava's own names, Strava's old
# numeric codes (its GPX export: 1 ride, 9 run, ...), Garmin Connect's activity keys or TCX's three words.
_STRAVA_TYPES = {
    name.lower(): name
    for name in (
        "Run TrailRun VirtualRun Ride MountainBikeRide GravelRide VirtualRide EBikeRide EMountainBikeRide Swim Walk "
        "Hike Rowing VirtualRow AlpineSki BackcountrySki NordicSki Snowboard Snowshoe IceSkate InlineSkate Kayaking "
        "Canoeing StandUpPaddling Surfing Kitesurf Windsurf RockClimbing Golf Soccer Tennis WeightTraining Workout "
        "Yoga Pilates Elliptical StairStepper Handcycle Wheelchair Sail Crossfit Velomobile RollerSki Skateboard "
        "HighIntensityIntervalTraining Pickleball Padel Squash Badminton Racquetball TableTennis"
    ).split()
}
_STRAVA_CODES = {"1": "Ride", "4": "Hike", "9": "Run", "10": "Walk", "16": "Swim"}  # the ones seen in real exports
_XML_WORDS: dict[str, tuple[str | None, bool]] = {
    "biking": ("Ride", False), "running": ("Run", False), "other": (None, False),  # TCX
    "run": ("Run", False), "ride": ("Ride", False), "bike": ("Ride", False), "swim": ("Swim", False),
    "road_biking": ("Ride", False), "mountain_biking": ("MountainBikeRide", False),
    "gravel_cycling": ("GravelRide", False), "virtual_ride": ("VirtualRide", False),
    "indoor_cycling": ("Ride", True), "trail_running": ("TrailRun", False), "treadmill_running": ("Run", True),
    "virtual_run": ("VirtualRun", False), "lap_swimming": ("Swim", False), "open_water_swimming": ("Swim", False),
    "strength_training": ("WeightTraining", False), "indoor_rowing": ("Rowing", True),
}  # fmt: skip


def xml_sport(text: str | None) -> tuple[str | None, bool]:
    """(Strava sport_type, trainer) for a GPX ``<type>`` or a TCX ``Sport`` attribute; (None, False) if unknown."""
    if not text:
        return None, False
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    if key in _STRAVA_TYPES:
        return _STRAVA_TYPES[key], False
    if key in _STRAVA_CODES:
        return _STRAVA_CODES[key], False
    if key in _XML_WORDS:
        return _XML_WORDS[key]
    if key in _SPORT or key in _NO_SPORT:  # a FIT sport name, as Garmin Connect writes them
        return strava_sport(key)
    return None, False


# Sports one device and another (or Strava and Garmin) may call the same activity by different names.
_FAMILIES = (
    frozenset(("Run", "TrailRun", "VirtualRun")),
    frozenset(("Ride", "MountainBikeRide", "GravelRide", "VirtualRide", "EBikeRide", "EMountainBikeRide",
               "Handcycle", "Velomobile")),
    frozenset(("Walk", "Hike")),
    frozenset(("AlpineSki", "BackcountrySki", "NordicSki", "RollerSki", "Snowboard")),
    frozenset(("Rowing", "VirtualRow", "Canoeing", "Kayaking")),
)
_UNSAID = frozenset(("", "Workout"))  # a file or service that names no sport says nothing against a match


def sports_compatible(first: str | None, second: str | None) -> bool:
    """Whether two Strava sport_types can be the same activity (a ride and a gravel ride can; a ride and a run not)."""
    a, b = first or "", second or ""
    if a == b or a in _UNSAID or b in _UNSAID:
        return True
    return any(a in family and b in family for family in _FAMILIES)
