"""How apps above the warehouse (segments) hook into it: they subscribe or register; it never imports them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

# Sent by activity_store_detail with `activity=` (a warehouse.models.Activity) once its
# DetailedActivity, segment efforts included, is stored: a subscriber needs no call of its own.
activity_detail_stored = Signal()

# Where the activity page reads an activity's segment efforts from; None: from the stored detail.
EffortsReader = Callable[..., Any]
_efforts_reader: list[EffortsReader] = []


def efforts_reader_register(reader: EffortsReader) -> None:
    """Called once by the segments app's ready(): `reader(activity=...)` gives the activity's efforts."""
    _efforts_reader[:] = [reader]


def efforts_reader() -> EffortsReader | None:
    return _efforts_reader[0] if _efforts_reader else None


# Tables the warehouse export (DuckDB / Parquet) writes beyond its own: an app above registers its
# `ExportTable`s in ready() (segments: segment_efforts, segments), keyed by name so it happens once.
_export_tables: dict[str, Any] = {}


def export_tables_register(*tables: Any) -> None:
    for table in tables:
        _export_tables[table.name] = table


def export_tables_registered() -> list[Any]:
    return list(_export_tables.values())
