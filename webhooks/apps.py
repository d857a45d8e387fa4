from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Strava webhooks"

    def ready(self) -> None:
        # The warehouse's pull asks whether push events are live; it never imports us (we sit above it).
        from warehouse.services.pull import push_live_register

        from .selectors import subscription_live

        push_live_register(subscription_live)
