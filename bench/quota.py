"""Shared quota against per-process counters: the same backlog, drained twice, under Strava-like limits.

    .venv/bin/python bench/quota.py [--windows 5 --limit 30 --window-seconds 4]

Starts the app (gunicorn, simulator mounted) on a throwaway SQLite database under var/bench/,
connects a few simulated athletes over real OAuth, then lets two OS processes with two
threads each drain one backlog of `GET /athlete` calls (bench/quota_worker.py), once taking
permits from the app's quota and once as the original single-user scripts did (each
process counts its own calls against the whole limit). The simulator counts every request,
refused ones included, as Strava does, and its request log is what is measured.

The backlog fills `--windows` windows at the limit, the last one half: with the quota the
drain should end in exactly that many windows with no 429. Windows are compressed, but the
quota's edge stays at a latency-sized 0.2 s (it guards against network delay, which does
not shrink with the window).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DIR = ROOT / "var" / "bench"
PROCESSES = 2
THREADS = 2
BOOT_SECONDS = 3.0  # a worker sets Django up before the common start; slower machines start a bit late
BIG = 1_000_000  # daily limits out of the way: this bench is about the short window


@dataclass
class Run:
    """What the simulator saw during one drain."""

    mode: str
    start: float
    calls: list[tuple[float, int]] = field(default_factory=list)  # (epoch, status)
    exit_codes: list[int] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return sum(1 for _, status in self.calls if status == 429)

    @property
    def ok(self) -> int:
        return sum(1 for _, status in self.calls if 200 <= status < 300)

    @property
    def wall(self) -> float:
        return (max(t for t, _ in self.calls) - self.start) if self.calls else 0.0

    def per_window(self, length: float) -> list[tuple[int, int]]:
        """(answered, refused) per window from the start window to the last one with a call."""
        first = int(self.start // length)
        last = max(int(t // length) for t, _ in self.calls) if self.calls else first
        ok = Counter(int(t // length) for t, status in self.calls if status != 429)
        refused = Counter(int(t // length) for t, status in self.calls if status == 429)
        return [(ok[i], refused[i]) for i in range(first, last + 1)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(args: argparse.Namespace, db: Path, port: int) -> dict[str, str]:
    """Every setting the result depends on, explicit, so a developer's .env cannot change it."""
    site = f"http://127.0.0.1:{port}"
    limit, window = str(args.limit), str(args.window_seconds)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stravasync.settings",
        "DATABASE_URL": f"sqlite:///{db}",
        "REDIS_URL": "",
        "STRAVA_CLIENT_ID": "",  # empty: sandbox mode, the simulator is mounted
        "STRAVA_CLIENT_SECRET": "sandbox-secret",
        "SITE_URL": site,
        "STRAVA_API_URL": f"{site}/sandbox/strava/api/v3",
        "STRAVA_OAUTH_URL": f"{site}/sandbox/strava/oauth",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "SANDBOX_LIMIT_SHORT": limit,
        "SANDBOX_READ_LIMIT_SHORT": limit,
        "SANDBOX_LIMIT_DAILY": str(BIG),
        "SANDBOX_READ_LIMIT_DAILY": str(BIG),
        "SANDBOX_WINDOW_SECONDS": window,
        "SANDBOX_DAY_SECONDS": "86400",
        "QUOTA_LIMIT_SHORT": limit,
        "QUOTA_READ_LIMIT_SHORT": limit,
        "QUOTA_LIMIT_DAILY": str(BIG),
        "QUOTA_READ_LIMIT_DAILY": str(BIG),
        "QUOTA_WINDOW_SECONDS": window,
        "QUOTA_DAY_SECONDS": "86400",
        "QUOTA_RESERVE_SHORT": "0,0.02,0.04,0.06,0.08,0.10",
        "QUOTA_RESERVE_DAILY": "0,0.05,0.10,0.15,0.20,0.25",
        "QUOTA_RESERVE_RELEASE": "0.15",
        "QUOTA_EDGE_SECONDS": str(args.edge_seconds),
        "PYTHONUNBUFFERED": "1",
    }


class Children:
    """Every process this bench starts, each in its own group, so that none outlives it."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.running: list[subprocess.Popen] = []

    def start(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        with open(self.log, "ab") as out:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(reversed(self.running)):
            self.stop(process)


def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the web server exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the web server did not listen on port {port} within {timeout} s")


def connect_athletes(count: int) -> list[str]:
    """Simulated athletes, connected to the app's client id over the real OAuth token endpoint."""
    from django.conf import settings

    from sandbox import services as sim
    from stravasync.strava.oauth import exchange_code

    tokens = []
    for i in range(count):
        athlete = sim.sim_athlete_create(firstname=f"Bench{i}", lastname="Rider")
        code = sim.auth_code_issue(athlete=athlete, client_id=settings.STRAVA_CLIENT_ID,
                                   scopes=["read", "activity:read_all"])
        tokens.append(exchange_code(code.code)["access_token"])
    return tokens


