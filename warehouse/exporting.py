"""What a table of the analyst's export is: its columns, typed, and the rows of one athlete.

Neutral (no pyarrow here), so the segments app can describe its tables without importing the writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import Athlete

# Column kinds and what they become: int64, float64, string, bool, timestamp (UTC), timestamp
# without zone (a local wall-clock time), date, JSON.
KINDS = ("int", "float", "str", "bool", "ts", "local_ts", "date", "json")


@dataclass(frozen=True)
class Column:
    name: str
    lookup: str  # what `.values_list()` reads, e.g. "activity__strava_id"
    kind: str
    clean: Callable[[Any], Any] | None = None  # applied to a value before it is written (JSON: strip keys)


@dataclass(frozen=True)
class ExportTable:
    name: str
    rows: Callable[[Athlete], QuerySet[Any]]  # this athlete's rows only, in a stable order
    columns: tuple[Column, ...]
    description: str = ""


def columns(kinds: dict[str, str], **renamed: str) -> tuple[Column, ...]:
    """Columns named as the model's fields (`renamed`: export name -> lookup where they differ)."""
    lookups = {name: renamed.get(name, name) for name in kinds}
    return tuple(Column(name, lookups[name], kind) for name, kind in kinds.items())
