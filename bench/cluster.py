"""The cluster drill: the deployment of docs/deploy.md across five hosts (network namespaces), with a kill.

    sudo .venv/bin/python bench/cluster.py [--athletes 10 --files 1000 --limit 60 --window-seconds 10]

Hosts are network namespaces on one bridge (10.216.0.0/24, made and removed by the drill):
`db` (its own PostgreSQL from initdb, and its own redis-server), `web` (gunicorn), `w1` (a
qcluster and the one dispatcher), `w2` (a qcluster), `sim` (the same app in sandbox mode, its own
database, short windows: the simulated Strava). Every role starts from the Procfile's line. The
file store is one folder all hosts see (the stand-in for a network volume), used as MEDIA_ROOT.

The run: `--athletes` athletes connect over OAuth, each with `--history` activities on "Strava"
to pull and enrich, and each uploads `--files / --athletes` real files (tests/data's FIT activities,
each once per athlete with another time_created, and shifted copies of two real GPX tracks) with
`upload_folder` on host web. Midway every process on w2 is SIGKILLed; later its qcluster comes back.
The run ends when all work is done or at `--deadline`.

Measured from the simulator's request log and the app's rows, each beside its target: 429s (0);
each window's use while work remained (>= 95 %); Jain's fairness index over the athletes' served
calls in each window where every athlete had work (>= 0.95); every file settled exactly once,
none lost; every activity created once on "Strava" and stored once.
Cleans up (processes, namespaces, bridge, temporary folders) in every case, and at start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PREFIX = "ss16"  # every namespace, link and the bridge carry it: the cleanup removes exactly these
BRIDGE = f"{PREFIX}br"
NET = "10.216.0"
HOSTS = {"db": 10, "web": 11, "w1": 12, "w2": 13, "sim": 14}
PG_BIN = Path("/usr/lib/postgresql/15/bin")
BIG = 10_000_000  # daily limits out of the way: the drill is about the short window
TARGET_USE, TARGET_JAIN = 0.95, 0.95


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def ip(host: str) -> str:
    return f"{NET}.{HOSTS[host]}"


# --- hosts ----------------------------------------------------------------------------------

def network_remove() -> None:
    """Everything a drill (this one or an interrupted earlier one) made: namespaces, veths, bridge."""
    for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(f"{PREFIX}-"):
            for pid in sh("ip", "netns", "pids", name, check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)  # only processes inside our own namespaces
                except ProcessLookupError:
                    pass
            sh("ip", "netns", "del", name, check=False)
    for host in HOSTS:
        sh("ip", "link", "del", f"{PREFIX}-{host}", check=False)  # deleting one end removes the pair
    sh("ip", "link", "del", BRIDGE, check=False)


def network_make() -> None:
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{NET}.1/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for host in HOSTS:
        ns, outer = f"{PREFIX}-{host}", f"{PREFIX}-{host}"
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "link", "set", outer, "master", BRIDGE)
        sh("ip", "link", "set", outer, "up")
        sh("ip", "-n", ns, "addr", "add", f"{ip(host)}/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")


@dataclass
class Roles:
    """Every process the drill started, by host, each in its own process group."""

    log_dir: Path
    running: dict[str, list[subprocess.Popen]] = field(default_factory=lambda: defaultdict(list))

    def start(self, host: str, name: str, argv: list[str], env: dict[str, str] | None = None,
              user: str | None = None) -> subprocess.Popen:
        prefix = ["ip", "netns", "exec", f"{PREFIX}-{host}"] + (["runuser", "-u", user, "--"] if user else [])
        with open(self.log_dir / f"{host}-{name}.log", "ab") as out:
            process = subprocess.Popen(prefix + argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.running[host].append(process)
        return process

    def kill_host(self, host: str) -> int:
        """SIGKILL every process on the host, as a machine that loses power (namespace pids, not names)."""
        pids = [int(p) for p in sh("ip", "netns", "pids", f"{PREFIX}-{host}", check=False).stdout.split()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for process in self.running.pop(host, []):
            process.wait(timeout=30)
        return len(pids)

    def stop_all(self) -> None:
        for host in ("web", "w1", "w2", "sim", "db"):  # the database last: the others close their connections
            self.stop_host(host)

    def stop_host(self, host: str) -> None:
        """SIGTERM (a supervisor's stop), then SIGKILL after 20 s."""
        for process in self.running.pop(host, []):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    process.wait(timeout=10)


def procfile() -> dict[str, str]:
    """The deployment's own role commands (Procfile), so the drill runs what the docs say."""
    roles = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            role, command = line.split(":", 1)
            roles[role.strip()] = command.strip()
    return roles


def wait_http(url: str, timeout: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def role_argv(command: str) -> list[str]:
    return ["sh", "-c", f"exec {command}"]  # the Procfile's ${VAR:-default} expansions, as honcho does


# --- environments ---------------------------------------------------------------------------

def base_env(args: argparse.Namespace, venv_bin: str) -> dict[str, str]:
    limit, window = str(args.limit), str(args.window_seconds)
    return {
        "PATH": f"{venv_bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "stravasync.settings", "DEBUG": "false", "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "*", "STRAVA_CLIENT_ID": "", "STRAVA_CLIENT_SECRET": "sandbox-secret",
        "SECRET_KEY": "drill16-" + "x" * 50,
        "SANDBOX_LIMIT_SHORT": limit, "SANDBOX_READ_LIMIT_SHORT": limit, "SANDBOX_WINDOW_SECONDS": window,
        "SANDBOX_LIMIT_DAILY": str(BIG), "SANDBOX_READ_LIMIT_DAILY": str(BIG), "SANDBOX_DAY_SECONDS": "86400",
        "SANDBOX_UPLOAD_DELAY": "1",
    }


def app_env(args: argparse.Namespace, venv_bin: str, shared: Path, fernet: str) -> dict[str, str]:
    sim = f"http://{ip('sim')}:8000/sandbox/strava"
    limit, window = str(args.limit), str(args.window_seconds)
    return {
        **base_env(args, venv_bin),
        "DATABASE_URL": f"postgres://postgres@{ip('db')}:5432/stravasync",
        "REDIS_URL": f"redis://{ip('db')}:6379/0",
        "SITE_URL": f"http://{ip('web')}:8000", "STRAVA_API_URL": f"{sim}/api/v3", "STRAVA_OAUTH_URL": f"{sim}/oauth",
        "TOKEN_ENCRYPTION_KEY": fernet, "STORAGE_BACKEND": "filesystem", "MEDIA_ROOT": str(shared / "media"),
        "Q_CLUSTER_NAME": "drill16", "Q_WORKERS": "2", "Q_TIMEOUT": "30", "Q_RETRY": "40",
        "QUOTA_LIMIT_SHORT": limit, "QUOTA_READ_LIMIT_SHORT": limit, "QUOTA_WINDOW_SECONDS": window,
        "QUOTA_LIMIT_DAILY": str(BIG), "QUOTA_READ_LIMIT_DAILY": str(BIG),
        # As in the soak: the edge covers a permit's trip to the simulator on a loaded 2-core machine.
        "QUOTA_EDGE_SECONDS": "0.5", "QUOTA_RESERVE_RELEASE": "0.3",
        # A killed host's claims must come free within the drill, not after production's 5 minutes.
        "UPLOADS_CLAIM_TIMEOUT": "30", "WAREHOUSE_CLAIM_TIMEOUT": "30", "SEGMENTS_CLAIM_TIMEOUT": "30",
        "UPLOADS_CONFIRM_DELAY": "1", "UPLOADS_CONFIRM_MAX_WAIT": "10", "UPLOADS_CONFIRM_FALLBACK": "6",
        "WAREHOUSE_FIRST_PAGE_AT_CONNECT": "false", "STRAVA_HTTP_TIMEOUT": "10",
        "BIND": f"{ip('web')}:8000", "WEB_WORKERS": "2",
    }


def sim_env(args: argparse.Namespace, venv_bin: str, work: Path) -> dict[str, str]:
    return {
        **base_env(args, venv_bin),
        "DATABASE_URL": f"postgres://postgres@{ip('db')}:5432/stravasim", "REDIS_URL": "",
        "SITE_URL": f"http://{ip('sim')}:8000", "BIND": f"{ip('sim')}:8000", "WEB_WORKERS": "2",
        "MEDIA_ROOT": str(work / "sim-media"),
    }


# --- database host --------------------------------------------------------------------------

def db_start(roles: Roles, pgdata: Path) -> None:
    """initdb and postgres as the postgres user (it refuses root), listening on the db host only."""
    shutil.chown(pgdata, "postgres", "postgres")
    sh("runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(pgdata), "-A", "trust", "-U", "postgres",
       "--no-sync")
    with open(pgdata / "pg_hba.conf", "a") as hba:
        hba.write(f"host all all {NET}.0/24 trust\n")
    roles.start("db", "postgres", [str(PG_BIN / "postgres"), "-D", str(pgdata), "-c", f"listen_addresses={ip('db')}",
                                   "-c", "port=5432", "-c", f"unix_socket_directories={pgdata}",
                                   "-c", "max_connections=300", "-c", "shared_buffers=256MB"], user="postgres")
    roles.start("db", "redis", ["redis-server", "--bind", ip("db"), "--port", "6379", "--save", "", "--appendonly",
                                "no", "--protected-mode", "no", "--maxmemory-policy", "noeviction"])
    for _ in range(100):
        if sh(str(PG_BIN / "pg_isready"), "-h", ip("db"), "-p", "5432", check=False).returncode == 0:
            break
        time.sleep(0.2)
    for name in ("stravasync", "stravasim"):
        sh("psql", "-h", ip("db"), "-U", "postgres", "-qc", f"CREATE DATABASE {name}")


def sql(query: str, database: str = "stravasync") -> list[list[str]]:
    out = sh("psql", "-h", ip("db"), "-U", "postgres", "-d", database, "-tAF", "\t", "-c", query).stdout
    return [line.split("\t") for line in out.splitlines() if line]


# --- measures -------------------------------------------------------------------------------

def backlog_sample() -> dict[int, int]:
    """Work still owed per athlete: files not settled, activities without details."""
    rows = sql("SELECT a.strava_id, (SELECT count(*) FROM uploads_upload u WHERE u.athlete_id = a.id AND u.status NOT IN "
               "('done','duplicate','junk','failed')) + (SELECT count(*) FROM warehouse_activity w WHERE w.athlete_id = "
               "a.id AND w.detail_fetched_at IS NULL) FROM accounts_athlete a")
    return {int(s): int(n) for s, n in rows}


def pulls_pending() -> int:
    rows = sql("SELECT count(*) FROM warehouse_syncstate WHERE backfill_done = false OR pull_page > 0 "
               "OR next_pull_at IS NULL")
    return int(rows[0][0])


def jain(values: list[int]) -> float:
    total, squares = sum(values), sum(v * v for v in values)
    return (total * total) / (len(values) * squares) if squares else 1.0


def analyse(args: argparse.Namespace, samples: list[tuple[float, dict[int, int]]], athletes: list[int]) -> dict:
    calls = sql("SELECT extract(epoch FROM created_at), status, coalesce(athlete_id, 0) FROM sandbox_simrequestlog "
                "WHERE path LIKE '/api/v3/%'", "stravasim")
    log = [(float(t), int(s), int(a)) for t, s, a in calls]
    length = args.window_seconds
    by_window: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for t, status, athlete in log:
        by_window[int(t // length)].append((status, athlete))
    sampled: dict[int, list[dict[int, int]]] = defaultdict(list)
    for t, backlog in samples:
        sampled[int(t // length)].append(backlog)
    first = min(by_window) if by_window else 0
    use, fairness = [], []
    for w in sorted(sampled):
        if w <= first or not sampled[w]:
            continue  # the first window is the probe's and the start's
        ok = sum(1 for status, _ in by_window[w] if status != 429)
        if all(sum(b.values()) > 0 for b in sampled[w]) and (w + 1) in sampled:  # work all through, not the last
            use.append((w, ok / args.limit))
        if all(all(b.get(a, 0) > 0 for a in athletes) for b in sampled[w]):
            served = Counter(a for status, a in by_window[w] if status != 429)
            fairness.append((w, jain([served[a] for a in athletes])))
    return {"calls": len(log), "refused": sum(1 for _, s, _ in log if s == 429), "use": use, "fairness": fairness,
            "kinds": Counter(path for path, in sql(
                "SELECT method || ' ' || regexp_replace(path, '/[0-9]+', '/N', 'g') FROM sandbox_simrequestlog "
                "WHERE path LIKE '/api/v3/%'", "stravasim"))}


def integrity() -> dict[str, int]:
    one = lambda query, db="stravasync": int(sql(query, db)[0][0])  # noqa: E731
    return {
        "uploads": one("SELECT count(*) FROM uploads_upload"),
        "done": one("SELECT count(*) FROM uploads_upload WHERE status = 'done'"),
        "not final": one("SELECT count(*) FROM uploads_upload WHERE status NOT IN ('done','duplicate','junk','failed')"),
        "settled twice": one("SELECT count(*) FROM (SELECT upload_id FROM uploads_uploadevent WHERE to_status IN "
                             "('done','duplicate','junk','failed') GROUP BY upload_id HAVING count(*) > 1) x"),
        "settled never": one("SELECT count(*) FROM uploads_upload u WHERE NOT EXISTS (SELECT 1 FROM uploads_uploadevent e "
                             "WHERE e.upload_id = u.id AND e.to_status IN ('done','duplicate','junk','failed'))"),
        "done sharing an activity": one("SELECT count(*) - count(DISTINCT activity_id) FROM uploads_upload "
                                        "WHERE status = 'done'"),
        "sim activities": one("SELECT count(*) FROM sandbox_simactivity", "stravasim"),
        "sim duplicate external ids": one("SELECT count(*) - count(DISTINCT external_id) FROM sandbox_simactivity "
                                          "WHERE external_id <> ''", "stravasim"),
        "warehouse activities": one("SELECT count(*) FROM warehouse_activity"),
        "without details": one("SELECT count(*) FROM warehouse_activity WHERE detail_fetched_at IS NULL"),
    }


# --- the run --------------------------------------------------------------------------------

def run(args: argparse.Namespace, work: Path, roles: Roles) -> bool:
    from cryptography.fernet import Fernet

    venv_bin = str(Path(sys.executable).parent)
    shared = work / "shared"  # the "network volume": every host sees this folder
    (shared / "media").mkdir(parents=True)
    pgdata = work / "pgdata"
    pgdata.mkdir()
    app = app_env(args, venv_bin, shared, Fernet.generate_key().decode())
    simenv = sim_env(args, venv_bin, work)
    commands = procfile()
    started = time.monotonic()
    network_make()
    db_start(roles, pgdata)
    for env in (simenv, app):
        roles.start("w1" if env is app else "sim", "release", role_argv(commands["release"]), env).wait(timeout=300)
    roles.start("sim", "web", role_argv(commands["web"]), simenv)
    # As the web unit's ExecStartPre (docs/deploy.md): the manifest whitenoise serves from.
    roles.start("web", "collectstatic", ["python", "manage.py", "collectstatic", "--noinput", "-v", "0"], app).wait(300)
    roles.start("web", "web", role_argv(commands["web"]), app)
    seeded = json.loads(subprocess.run(["ip", "netns", "exec", f"{PREFIX}-sim", sys.executable, "bench/cluster_tasks.py",
                                        "sim-seed", str(args.athletes), str(args.history)],
                                       cwd=ROOT, env=simenv, check=True, capture_output=True, text=True).stdout)
    wait_http(f"http://{ip('sim')}:8000/")
    wait_http(f"http://{ip('web')}:8000/")
    connected = json.loads(subprocess.run(["ip", "netns", "exec", f"{PREFIX}-web", sys.executable, "bench/cluster_tasks.py",
                                           "connect"], input=json.dumps(seeded), cwd=ROOT, env=app, check=True,
                                          capture_output=True, text=True).stdout)
    athletes = [int(s) for s in connected]
    subprocess.run([sys.executable, "bench/cluster_tasks.py", "files", str(work / "drop"), str(args.athletes),
                    str(args.files // args.athletes)], cwd=ROOT, env=app, check=True)
    print(f"setup: {len(athletes)} athletes connected, {args.files} files built, "
          f"{time.monotonic() - started:.0f} s", flush=True)

    run_started = time.time()
    for host in ("w1", "w2"):
        roles.start(host, "worker", role_argv(commands["worker"]), app)
    roles.start("w1", "dispatcher", role_argv(commands["dispatcher"]), app)
    for strava_id in athletes:
        roles.start("web", f"upload-{strava_id}", ["python", "manage.py", "upload_folder", "--no-wait", "--keep-in-place",
                                                   str(work / "drop" / f"athlete{athletes.index(strava_id)}"),
                                                   "--athlete", str(strava_id)], app)
    samples: list[tuple[float, dict[int, int]]] = []
    events = []
    killed = revived = False
    deadline = time.monotonic() + args.deadline
    while time.monotonic() < deadline:
        now = time.time()
        backlog = backlog_sample()
        samples.append((now, backlog))
        elapsed = now - run_started
        if not killed and elapsed >= args.kill_at:
            events.append(f"{elapsed:5.0f} s  SIGKILL every process on w2 ({roles.kill_host('w2')} processes)")
            killed = True
        if killed and not revived and elapsed >= args.revive_at:
            roles.start("w2", "worker", role_argv(commands["worker"]), app)
            events.append(f"{elapsed:5.0f} s  w2's qcluster started again")
            revived = True
        settled = int(sql("SELECT count(*) FROM uploads_upload WHERE status IN ('done','duplicate','junk','failed')")[0][0])
        if elapsed > 20 and settled >= args.files and sum(backlog.values()) == 0 and pulls_pending() == 0 and revived:
            events.append(f"{elapsed:5.0f} s  all work done")
            break
        time.sleep(1)
    else:
        events.append(f"{time.time() - run_started:5.0f} s  deadline: stopping with work left")
    wall = time.time() - run_started
    for host in ("web", "w1", "w2"):  # the app stops; the simulator's log and the rows stay readable
        roles.stop_host(host)
    return report(args, analyse(args, samples, athletes), integrity(), events, wall, time.monotonic() - started)


def report(args: argparse.Namespace, seen: dict, rows: dict[str, int], events: list[str], wall: float,
           total: float) -> bool:
    """Every figure beside its target; True when all are met."""
    use = [u for _, u in seen["use"]]
    fair = [j for _, j in seen["fairness"]]
    checks = [
        ("429s from the simulator", f"{seen['refused']}", "0", seen["refused"] == 0),
        ("windows at >= 95 % use while work remained", f"{sum(u >= TARGET_USE for u in use)}/{len(use)}"
         f" (lowest {min(use, default=0):.0%}, median {statistics.median(use) if use else 0:.0%})", "all",
         all(u >= TARGET_USE for u in use)),
        ("Jain's index, windows where all had work", f"lowest {min(fair, default=0):.3f}, median "
         f"{statistics.median(fair) if fair else 0:.3f} over {len(fair)} windows", ">= 0.95 in each",
         bool(fair) and min(fair) >= TARGET_JAIN),
        ("files settled", f"{rows['uploads'] - rows['not final']}/{rows['uploads']} ({rows['done']} done)",
         f"{args.files}/{args.files}", rows["uploads"] == args.files and rows["not final"] == 0),
        ("files settled twice / never", f"{rows['settled twice']} / {rows['settled never']}", "0 / 0",
         rows["settled twice"] == 0 and rows["settled never"] == 0),
        ("activities on Strava created twice", f"{rows['sim duplicate external ids']} "
         f"(done files sharing one: {rows['done sharing an activity']})", "0",
         rows["sim duplicate external ids"] == 0 and rows["done sharing an activity"] == 0),
        ("activities stored / on Strava", f"{rows['warehouse activities']}/{rows['sim activities']} "
         f"({rows['without details']} without details)", "equal, 0 without",
         rows["warehouse activities"] == rows["sim activities"] and rows["without details"] == 0),
        ("run time (setup included)", f"{total / 60:.1f} min (run {wall:.0f} s)", "<= 15 min", total <= 15 * 60),
    ]
    print(f"cluster drill: hosts db, web, w1 (+dispatcher), w2, sim in network namespaces; {args.athletes} athletes, "
          f"{args.files} files, {args.history} activities of history each; limit {args.limit} per "
          f"{args.window_seconds} s window; {seen['calls']} calls")
    for line in events:
        print("  " + line)
    for name, figure, target, ok in checks:
        print(f"  {name:46} {figure:42} target {target:18} {'ok' if ok else 'MISSED'}")
    print("  use per window: " + " ".join(f"{u:.0%}" for u in use))
    print("  Jain per window: " + " ".join(f"{j:.2f}" for j in fair))
    print("  calls: " + ", ".join(f"{k} {n}" for k, n in seen["kinds"].most_common()))
    return all(ok for *_, ok in checks)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=10)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--history", type=int, default=30, help="activities each athlete already has on Strava")
    parser.add_argument("--limit", type=int, default=60, help="calls per window (overall and read)")
    parser.add_argument("--window-seconds", type=int, default=10)
    parser.add_argument("--kill-at", type=float, default=120, help="seconds into the run: SIGKILL host w2")
    parser.add_argument("--revive-at", type=float, default=240, help="seconds into the run: w2's qcluster again")
    parser.add_argument("--deadline", type=float, default=660, help="seconds the run may take (the setup apart)")
    parser.add_argument("--keep", action="store_true", help="keep the logs (the namespaces always go)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the drill makes network namespaces: run it as root")
    network_remove()
    work = Path(tempfile.mkdtemp(prefix="cluster-drill-"))
    work.chmod(0o755)
    roles = Roles(log_dir=work)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    ok = False
    try:
        ok = run(args, work, roles)
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
    finally:
        roles.stop_all()
        network_remove()
        if args.keep or not ok:
            print(f"logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
