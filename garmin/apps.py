from __future__ import annotations

from django.apps import AppConfig


class GarminConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "garmin"
    verbose_name = "Garmin Connect"
