"""One OS process of a quota drill: its threads drain a backlog shared with other processes.

    python bench/quota_worker.py --threads 2 --backlog PATH --tokens PATH --out PATH \\
        --priority upload --mode app|naive [--naive-limit N --naive-window S] [--start-at EPOCH]

Django is set up from the environment the parent passes (DJANGO_SETTINGS_MODULE,
DATABASE_URL, STRAVA_API_URL, QUOTA_*), so several of these processes share one quota row,
exactly as the app's workers on several machines do.

The backlog is a file holding the number of items left; an item is taken under `fcntl.flock`,
so the processes split the work without any other coordination. Each item is one real API
call (`GET /athlete`, or `GET /athlete/activities` with `--endpoint activities`) for one of
the athletes in the tokens file (one access token per line), in rotation. A call that Strava
refuses keeps its item: the thread tries it again, so the backlog counts work done, not calls.

Two modes, the point of the drill being to compare them:

* ``app``: before each item a thread takes a permit from the application-wide quota
  (`quota.acquire`) and hands it to `StravaClient(grant=...)`; refused, it sleeps until the
  answer's `not_before` (at most 0.5 s at a time, since another process may release permits).
* ``naive``: what the original single-user scripts did. A per-process counter believes it
  owns the whole limit; the process calls until it has counted the limit or got a 429, then
  sleeps until the next window. Nothing is shared with the other processes.

Each call (not each item) appends one JSON line ``{"t", "status", "pid", "mode"}`` to `--out`.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_SLEEP = 0.5  # a refused thread looks again at least this often: permits may be released
MAX_FAILURES = 5  # an item that keeps failing for another reason than the quota is given up


# --- the shared backlog ---------------------------------------------------------------------
def take_item(backlog: Path) -> int | None:
    """Take one item from the shared counter; its number (counting down), or None when empty.

    `flock` on the file itself serialises every thread of every process: the read-decrement-
    write must be atomic or two processes would do the same item.
    """
    with open(backlog, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            left = int(handle.read().strip() or 0)
            if left <= 0:
                return None
            handle.seek(0)
            handle.truncate()
            handle.write(str(left - 1))
            handle.flush()
            return left - 1
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_backlog(backlog: Path, items: int) -> None:
    """(Re)fill the backlog: used by the parent before it starts the workers."""
    backlog.write_text(str(items))


def read_tokens(path: Path) -> list[str]:
    tokens = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not tokens:
        raise SystemExit(f"no access tokens in {path}")
    return tokens


# --- the call log ---------------------------------------------------------------------------
class CallLog:
    """Appends one JSON line per call; one `write` on an O_APPEND file keeps lines whole across processes."""

    def __init__(self, path: Path, mode: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.mode = mode
        self.pid = os.getpid()

    def record(self, status: int, *, t: float | None = None) -> None:
        line = json.dumps({"t": time.time() if t is None else t, "status": status, "pid": self.pid, "mode": self.mode})
        os.write(self.fd, (line + "\n").encode())

    def close(self) -> None:
        os.close(self.fd)


class Stats:
    """Per-process tallies; threads add to them, so `+=` on a dict is not enough."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts = {"done": 0, "429": 0, "failed": 0, "crashed": 0}

    def add(self, key: str) -> None:
        with self.lock:
            self.counts[key] += 1


# --- app mode: the application-wide quota -----------------------------------------------------
def app_thread(args: argparse.Namespace, tokens: list[str], log: CallLog, stats: Stats) -> None:
    """Permit first, then an item: a permit with no work left is given back, never wasted."""
    from django.db import connection

    from stravasync.strava import quota
    from stravasync.strava.client import StravaClient
    from stravasync.strava.errors import RateLimited, StravaError

    priority = quota.Priority[args.priority.upper()]
    item: int | None = None  # held across attempts until its call succeeds
    failures = 0
    try:
        while True:
            grant = quota.acquire(kind=quota.Kind.READ, priority=priority)
            if not grant.granted:
                assert grant.not_before is not None
                time.sleep(min(MAX_SLEEP, max(0.0, quota.seconds_until(grant.not_before))))
                continue
            if item is None:
                item = take_item(args.backlog)
                if item is None:
                    quota.release(grant, 1, kind=quota.Kind.READ)
                    return
            client = StravaClient(access_token=tokens[item % len(tokens)], priority=priority, grant=grant)
            started = time.time()
            try:
                call(client, args.endpoint)
            except RateLimited as exc:
                if exc.status == 429:  # Strava refused a call we made; no call at all otherwise
                    log.record(429, t=started)
                    stats.add("429")
                time.sleep(min(MAX_SLEEP, max(0.0, exc.retry_at.timestamp() - time.time())))
                continue
            except StravaError as exc:
                if client.calls:
                    log.record(exc.status or 599, t=started)
                failures += 1
                if failures < MAX_FAILURES:
                    continue
                stats.add("failed")
            else:
                log.record(200, t=started)
                stats.add("done")
            item, failures = None, 0
    finally:
        connection.close()


