"""Folder helpers for the command line: a safe recursive scan and the tidy-up of settled files."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from .models import Upload

EXTENSIONS = (".fit", ".fit.gz", ".gpx", ".gpx.gz", ".tcx", ".tcx.gz", ".zip", ".gz")
TIDY_DIRS = ("_junk", "_failed", "_uploaded")


def scan_folder(root: Path) -> Iterator[Path]:
    """Activity files and archives under `root` (extensions in any case), never outside it.

    Symlinks that lead out of the folder are skipped, as are our own tidy-up folders.
    """
    root = root.resolve()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts and relative.parts[0] in TIDY_DIRS:
            continue
        if not path.is_file() or not path.name.lower().endswith(EXTENSIONS):
            continue
        if not path.resolve().is_relative_to(root):
            continue
        yield path


def tidy_target(statuses: list[str]) -> str | None:
    """Where a source file goes once all of its uploads settled (None: not yet settled)."""
    if not statuses or any(s not in Upload.FINAL for s in statuses):
        return None
    if any(s == Upload.Status.FAILED for s in statuses):
        return "_failed"
    if all(s == Upload.Status.JUNK for s in statuses):
        return "_junk"
    return "_uploaded"


def tidy_move(root: Path, source: Path, target_dir: str) -> Path:
    """Move a file into root/target_dir keeping its relative path; nothing is overwritten."""
    relative = source.resolve().relative_to(root.resolve())
    destination = root / target_dir / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    stem, n = destination, 1
    while destination.exists():
        destination = stem.with_name(f"{stem.stem}.{n}{stem.suffix}")
        n += 1
    shutil.move(str(source), destination)
    return destination