def drain(mode: str, args: argparse.Namespace, env: dict[str, str], work: Path, children: Children) -> Run:
    """One drain of the same backlog by two worker processes; the simulator's log is the measure."""
    from sandbox.models import SimRequestLog
    from stravasync.strava import quota

    quota.reset_for_tests()
    SimRequestLog.objects.all().delete()
    backlog = work / f"backlog-{mode}"
    backlog.write_text(str(backlog_size(args)))
    length = args.window_seconds
    start = math.ceil((time.time() + BOOT_SECONDS) / length) * length  # a window boundary, after the boot
    workers = [
        children.start(
            [sys.executable, "bench/quota_worker.py", "--threads", str(THREADS), "--backlog", str(backlog),
             "--tokens", str(work / "tokens"), "--out", str(work / f"calls-{mode}.jsonl"), "--priority", "upload",
             "--mode", mode, "--naive-limit", str(args.limit), "--naive-window", str(length), "--start-at", str(start)],
            env,
        )
        for _ in range(PROCESSES)
    ]
    deadline = time.monotonic() + BOOT_SECONDS + length * (3 * args.windows + 5) + 30
    for process in workers:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{mode}: a worker did not finish in time; see {children.log}", file=sys.stderr)
        children.stop(process)
    rows = SimRequestLog.objects.filter(path__startswith="/api/v3/").values_list("created_at", "status")
    return Run(mode=mode, start=start, calls=sorted((created.timestamp(), status) for created, status in rows),
               exit_codes=[process.returncode for process in workers])


def backlog_size(args: argparse.Namespace) -> int:
    return (args.windows - 1) * args.limit + args.limit // 2


def report(runs: list[Run], args: argparse.Namespace) -> list[str]:
    """The side-by-side table (the README quotes these lines)."""
    app, naive = runs
    lines = [
        f"quota drill: {PROCESSES} processes x {THREADS} threads, backlog {backlog_size(args)} x GET /athlete, "
        f"limit {args.limit} per {args.window_seconds} s window",
        f"{'':28}{'app quota':>16}{'naive':>16}",
        f"{'calls made':28}{len(app.calls):>16}{len(naive.calls):>16}",
        f"{'429s received':28}{app.refused:>16}{naive.refused:>16}",
        f"{'share of calls refused':28}{share(app):>16}{share(naive):>16}",
        f"{'wall time (s)':28}{app.wall:>16.1f}{naive.wall:>16.1f}",
        f"{'utilization, busy windows':28}{busy(app, args):>16}{busy(naive, args):>16}",
    ]
    app_windows, naive_windows = app.per_window(args.window_seconds), naive.per_window(args.window_seconds)
    for i in range(max(len(app_windows), len(naive_windows))):
        cells = [window_cell(windows[i] if i < len(windows) else None, args.limit)
                 for windows in (app_windows, naive_windows)]
        lines.append(f"{f'window {i + 1} used / limit':28}{cells[0]:>16}{cells[1]:>16}")
    return lines


def share(run: Run) -> str:
    return f"{100 * run.refused / len(run.calls):.1f}%" if run.calls else "-"


def busy(run: Run, args: argparse.Namespace) -> str:
    """Answered calls over the limit in every window but the last (where the backlog ran out)."""
    windows = run.per_window(args.window_seconds)[:-1]
    if not windows:
        return "-"
    return f"{100 * sum(ok for ok, _ in windows) / (len(windows) * args.limit):.0f}%"


def window_cell(window: tuple[int, int] | None, limit: int) -> str:
    """Answered calls against the limit, and the 429s Strava counted on top."""
    if window is None:
        return "-"
    ok, refused = window
    cell = f"{ok}/{limit}"
    return f"{cell} +{refused}x429" if refused else cell


def interrupted(signum: int, frame: object) -> None:
    """Ctrl+C raises KeyboardInterrupt; a plain `kill` must clean up the children the same way."""
    raise KeyboardInterrupt


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=5, help="windows the backlog fills at the limit (last: half)")
    parser.add_argument("--limit", type=int, default=30, help="calls per window (overall and read)")
    parser.add_argument("--window-seconds", type=int, default=4)
    parser.add_argument("--edge-seconds", type=float, default=0.2, help="QUOTA_EDGE_SECONDS")
    parser.add_argument("--athletes", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database and logs under var/bench/")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="quota-", dir=BENCH_DIR))
    port = free_port()
    env = bench_env(args, work / "db.sqlite3", port)
    children = Children(work / "processes.log")
    signal.signal(signal.SIGTERM, interrupted)
    failed = keep = False
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        server = children.start(
            [sys.executable, "-m", "gunicorn", "stravasync.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "8", "--worker-class", "gthread", "--timeout", "60"],
            env,
        )
        wait_for_port(port, server)
        os.environ.update(env)
        import django

        django.setup()
        (work / "tokens").write_text("\n".join(connect_athletes(args.athletes)) + "\n")
        runs = [drain(mode, args, env, work, children) for mode in ("app", "naive")]
        print("\n".join(report(runs, args)))
        for run in runs:
            if any(code != 0 for code in run.exit_codes) or run.ok != backlog_size(args):
                failed = keep = True  # the logs and the database tell why
                print(f"{run.mode}: workers exited {run.exit_codes}, {run.ok} of {backlog_size(args)} items done; "
                      f"see {children.log}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted: stopping the server and the workers", file=sys.stderr)
        failed = True
    finally:
        children.stop_all()
        if not (args.keep or keep):
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
