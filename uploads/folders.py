"""Folder helpers for the command line: a safe recursive scan and the tidy-up of settled files."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .models import Upload

EXTENSIONS = (".fit", ".fit.gz", ".gpx", ".gpx.gz", ".tcx", ".tcx.gz", ".zip", ".gz")
TIDY_DIRS = ("_junk", "_failed", "_uploaded", "_kept")


@dataclass(frozen=True)
class Skipped:
    """An input of the folder that was not ingested, and why (it gets a line in the report)."""

    name: str  # relative to the folder
    reason: str

    def report_row(self) -> dict[str, str | None]:
        return {"file": self.name, "status": "skipped", "upload_id": None, "activity_id": None,
                "duplicate_of": None, "reason": self.reason, "start_time": None, "sha256": ""}


def _special_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "not a regular file"


def scan_folder(root: Path, skipped: list[Skipped] | None = None) -> Iterator[Path]:
    """Activity files and archives under `root` (extensions in any case), never outside it.

    Our own tidy-up folders and files of other types are passed over in silence (as in archives);
    symlinks that are broken or lead out of the folder, FIFOs, sockets and devices are skipped
    with a reason added to `skipped`.
    """
    root = root.resolve()
    notes = skipped if skipped is not None else []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts and relative.parts[0] in TIDY_DIRS:
            continue
        if path.is_symlink():
            target = path.resolve()
            if not target.exists():
                notes.append(Skipped(str(relative), "skipped: a broken symlink"))
                continue
            if not target.is_relative_to(root):
                notes.append(Skipped(str(relative), "skipped: a symlink leading outside the folder"))
                continue
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            notes.append(Skipped(str(relative), f"skipped: could not be read ({exc.strerror or exc})"))
            continue
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode):
            notes.append(Skipped(str(relative), f"skipped: {_special_kind(mode)}, not a regular file"))
            continue
        if not path.name.lower().endswith(EXTENSIONS):
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
    if Upload.Status.LOCAL in statuses and Upload.Status.DONE not in statuses:
        return "_kept"  # kept here only: in the warehouse, never sent
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
