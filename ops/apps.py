from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What people see of the sync: the athlete's status, the operator's page, /healthz, /metrics."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "ops"
