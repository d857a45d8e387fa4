"""Garmin Connect's activity types (typeKey, typeId, parentTypeId) from a FIT file's sport and sub_sport.

The ids are Garmin's own (activityType in the activity list); a sport Garmin has no type for is "other",
as Garmin files it.
"""

from __future__ import annotations

from typing import Any

# typeKey -> (typeId, parentTypeId); 17 is "all", Garmin's root.
TYPES: dict[str, tuple[int, int]] = {
    "running": (1, 17), "cycling": (2, 17), "hiking": (3, 17), "other": (4, 17), "mountain_biking": (5, 2),
    "trail_running": (6, 1), "street_running": (7, 1), "track_running": (8, 1), "walking": (9, 17),
    "road_biking": (10, 2), "indoor_cardio": (11, 29), "strength_training": (13, 29), "treadmill_running": (18, 1),
    "indoor_cycling": (25, 2), "swimming": (26, 17), "lap_swimming": (27, 26), "open_water_swimming": (28, 26),
    "fitness_equipment": (29, 17), "multi_sport": (89, 0), "gravel_cycling": (143, 2), "virtual_ride": (152, 2),
    "virtual_run": (153, 1), "stand_up_paddleboarding": (37, 228), "rowing": (39, 228), "indoor_rowing": (160, 29),
    "e_bike_fitness": (175, 2), "e_bike_mountain": (176, 2), "resort_skiing": (203, 165),
    "cross_country_skiing_ws": (171, 165), "yoga": (163, 29), "elliptical": (161, 29),
}  # fmt: skip

_BY_SUB_SPORT = {
    ("cycling", "road"): "road_biking", ("cycling", "mountain"): "mountain_biking",
    ("cycling", "indoor_cycling"): "indoor_cycling", ("cycling", "spin"): "indoor_cycling",
    ("cycling", "gravel_cycling"): "gravel_cycling", ("cycling", "virtual_activity"): "virtual_ride",
    ("cycling", "e_bike_fitness"): "e_bike_fitness", ("cycling", "e_bike_mountain"): "e_bike_mountain",
    ("running", "trail"): "trail_running", ("running", "treadmill"): "treadmill_running",
    ("running", "street"): "street_running", ("running", "track"): "track_running",
    ("running", "virtual_activity"): "virtual_run", ("swimming", "lap_swimming"): "lap_swimming",
    ("swimming", "open_water"): "open_water_swimming", ("rowing", "indoor_rowing"): "indoor_rowing",
    ("training", "strength_training"): "strength_training", ("training", "yoga"): "yoga",
    ("fitness_equipment", "elliptical"): "elliptical", ("fitness_equipment", "indoor_rowing"): "indoor_rowing",
}  # fmt: skip
_BY_SPORT = {
    "running": "running", "cycling": "cycling", "swimming": "swimming", "walking": "walking", "hiking": "hiking",
    "multisport": "multi_sport", "training": "strength_training", "fitness_equipment": "fitness_equipment",
    "rowing": "rowing", "stand_up_paddleboarding": "stand_up_paddleboarding", "alpine_skiing": "resort_skiing",
    "cross_country_skiing": "cross_country_skiing_ws", "e_biking": "e_bike_fitness",
}  # fmt: skip
# The name Garmin gives an activity nobody named (no place names here: the simulator has no geocoder).
_NAMES = {
    "road_biking": "Road Cycling", "lap_swimming": "Pool Swim", "open_water_swimming": "Open Water Swim",
    "virtual_ride": "Virtual Cycling", "indoor_cycling": "Indoor Cycling", "treadmill_running": "Treadmill Running",
}  # fmt: skip


def type_key(sport: str | None, sub_sport: str | None) -> str:
    return _BY_SUB_SPORT.get((sport or "", sub_sport or "")) or _BY_SPORT.get(sport or "") or "other"


def activity_type(key: str) -> dict[str, Any]:
    type_id, parent = TYPES.get(key, TYPES["other"])
    return {"typeId": type_id, "typeKey": key, "parentTypeId": parent, "isHidden": False, "restricted": False, "trimmable": True}


def parent_key(key: str) -> str | None:
    parent = TYPES.get(key, TYPES["other"])[1]
    return next((k for k, (type_id, _) in TYPES.items() if type_id == parent), None)


def default_name(key: str) -> str:
    return _NAMES.get(key) or key.replace("_", " ").title()
