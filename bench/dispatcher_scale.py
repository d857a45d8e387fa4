"""The dispatcher and the warehouse pages at scale, on PostgreSQL: 10,000 athletes, 1,000,000 activities.

    .venv/bin/python bench/dispatcher_scale.py [--athletes 10000 --big 1000000 --ticks 15] [--keep]

Creates a throwaway database (`stravasync_bench_scale` on 127.0.0.1:5432, user postgres; dropped
at the end unless --keep), migrates it, and bulk-loads with `INSERT ... SELECT generate_series`
(the ORM one row at a time would take an hour): `--athletes` connected athletes with tokens and
sync states spread over the pull interval; one athlete ("big") with `--big` activities five minutes apart, one
("small") with `--small` over the same years (so that the pages compare numbers of activities, not of
years shown), every other athlete `--each`. Half of everything lacks details (the
enrich backlog of a deployment whose athletes just connected); the rest is enriched and its
efforts stored.

Then it measures `dispatch_tick()` (median of `--ticks`, after one warm-up) with the quota's
limits out of the way, so that every step takes its full batch: the queries, claims and enqueues
(ORM broker) are timed, no Strava call is made. And the list and stats pages for the big and the
small athlete (Django's test client, in-process, median of `--requests`). Each figure is printed
beside its target: tick <= 100 ms median; each page at `--big` <= 2x its time at `--small`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICK_TARGET_MS = 100.0
PAGE_RATIO_TARGET = 2.0
PAGES = {
    "list": "/activities/",
    "list, Run, sorted by distance": "/activities/?sport=Run&sort=-distance",
    "list, last page": "/activities/?page=999999",
    "stats": "/activities/stats/?year=2024",
}
# NOT NULL columns the load does not set get a neutral value by type (Django sets no database defaults).
NEUTRAL = {
    "integer": "0", "bigint": "0", "smallint": "0", "numeric": "0", "double precision": "0", "real": "0",
    "boolean": "false", "character varying": "''", "text": "''", "timestamp with time zone": "now()",
    "date": "current_date", "jsonb": "'{}'::jsonb", "json": "'{}'::json",
}


def psql(sql: str, *, args: argparse.Namespace) -> None:
    subprocess.run(["psql", "-h", args.host, "-p", str(args.port), "-U", "postgres", "-d", "postgres", "-q",
                    "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True)


def insert_series(table: str, count: int, values: dict[str, str], *, start: int = 1) -> None:
    """`count` rows into `table` from `generate_series(start, start + count - 1) AS g`: `values` maps
    columns to SQL expressions of g; other NOT NULL columns get NEUTRAL values, nullable ones NULL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
            "AND is_nullable = 'NO' AND is_identity = 'NO' AND column_default IS NULL", [table])
        columns = dict(values)
        for name, data_type in cursor.fetchall():
            columns.setdefault(name, NEUTRAL[data_type])
        names = ", ".join(f'"{c}"' for c in columns)
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {', '.join(columns.values())} "
                       f"FROM generate_series({start}::bigint, {start + count - 1}) AS g")


