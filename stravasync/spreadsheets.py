"""CSV cells a spreadsheet will not run: text starting with = + - @ (or a tab or CR) is prefixed with '.

File and activity names come from users and from Strava; opened in Excel or LibreOffice, a cell
like `=HYPERLINK(...)` would be a live formula (OWASP "CSV injection"). Numbers stay numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """`value` for a CSV cell: None as empty, text that a spreadsheet would evaluate prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]


def csv_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: csv_cell(value) for key, value in row.items()}
