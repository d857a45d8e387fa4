"""Garmin Connect's JSON: the activity list's items, the social profile and the user settings."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.garmin import activity_types
from sandbox.models import SimGarminAccount, SimGarminActivity

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # Garmin's list: space-separated, no zone (GMT, or the activity's local time)


def activity(item: SimGarminActivity, account: SimGarminAccount) -> dict[str, Any]:
    """One item of activitylist-service's search, with the fields the library's users read."""
    start = item.start_time.astimezone(UTC)
    speed = round(item.distance / item.duration, 3) if item.distance and item.duration else None
    return {
        "activityId": item.activity_id,
        "activityName": item.name,
        "description": None,
        "startTimeLocal": start.astimezone(ZoneInfo(account.timezone)).strftime(TIME_FORMAT),
        "startTimeGMT": start.strftime(TIME_FORMAT),
        "activityType": activity_types.activity_type(item.type_key),
        "eventType": {"typeId": 9, "typeKey": "uncategorized", "sortOrder": 10},
        "distance": round(item.distance, 2) if item.distance is not None else None,
        "duration": item.duration,
        "elapsedDuration": item.elapsed_duration,
        "movingDuration": item.moving_duration,
        "averageSpeed": speed,
        "ownerId": account.profile_id,
        "ownerDisplayName": account.display_name,
        "ownerFullName": account.full_name,
        "userPro": False,
        "hasPolyline": True,
        "deviceId": item.device_id,
        "manufacturer": item.manufacturer,
        "beginTimestamp": int(start.timestamp() * 1000),
        "privacy": {"typeId": 2, "typeKey": "private"},
        "manualActivity": False,
        "autoCalcCalories": False,
        "elevationCorrected": False,
        "atpActivity": False,
        "favorite": False,
        "pr": False,
        "parent": False,
        "purposeful": False,
    }


def social_profile(account: SimGarminAccount) -> dict[str, Any]:
    return {
        "id": account.profile_id,
        "profileId": account.profile_id,
        "garminGUID": account.garmin_guid,
        "displayName": account.display_name,
        "fullName": account.full_name,
        "userName": account.email,
        "profileImageType": None,
        "profileImageUrlLarge": None,
        "profileImageUrlMedium": None,
        "profileImageUrlSmall": None,
        "location": None,
        "facebookUrl": None,
        "twitterUrl": None,
        "personalWebsite": None,
        "bio": None,
        "primaryActivity": None,
        "favoriteActivityTypes": [],
        "runningTrainingSpeed": 0.0,
        "cyclingTrainingSpeed": 0.0,
        "favoriteCyclingActivityTypes": [],
        "cyclingClassification": None,
        "cyclingMaxAvgPower": 0.0,
        "swimmingTrainingSpeed": 0.0,
        "profileVisibility": "private",
        "activityStartVisibility": "private",
        "activityMapVisibility": "private",
        "courseVisibility": "private",
        "activityHeartRateVisibility": "private",
        "activityPowerVisibility": "private",
        "badgeVisibility": "private",
        "showAge": False,
        "showWeight": False,
        "showHeight": False,
        "showGender": False,
        "userRoles": ["SCOPE_CONNECT_READ", "SCOPE_CONNECT_WRITE", "ROLE_CONNECTUSER"],
        "nameApproved": True,
        "userLevel": 1,
        "userPoint": 0,
        "userPro": False,
    }


def user_settings(account: SimGarminAccount) -> dict[str, Any]:
    """The part of user-settings the library reads at sign-in (`userData.measurementSystem`) and its neighbours."""
    return {
        "id": account.profile_id,
        "userData": {
            "gender": None, "weight": None, "height": None, "timeFormat": "time_twenty_four_hr", "birthDate": None,
            "measurementSystem": "metric", "activityLevel": None, "handedness": "RIGHT", "intensityMinutesCalcMethod": "AUTO",
            "moderateIntensityMinutesHrZone": 3, "vigorousIntensityMinutesHrZone": 4, "hydrationMeasurementUnit": "milliliter",
            "firstDayOfWeek": {"dayId": 2, "dayName": "monday", "sortOrder": 2, "isPossibleFirstDay": True},
        },
        "userSleep": {"sleepTime": 79200, "defaultSleepTime": False, "wakeTime": 25200, "defaultWakeTime": False},
        "connectDate": None,
        "sourceType": None,
    }  # fmt: skip
