"""django-q2 entry point: load by id, call a service. Safe to run twice or never: the rows are the queue."""

from __future__ import annotations

from . import services


def event_fetch(event_id: int, grant: dict | None = None) -> None:
    """An activity create event's one detail call, with the permit the dispatcher took."""
    services.webhook_event_fetch(event_id=event_id, grant=grant)