def load(args: argparse.Namespace) -> dict[str, int]:
    """Athletes, tokens, sync states and activities; returns the big and small athletes' user and athlete ids."""
    from django.db import connection

    n = args.athletes
    insert_series("auth_user", n, {"username": "'bench' || g", "password": "'!'", "is_active": "true",
                                   "date_joined": "now()"})
    insert_series("accounts_athlete", n, {
        "user_id": "(SELECT id FROM auth_user WHERE username = 'bench' || g)", "strava_id": "1000000 + g",
        "firstname": "'Bench'", "lastname": "g::text", "scopes": "'read,activity:read_all'",
        "connected_at": "now()"})
    insert_series("accounts_stravatoken", n, {
        "athlete_id": "(SELECT id FROM accounts_athlete WHERE strava_id = 1000000 + g)",
        "expires_at": "now() + interval '6 hours'", "scopes": "'read,activity:read_all'"})
    # Pulled up to date, each athlete's next pull somewhere in the next hour (as the sweep spreads them).
    insert_series("warehouse_syncstate", n, {
        "athlete_id": "(SELECT id FROM accounts_athlete WHERE strava_id = 1000000 + g)",
        "backfill_done": "true", "pull_page": "0", "next_pull_at": "now() + (g % 3600) * interval '1 second'",
        "watermark": "now() - interval '1 day'", "last_success_at": "now()"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM accounts_athlete")
        first, last = cursor.fetchone()
    big, small = first, first + 1
    # Activities `step` seconds apart backwards from 2026 (1,000,000 five minutes apart span 9.5 years); odd ones lack details.
    activity = {
        "strava_id": "{base} + g", "athlete_id": "{athlete}", "name": "'Ride ' || g",
        "sport_type": "(ARRAY['Ride','Run','VirtualRide','Walk','Swim','GravelRide'])[(1 + g % 6)::int]",
        "type": "(ARRAY['Ride','Run','VirtualRide','Walk','Swim','Ride'])[(1 + g % 6)::int]",
        "start_date": "timestamptz '2026-01-01 00:00:00+00' - g * interval '{step} seconds'",
        "start_date_local": "timestamptz '2026-01-01 01:00:00+00' - g * interval '{step} seconds'",
        "start_day": "(timestamp '2026-01-01 01:00:00' - g * interval '{step} seconds')::date",
        "distance": "1000 + (g * 7919) % 90000", "moving_time": "600 + (g * 104729) % 20000",
        "elapsed_time": "700 + (g * 104729) % 22000", "total_elevation_gain": "(g * 31) % 1500",
        "detail_fetched_at": "CASE WHEN g % 2 = 0 THEN now() END",
        "efforts_stored_at": "CASE WHEN g % 2 = 0 THEN now() END",
        "source": "'api'", "created_at": "now()", "updated_at": "now()",
    }

    def activities(athlete: str, count: int, base: int, step: int = 300) -> None:
        insert_series("warehouse_activity", count,
                      {k: v.format(athlete=athlete, base=base, step=step) for k, v in activity.items()})

    activities(str(big), args.big, 10**10)
    activities(str(small), args.small, 2 * 10**10, step=300 * args.big // max(1, args.small))
    others = last - small
    if others > 0 and args.each > 0:
        # g walks the other athletes in turn: athlete small+1+(g % others), its (g / others)-th activity.
        activity["athlete_id"] = f"{small + 1} + g % {others}"
        activities("", others * args.each, 3 * 10**10)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would after a load: visibility map and statistics
    from accounts.models import Athlete
    from warehouse.services import rollups_refresh

    for pk in (big, small):
        rollups_refresh(athlete_id=pk)
    users = dict(Athlete.objects.filter(pk__in=[big, small]).values_list("pk", "user_id"))
    return {"big": big, "small": small, "big_user": users[big], "small_user": users[small]}


def median_ms(call: Callable[[], object], runs: int) -> float:
    call()  # warm: imports, plans, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(args: argparse.Namespace, ids: dict[str, int]) -> tuple[float, dict[str, float], dict[str, dict[str, float]]]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils.module_loading import import_string

    from stravasync.strava.dispatch import dispatch_tick

    tick_ms = median_ms(dispatch_tick, args.ticks)  # as run_dispatcher calls it: no transaction around the tick
    steps = {path.rsplit(".", 1)[-1]: median_ms(import_string(path), args.ticks) for path in settings.DISPATCH_STEPS}
    pages: dict[str, dict[str, float]] = {}
    for who in ("small", "big"):
        client = Client()
        client.force_login(get_user_model().objects.get(pk=ids[f"{who}_user"]))
        for name, url in PAGES.items():
            def get(url: str = url, client: Client = client) -> None:
                assert client.get(url).status_code == 200, url
            pages.setdefault(name, {})[who] = median_ms(get, args.requests)
    return tick_ms, steps, pages


def report(args: argparse.Namespace, tick_ms: float, steps: dict[str, float],
           pages: dict[str, dict[str, float]], load_seconds: float) -> bool:
    total = args.big + args.small + max(0, args.athletes - 2) * args.each
    print(f"dispatcher at scale — PostgreSQL, {args.athletes:,} connected athletes, {total:,} activities "
          f"(half without details), loaded in {load_seconds:.0f} s")
    ok = tick_ms <= TICK_TARGET_MS
    print(f"  {'dispatch_tick(), median of ' + str(args.ticks):44}{tick_ms:>9.1f} ms   target <= {TICK_TARGET_MS:.0f} ms"
          f"   {'ok' if ok else 'MISSED'}")
    for name, ms in steps.items():
        print(f"    {name:42}{ms:>9.1f} ms")
    print(f"  {'page (median of ' + str(args.requests) + ')':44}{args.small:>9,} {args.big:>11,}   ratio   target")
    for name, times in pages.items():
        ratio = times["big"] / times["small"]
        ok = ok and ratio <= PAGE_RATIO_TARGET
        print(f"  {name:44}{times['small']:>7.1f}ms {times['big']:>9.1f}ms  {ratio:>5.2f}x  <= {PAGE_RATIO_TARGET:.0f}x"
              f"   {'ok' if ratio <= PAGE_RATIO_TARGET else 'MISSED'}")
    return ok


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=1_000_000, help="activities of the big athlete")
    parser.add_argument("--small", type=int, default=1_000, help="activities of the small athlete")
    parser.add_argument("--each", type=int, default=10, help="activities of every other athlete")
    parser.add_argument("--ticks", type=int, default=15)
    parser.add_argument("--requests", type=int, default=9)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--database", default="stravasync_bench_scale")
    parser.add_argument("--keep", action="store_true", help="keep the database (to EXPLAIN by hand)")
    parser.add_argument("--reuse", action="store_true", help="measure a database kept by --keep, without loading")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    media = tempfile.mkdtemp(prefix="dispatcher-scale-")
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "stravasync.settings",
        "DATABASE_URL": f"postgres://postgres@{args.host}:{args.port}/{args.database}",
        "REDIS_URL": "",  # the ORM broker: enqueues are rows in the same database, part of the tick's cost
        "STRAVA_CLIENT_ID": "", "MEDIA_ROOT": media, "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        # Limits out of the way: every step takes its whole batch, the most a tick ever does.
        "QUOTA_LIMIT_SHORT": "100000000", "QUOTA_READ_LIMIT_SHORT": "100000000",
        "QUOTA_LIMIT_DAILY": "100000000", "QUOTA_READ_LIMIT_DAILY": "100000000", "QUOTA_WINDOW_PROBE_PERMITS": "0",
    })
    if not args.reuse:
        psql(f'DROP DATABASE IF EXISTS "{args.database}"', args=args)
        psql(f'CREATE DATABASE "{args.database}"', args=args)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test.utils import setup_test_environment

        settings.STORAGES = {**settings.STORAGES, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        setup_test_environment()
        started = time.perf_counter()
        if args.reuse:
            from accounts.models import Athlete

            big, small = Athlete.objects.order_by("pk").values_list("pk", "user_id")[:2]
            ids = {"big": big[0], "big_user": big[1], "small": small[0], "small_user": small[1]}
        else:
            call_command("migrate", "--noinput", "-v", "0")
            ids = load(args)
        load_seconds = time.perf_counter() - started
        ok = report(args, *measure(args, ids), load_seconds)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            psql(f'DROP DATABASE IF EXISTS "{args.database}"', args=args)
        subprocess.run(["rm", "-rf", media], check=False)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
