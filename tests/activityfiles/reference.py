"""The reference for recorded starts and sports: fitparse's reading, stored by sha256 (it needs minutes).

tests/data/make_fitparse_reference.py writes the stored answers; a file missing from them is
parsed live, and test_recorded.py checks some stored answers against fitparse on every run.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import fitparse

from activityfiles import strava_sport

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = Path("/work/shared/data")


def _distinct(folders: list[Path], suffixes: tuple[str, ...]) -> list[Path]:
    seen: set[str] = set()
    files = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in suffixes and path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if digest not in seen:
                    seen.add(digest)
                    files.append(path)
    return files


FIT_FILES = _distinct([DATA, SHARED / "fit"], (".fit",))
XML_FILES = _distinct([DATA, SHARED / "gpx-tcx"], (".gpx", ".tcx"))


def label(path: Path) -> str:
    return ("shared/" if path.is_relative_to(SHARED) else "") + path.name.rsplit("__", 1)[-1]


REFERENCE_FILE = DATA / "fitparse_reference.json"
Reference = tuple[datetime | None, str | None] | None


@functools.cache
def _stored() -> dict[str, list[str | None] | None]:
    return json.loads(REFERENCE_FILE.read_text()) if REFERENCE_FILE.exists() else {}


@functools.cache
def fitparse_reference(path: Path) -> Reference:
    """(start, sport_type) of an activity as fitparse reads it; None if not an activity or fitparse cannot parse it."""
    stored = _stored()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest not in stored:
        return fitparse_parse(path)
    answer = stored[digest]
    if answer is None:
        return None
    start, sport = answer
    return (datetime.fromisoformat(start) if start else None), sport


def fitparse_parse(path: Path) -> Reference:
    """fitparse's own reading of the file, now (slow: a second or more for a long ride)."""
    try:
        messages = list(fitparse.FitFile(str(path)).get_messages())
    except Exception:  # fitparse's failures only leave the file out of the comparison
        return None
    by_name: dict[str, list[fitparse.DataMessage]] = {}
    for message in messages:
        by_name.setdefault(message.name, []).append(message)
    file_ids = by_name.get("file_id", [])
    if not file_ids or file_ids[0].get_value("type") != "activity":
        return None
    sessions = by_name.get("session", [])
    start = sessions[0].get_value("start_time") if sessions else None
    if start is None:
        start = next((m.get_value("timestamp") for m in by_name.get("record", []) if m.get_value("timestamp")), None)
    named = sessions or by_name.get("sport", []) or by_name.get("lap", [])
    sport = strava_sport(named[0].get_value("sport"), named[0].get_value("sub_sport"))[0] if named else None
    return (start.replace(tzinfo=UTC) if start else None), sport
