"""Names a person (or an archive) gives us: which are unusable, and how a long one fits a row.

A name never makes a request fail: an unusable one becomes a refused row that says why, and a
name longer than the column is shortened in the middle (the file name at its end stays readable)
while the full name is kept in the row's history.
"""

from __future__ import annotations

import re

MAX_ROW_NAME = 1000  # Upload.original_name
_DRIVE = re.compile(r"^[A-Za-z]:")


def row_name(name: str) -> tuple[str, str | None]:
    """The name for the row, and the full name when the row's had to be shortened (else None).

    NUL bytes (which PostgreSQL text cannot hold) are shown as U+FFFD.
    """
    clean = name.replace("\x00", "\ufffd")
    if len(clean) <= MAX_ROW_NAME:
        return clean, None
    tail = MAX_ROW_NAME // 2
    return clean[: MAX_ROW_NAME - tail - 1] + "…" + clean[-tail:], clean


def _shown(name: str) -> str:
    return repr(name[:200] + ("…" if len(name) > 200 else ""))


def file_name_problem(name: str) -> str | None:
    """Why the name given for an uploaded file cannot be used, or None (the path is never used)."""
    if "\x00" in name:
        return f"refused: the file name contains a NUL byte ({_shown(name)})"
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base.strip() in ("", ".", ".."):
        return f"refused: no usable file name ({_shown(name)})"
    return None


def member_name_problem(name: str) -> str | None:
    """Why an archive member's path must not be used, or None if it is harmless ("/" separated)."""
    if "\x00" in name:
        return f"refused: the name contains a NUL byte ({_shown(name)})"
    if name.startswith("/"):
        return f"refused: absolute path ({name})"
    if _DRIVE.match(name):
        return f"refused: drive letter in path ({name})"
    parts = name.split("/")
    if ".." in parts:
        return f"refused: path escapes the archive ({name})"
    if parts[-1].strip() in ("", "."):
        return f"refused: no file name ({_shown(name)})"
    return None