def call(client: Any, endpoint: str) -> Any:
    if endpoint == "activities":
        return client.list_activities(per_page=30)
    return client.get_athlete()


# --- naive mode: every process for itself -------------------------------------------------------
class NaiveCounter:
    """A single-user script's budget: it believes the whole limit is its own."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.lock = threading.Lock()
        self.index = -1
        self.used = 0
        self.closed_until = 0.0

    def take(self) -> float:
        """0 if a call may go now, else how long to sleep (until the next window)."""
        now = time.time()
        with self.lock:
            if now < self.closed_until:
                return self.closed_until - now
            index = int(now // self.window)
            if index != self.index:
                self.index, self.used = index, 0
            if self.used >= self.limit:
                self.closed_until = (index + 1) * self.window
                return self.closed_until - now
            self.used += 1
            return 0.0

    def rate_limited(self) -> None:
        """A 429: the script stops until the next window, as the old scripts did."""
        now = time.time()
        with self.lock:
            self.closed_until = max(self.closed_until, (int(now // self.window) + 1) * self.window)


def naive_thread(
    args: argparse.Namespace, tokens: list[str], log: CallLog, stats: Stats, counter: NaiveCounter
) -> None:
    """Plain HTTP with the athlete's token, as the original scripts made it: no shared quota at all."""
    from django.conf import settings

    from stravasync.strava.http import http_session

    path = "athlete/activities" if args.endpoint == "activities" else "athlete"
    params = {"per_page": 30} if args.endpoint == "activities" else None
    url = f"{settings.STRAVA_API_URL}/{path}"
    item: int | None = None
    failures = 0
    while True:
        wait = counter.take()
        if wait > 0:
            time.sleep(wait)
            continue
        if item is None:
            item = take_item(args.backlog)
            if item is None:
                return
        started = time.time()
        try:
            response = http_session().get(
                url, params=params, headers={"Authorization": f"Bearer {tokens[item % len(tokens)]}"},
                timeout=settings.STRAVA_HTTP_TIMEOUT,
            )
            status = response.status_code
        except OSError:
            status = 0
        log.record(status, t=started)
        if status == 429:
            stats.add("429")
            counter.rate_limited()
            continue
        if status >= 400 or status == 0:
            failures += 1
            if failures < MAX_FAILURES:
                continue
            stats.add("failed")
        else:
            stats.add("done")
        item, failures = None, 0


# --- main -------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backlog", type=Path, required=True, help="file holding the number of items left")
    parser.add_argument("--tokens", type=Path, required=True, help="access tokens, one per line")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, one per call")
    parser.add_argument("--priority", default="upload", help="quota priority name (app mode)")
    parser.add_argument("--mode", choices=["app", "naive"], default="app")
    parser.add_argument("--endpoint", choices=["athlete", "activities"], default="athlete")
    parser.add_argument("--naive-limit", type=int, default=None, help="calls per window (default: the read limit)")
    parser.add_argument("--naive-window", type=float, default=None, help="seconds (default QUOTA_WINDOW_SECONDS)")
    parser.add_argument("--start-at", type=float, default=None, help="epoch at which every process starts together")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        # `make bench` runs every bench/*.py bare; this one is started by bench/quota.py with its arguments.
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 0
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stravasync.settings")
    import django

    django.setup()
    from django.conf import settings

    tokens = read_tokens(args.tokens)
    log = CallLog(args.out, args.mode)
    stats = Stats()
    if args.mode == "app":
        from stravasync.strava import quota

        quota.Priority[args.priority.upper()]  # fail fast on a bad name, before any thread starts

        def run() -> None:
            app_thread(args, tokens, log, stats)
    else:
        counter = NaiveCounter(
            args.naive_limit or min(settings.QUOTA_LIMIT_SHORT, settings.QUOTA_READ_LIMIT_SHORT),
            args.naive_window or settings.QUOTA_WINDOW_SECONDS,
        )

        def run() -> None:
            naive_thread(args, tokens, log, stats, counter)

    if args.start_at is not None:
        # Booting Django takes a while; starting together keeps the processes' first window comparable.
        time.sleep(max(0.0, args.start_at - time.time()))
    threads = [threading.Thread(target=guarded(run, stats), name=f"drain-{i}") for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    print(json.dumps({"pid": os.getpid(), "mode": args.mode, **stats.counts}), flush=True)
    return 1 if stats.counts["crashed"] else 0


def guarded(run: Callable[[], None], stats: Stats) -> Callable[[], None]:
    """A crashed thread must show in the exit status, not just vanish from the drill."""

    def wrapper() -> None:
        try:
            run()
        except BaseException:
            stats.add("crashed")
            raise

    return wrapper


if __name__ == "__main__":
    sys.exit(main())
