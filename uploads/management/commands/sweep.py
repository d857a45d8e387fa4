"""Classify activity files without uploading anything: one verdict per file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from activityfiles import classify_bytes, classify_file, sniff_type
from uploads.archives import iter_zip_members
from uploads.folders import Skipped, scan_folder


def sweep_path(root: Path) -> list[dict]:
    """Verdicts for every file (and every archive member) under root, with no call and no write."""
    results: list[dict] = []
    skipped: list[Skipped] = []
    files = [root] if root.is_file() else list(scan_folder(root, skipped))
    results += [{"file": item.name, "verdict": "skipped", "reason": item.reason} for item in skipped]
    for path in files:
        with open(path, "rb") as fh:
            kind = sniff_type(fh.read(512))
        if kind == "zip":
            for member in iter_zip_members(str(path), prefix=path.name):
                if member.refusal or member.data is None:
                    results.append({"file": member.name, "verdict": "failed", "reason": member.refusal or "unreadable"})
                    continue
                verdict = classify_bytes(member.data)
                results.append(_row(member.name, verdict))
        else:
            results.append(_row(str(path.relative_to(root) if root.is_dir() else path.name), classify_file(path)))
    return results


def _row(name: str, verdict) -> dict:
    return {
        "file": name,
        "verdict": verdict.status,
        "type": verdict.file_type,
        "data_type": verdict.data_type,
        "start_time": verdict.start_time.isoformat() if verdict.start_time else None,
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
            detail = row.get("reason") or row.get("type") or ""
            self.stdout.write(f"{row['verdict']:9} {row['file']}  {detail}")
        totals: dict[str, int] = {}
        for row in results:
            totals[row["verdict"]] = totals.get(row["verdict"], 0) + 1
        self.stdout.write(", ".join(f"{n} {v}" for v, n in sorted(totals.items())) or "no files")
