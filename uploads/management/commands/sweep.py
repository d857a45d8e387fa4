"""Classify activity files without uploading anything: one verdict per file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from activityfiles import Verdict, classify_file, sniff_type
from uploads.archives import iter_zip_members, tar_refusal
from uploads.folders import Skipped, scan_folder
from uploads.services.intake import archive_limits, spool_dir
from uploads.services.storage import spool_classify


def sweep_path(root: Path) -> list[dict[str, Any]]:
    """Verdicts for every file (and every archive member) under root, with no call and no write."""
    results: list[dict] = []
    skipped: list[Skipped] = []
    files = [root] if root.is_file() else list(scan_folder(root, skipped))
    results += [{"file": item.name, "verdict": "skipped", "reason": item.reason} for item in skipped]
    for path in files:
        with open(path, "rb") as fh:
            head = fh.read(512)
        if sniff_type(head) == "zip":
            # Each member is spooled (bounded) and classified before the next one is read.
            for member in iter_zip_members(path, limits=archive_limits(), prefix=f"{path.name}/", spool_dir=spool_dir()):
                if member.spool is None:
                    results.append({"file": member.name, "verdict": "failed", "reason": member.refusal or "unreadable"})
                    continue
                tar = tar_refusal(member.spool.head)
                results.append(_row(member.name, _failed(tar) if tar else spool_classify(member.spool)))
        elif tar := tar_refusal(head):
            results.append(_row(_shown(root, path), _failed(tar)))
        else:
            results.append(_row(_shown(root, path), classify_file(path)))
    return results


def _shown(root: Path, path: Path) -> str:
    return str(path.relative_to(root) if root.is_dir() else path.name)


def _failed(reason: str) -> Verdict:
    return Verdict("failed", None, reason, None, None, None, None, None)


def _row(name: str, verdict: Verdict) -> dict[str, Any]:
    return {
        "file": name,
        "verdict": verdict.status,
        "type": verdict.file_type,
        "data_type": verdict.data_type,
        "start_time": verdict.start_time.isoformat() if verdict.start_time else None,  # the recorded start, UTC
        "sport": verdict.sport,
        "reason": verdict.reason,
    }


class Command(BaseCommand):
    help = "Classify activity files (eligible / junk / failed) without spending any API call."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["path"])
        if not root.exists():
            raise CommandError(f"{root} does not exist")
        results = sweep_path(root)
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2))
            return
        for row in results:
            recorded = " ".join(str(v) for v in (row.get("sport"), row.get("start_time")) if v)
            detail = row.get("reason") or recorded or row.get("type") or ""
            self.stdout.write(f"{row['verdict']:9} {row['file']}  {detail}")
        totals: dict[str, int] = {}
        for row in results:
            totals[row["verdict"]] = totals.get(row["verdict"], 0) + 1
        self.stdout.write(", ".join(f"{n} {v}" for v, n in sorted(totals.items())) or "no files")
