from __future__ import annotations

from django.apps import AppConfig


class WarehouseConfig(AppConfig):
    name = "warehouse"
    verbose_name = "Warehouse"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the receivers
