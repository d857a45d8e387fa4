from __future__ import annotations

from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        # The warehouse announces stored details and asks for efforts; segments subscribes and registers
        # (the warehouse never imports segments).
        from warehouse.signals import activity_detail_stored, efforts_reader_register, export_tables_register

        from .exports import SEGMENT_EFFORTS, SEGMENTS
        from .selectors import efforts_for_activity
        from .services import efforts_store_received

        activity_detail_stored.connect(efforts_store_received, dispatch_uid="segments.efforts_store")
        efforts_reader_register(efforts_for_activity)
        export_tables_register(SEGMENT_EFFORTS, SEGMENTS)
