"""Warehouse: bulk upsert against row-by-row saves, and the list and stats pages at 1,000 and 100,000 activities.

    .venv/bin/python bench/warehouse.py [--sizes 1000 100000] [--requests 15]

Each size gets its own throwaway SQLite database under var/bench/warehouse/ (the app's own
settings: WAL, immediate transactions), filled with one athlete's history spread over ten
years through the real `activities_upsert`, in pages of 200 as a pull stores them. Pages are
timed in-process with Django's test client (middleware, session, queries and template
rendering included; no HTTP server, so the figures are the app's own cost). Row-by-row is
`update_or_create` per activity, what a naive sync does, timed on 2,000 activities.
The goal: the 100,000 figure within 3 times the 1,000 one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DIR = ROOT / "var" / "bench" / "warehouse"
SPORTS = [("Ride", 0.4), ("Run", 0.3), ("VirtualRide", 0.1), ("Walk", 0.1), ("Swim", 0.05), ("GravelRide", 0.05)]
ROW_BY_ROW = 2000


def summaries(count: int, *, first_id: int, athlete_strava_id: int, seed: int) -> list[dict]:
    """`count` SummaryActivities over the ten years before 2026, newest first, as a pull lists them."""
    rng = random.Random(seed)
    end = datetime(2026, 1, 1, tzinfo=UTC)
    span = timedelta(days=3650).total_seconds()
    starts = sorted((end - timedelta(seconds=rng.uniform(0, span))).replace(microsecond=0) for _ in range(count))
    out = []
    for i, start in enumerate(reversed(starts)):
        sport = rng.choices([s for s, _ in SPORTS], weights=[w for _, w in SPORTS])[0]
        distance = rng.uniform(2_000, 90_000)
        moving = int(distance / rng.uniform(2.5, 9.0))
        out.append({
            "id": first_id + i, "resource_state": 2, "athlete": {"id": athlete_strava_id}, "name": f"{sport} {i}",
            "distance": round(distance, 1), "moving_time": moving, "elapsed_time": int(moving * 1.1),
            "total_elevation_gain": round(distance / 100, 1), "type": sport, "sport_type": sport,
            "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start_date_local": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timezone": "(GMT+01:00) Europe/Paris", "kudos_count": rng.randrange(20), "achievement_count": 0,
            "comment_count": 0, "athlete_count": 1, "photo_count": 0, "total_photo_count": 0,
            "map": {"id": f"a{first_id + i}", "summary_polyline": "_p~iF~ps|U_ulLnnqC_mqNvxq`@", "resource_state": 2},
            "trainer": sport == "VirtualRide", "commute": False, "manual": False, "private": False,
            "visibility": "everyone", "flagged": False, "gear_id": "b1", "start_latlng": [45.9, 6.1],
            "end_latlng": [45.9, 6.1], "average_speed": round(distance / moving, 3), "max_speed": 14.0,
            "average_heartrate": 140.0, "max_heartrate": 170.0, "has_heartrate": True, "elev_high": 600.0,
            "elev_low": 400.0, "upload_id": 10**12 + i, "external_id": f"garmin_{i}.fit",
        })
    return out


def child(size: int, requests: int) -> dict:
    """Runs in its own process with its own database: fill it, then time upserts and pages."""
    db_dir = BENCH_DIR / str(size)
    shutil.rmtree(db_dir, ignore_errors=True)
    db_dir.mkdir(parents=True)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "stravasync.settings", "DATABASE_URL": f"sqlite:///{db_dir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(db_dir / "media"), "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING", "DEBUG": "false",
    })
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import Athlete
    from warehouse.models import Activity
    from warehouse.services import activities_upsert, summary_columns

    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    setup_test_environment()
    call_command("migrate", "--noinput", "-v", "0")
    user = get_user_model().objects.create_user(username="bench")
    athlete = Athlete.objects.create(user=user, strava_id=777, firstname="Bench", scopes="read,activity:read_all")
    result: dict = {"size": size}

    history = summaries(size, first_id=20_000_000_000, athlete_strava_id=777, seed=size)
    started = time.perf_counter()
    for start in range(0, len(history), 200):
        activities_upsert(athlete_id=athlete.pk, summaries=history[start : start + 200])
    result["bulk_rate"] = size / (time.perf_counter() - started)

    if size == min(SIZES):
        other = get_user_model().objects.create_user(username="naive")
        naive = Athlete.objects.create(user=other, strava_id=778, firstname="Naive")
        rows = summaries(ROW_BY_ROW, first_id=30_000_000_000, athlete_strava_id=778, seed=1)
        started = time.perf_counter()
        for summary in rows:  # what a sync without bulk writes does: a lookup and a write per activity
            Activity.objects.update_or_create(strava_id=summary["id"], defaults={
                **summary_columns(summary), "summary": summary, "athlete": naive})
        result["row_rate"] = ROW_BY_ROW / (time.perf_counter() - started)
        started = time.perf_counter()
        for start in range(0, ROW_BY_ROW, 200):
            activities_upsert(athlete_id=naive.pk, summaries=[dict(s, kudos_count=99) for s in rows[start : start + 200]])
        result["bulk_update_rate"] = ROW_BY_ROW / (time.perf_counter() - started)
        Activity.objects.filter(athlete=naive).delete()

    client = Client()
    client.force_login(user)
    pages = {
        "list": "/activities/",
        "list, Run, sorted by distance": "/activities/?sport=Run&sort=-distance",
        "list, last page": f"/activities/?page={max(1, size // 50)}",
        "stats": "/activities/stats/?year=2024",
    }
    for name, url in pages.items():
        assert client.get(url).status_code == 200, url  # warm: templates compiled, caches filled
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        result[name] = statistics.median(times) * 1000
    result["db_mb"] = round(sum(p.stat().st_size for p in db_dir.glob("db.sqlite3*")) / 2**20)
    return result


SIZES = (1000, 100_000)


def main() -> None:
    global SIZES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    SIZES = tuple(args.sizes)
    if args.child is not None:
        print(json.dumps(child(args.child, args.requests)))
        return
    results = []
    for size in SIZES:
        output = subprocess.run([sys.executable, __file__, "--child", str(size), "--requests", str(args.requests),
                                 "--sizes", *map(str, SIZES)], check=True, capture_output=True, text=True, cwd=ROOT)
        results.append(json.loads(output.stdout.strip().splitlines()[-1]))
    small, large = results[0], results[-1]
    print("warehouse — SQLite, one athlete; pages timed in-process with Django's test client "
          f"(median of {args.requests})")
    print(f"  bulk upsert, pages of 200:  {large['bulk_rate']:>9,.0f} activities/s (filling {large['size']:,})")
    if "row_rate" in small:
        print(f"  bulk upsert of changes:     {small['bulk_update_rate']:>9,.0f} activities/s")
        print(f"  row by row (update_or_create): {small['row_rate']:>6,.0f} activities/s  "
              f"-> bulk is {small['bulk_rate'] / small['row_rate']:.1f}x faster")
    names = [k for k in small if k.startswith(("list", "stats"))]
    print(f"  {'page':34} " + " ".join(f"{r['size']:>10,}" for r in results) + "     ratio")
    worst = 0.0
    for name in names:
        ratio = large[name] / small[name]
        worst = max(worst, ratio)
        print(f"  {name:34} " + " ".join(f"{r[name]:>8.1f}ms" for r in results) + f"   {ratio:>6.2f}x")
    print("  database size: " + ", ".join(f"{r['size']:,}: {r['db_mb']} MB" for r in results))
    verdict = "within" if worst <= 3 else "NOT within"
    print(f"  {large['size']:,} vs {small['size']:,}: worst page {worst:.2f}x, {verdict} the 3x goal")
    if worst > 3:
        sys.exit(1)


if __name__ == "__main__":
    main()
