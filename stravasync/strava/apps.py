from __future__ import annotations

from django.apps import AppConfig


class StravaConfig(AppConfig):
    name = "stravasync.strava"
    label = "strava"
    verbose_name = "Strava API quota"
