"""A hostile Strava export against the import task: time to refusal and peak RSS, beside the limits.

    .venv/bin/python bench/hostile_export.py [--gib 1.5]

Builds, in a temporary folder, an export whose activities.csv is a header and 1.5 GiB of NUL
bytes (about 1.5 MB zipped), the same with 128 MiB stored uncompressed (nothing in the zip's
headers refuses it: the reading must), the normal export with one route file swapped for a
gzip bomb (1 GiB of GPX blanks: imported, that route skipped), and the normal one (the test export). Each is stored as the web page
stores it and imported by the task a worker runs (`warehouse.tasks.import_export`), in a fresh
process of its own with its own SQLite database; that process reports the wall time of the task
and its peak RSS (the whole process: Django loaded, the task run). Limits: refused within 5 s,
peak RSS at most 150 MB, and the run closed with the reason the import page shows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NORMAL_EXPORT = ROOT / "tests" / "data" / "strava_export" / "strava_export.zip"
LIMIT_SECONDS = 5.0
LIMIT_RSS_MB = 150.0
CHUNK = 16 * 1024 * 1024


def build_hostile(path: Path, gib: float, compression: int = zipfile.ZIP_DEFLATED) -> None:
    """activities.csv: the real header, then `gib` GiB of NUL bytes (written in chunks, never whole)."""
    with zipfile.ZipFile(NORMAL_EXPORT) as source:
        header = source.read("activities.csv").split(b"\n", 1)[0] + b"\n"
    left = int(gib * 1024**3)
    zeros = bytes(CHUNK)
    with zipfile.ZipFile(path, "w", compression) as archive, \
            archive.open("activities.csv", "w", force_zip64=True) as member:
        member.write(header)
        while left > 0:
            member.write(zeros[: min(CHUNK, left)])
            left -= CHUNK


def build_route_bomb(path: Path, mib: int = 1024) -> str:
    """The normal export with one activity file swapped for a gzip of `mib` MiB of GPX whitespace (~1 MB)."""
    with zipfile.ZipFile(NORMAL_EXPORT) as source:
        victim = next(i.filename for i in source.infolist() if i.filename.endswith(".gpx.gz"))
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        blanks = b" " * (1024 * 1024)
        parts = [packer.compress(b'<?xml version="1.0"?><gpx><trk><trkseg>')]
        parts += [packer.compress(blanks) for _ in range(mib)]
        bomb = b"".join([*parts, packer.flush()])
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
            for info in source.infolist():
                out.writestr(info, bomb if info.filename == victim else source.read(info))
    return victim


def _django(workdir: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "stravasync.settings", "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"), "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING", "DEBUG": "false",
        "STORAGE_BACKEND": "filesystem",
    })
    import django

    django.setup()


def prepare(workdir: Path, archive: Path) -> dict:
    """In its own process: a database, an athlete, the zip stored as the import page stores it."""
    _django(workdir)
    from django.contrib.auth import get_user_model
    from django.core.files import File
    from django.core.files.storage import default_storage
    from django.core.management import call_command

    from accounts.models import Athlete

    call_command("migrate", "--noinput", "-v", "0")
    user = get_user_model().objects.create_user(username="bench")
    athlete = Athlete.objects.create(user=user, strava_id=777, firstname="Bench")
    with open(archive, "rb") as fh:
        name = default_storage.save(f"imports/{athlete.pk}/{archive.name}", File(fh))
    return {"athlete": athlete.pk, "name": name}


def run_task(workdir: Path, athlete: int, name: str) -> dict:
    """In its own process: what a worker does with the queued task, timed, and its peak RSS."""
    import resource

    _django(workdir)
    from warehouse.models import Activity, SyncRun
    from warehouse.tasks import import_export

    started = time.perf_counter()
    try:
        answer = import_export(athlete, name)
    except Exception as exc:  # the bench reports it; the run row says whether it was closed
        answer = {"raised": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    run = SyncRun.objects.filter(kind="import", athlete_id=athlete).order_by("-id").first()
    return {
        "seconds": seconds, "peak_mb": peak_mb, "answer": answer,
        "run_closed": bool(run and run.finished_at), "run_error": run.error if run else "(no run)",
        "activities": Activity.objects.filter(athlete_id=athlete).count(),
    }


def _child(*args: str) -> dict:
    output = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(label: str, archive: Path, base: Path) -> dict:
    workdir = base / label
    workdir.mkdir()
    prepared = _child("--prepare", str(workdir), str(archive))
    result = _child("--task", str(workdir), str(prepared["athlete"]), prepared["name"])
    return {"label": label, "zip_mb": archive.stat().st_size / 2**20, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.5, help="GiB of NUL bytes in the hostile activities.csv")
    parser.add_argument("--stored-mib", type=float, default=128, help="MiB of NUL bytes in the stored (1:1) variant")
    parser.add_argument("--prepare", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--task", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(prepare(Path(args.prepare[0]), Path(args.prepare[1]))))
        return
    if args.task:
        print(json.dumps(run_task(Path(args.task[0]), int(args.task[1]), args.task[2])))
        return

    base = Path(tempfile.mkdtemp(prefix="hostile-export-"))
    try:
        hostile = base / "export_hostile.zip"
        started = time.perf_counter()
        build_hostile(hostile, args.gib)
        print(f"built {hostile.name}: activities.csv = header + {args.gib:g} GiB of NUL bytes, "
              f"{hostile.stat().st_size / 2**20:.2f} MB zipped ({time.perf_counter() - started:.1f} s)")
        # Within the size limit and stored (1:1): nothing in the headers refuses it, the reading must.
        stored = base / "export_stored.zip"
        build_hostile(stored, args.stored_mib / 1024, zipfile.ZIP_STORED)
        print(f"built {stored.name}: activities.csv = header + {args.stored_mib:g} MiB of NUL bytes, stored (1:1)")
        bombed = base / "export_route_bomb.zip"
        victim = build_route_bomb(bombed)
        print(f"built {bombed.name}: the normal export with {victim} a gzip of 1 GiB of GPX blanks")
        normal = base / "export_normal.zip"
        shutil.copy(NORMAL_EXPORT, normal)
        results = [measure("hostile", hostile, base), measure("stored", stored, base),
                   measure("routebomb", bombed, base), measure("normal", normal, base)]
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(f"{'export':9} {'zip':>8} {'task time':>10} {'limit':>6} {'peak RSS':>9} {'limit':>7}  outcome")
    failures = []
    for r in results:
        outcome = (f"refused: {r['run_error']}" if r["run_error"]
                   else f"imported {r['activities']} activities ({r['answer']})")
        print(f"{r['label']:9} {r['zip_mb']:>6.2f}MB {r['seconds']:>9.2f}s {LIMIT_SECONDS:>5.0f}s "
              f"{r['peak_mb']:>7.0f}MB {LIMIT_RSS_MB:>5.0f}MB  {outcome}")
        if r["peak_mb"] > LIMIT_RSS_MB or not r["run_closed"]:
            failures.append(r["label"])
    *refused, bombed_r, normal_r = results
    for r in refused:
        if r["seconds"] > LIMIT_SECONDS or not r["run_error"] or "raised" in r["answer"]:
            failures.append(f"{r['label']} refusal")
    for r in (bombed_r, normal_r):
        if r["run_error"] or not r["activities"] or r["seconds"] > LIMIT_SECONDS:
            failures.append(f"{r['label']} import")
    print("within the limits" if not failures else f"NOT within the limits: {', '.join(failures)}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
