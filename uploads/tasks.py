"""django-q2 entry points: load by id, call a service. Safe to run twice or never."""

from __future__ import annotations

from . import services


def post_upload(upload_id: int, grant: dict | None = None) -> None:
    services.upload_post(upload_id=upload_id, grant=grant)


def warehouse_files(upload_ids: list[int], lease: str) -> int:
    """Read claimed activity files into the warehouse (files first); a late or repeated run reads nothing twice."""
    return services.uploads_warehouse(upload_ids=upload_ids, lease=lease)
