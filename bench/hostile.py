"""What hostile uploads cost the server, printed beside the limits of issue 12.

Usage: .venv/bin/python bench/hostile.py
Builds its inputs in a temporary folder (a 10 MB zip of 10 GiB of zeros, a 22 MB zip with one
1 GiB member, a 42.zip-style nested zip, zips of 1,000 and 10,000 small activities), serves a
fresh stravasync with gunicorn (one worker, four threads) and posts them as a browser would,
then runs `manage.py upload_folder` on the same bombs. Memory is the worker's RSS (peak via
VmHWM, reset before each case, and a 20 ms sampler); storage is the bytes under MEDIA_ROOT.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._server import BenchServer, memory_kb
from bench._zips import big_member, many_entries, nested_bomb, zeros_bomb
from bench.upload_web import login

ROOT = Path(__file__).resolve().parent.parent
SMALL_FIT = ROOT / "tests" / "data" / "dtcooper_python-fitparse__tests_files_2019-02-17-062644-ELEMNT-297E-195-0.fit"
MB = 1024 * 1024


class Peak:
    """Peak RSS (kB) of one process while a block runs: VmHWM reset before, and a sampler beside it."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()

    def __enter__(self) -> Peak:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            pass
        self.peak = memory_kb(self.pid, "VmRSS")
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, memory_kb(self.pid, "VmRSS"))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, memory_kb(self.pid, "VmHWM"))


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


class Client:
    def __init__(self, server: BenchServer) -> None:
        self.server, self.session = server, login(server)
        self.headers = {"X-CSRFToken": self.session.cookies["csrftoken"], "Referer": server.url + "/uploads/new/"}

    def batch(self) -> int:
        return int(self.session.post(self.server.url + "/uploads/batches/", headers=self.headers).json()["id"])

    def post(self, *paths: Path) -> tuple[float, list[dict[str, Any]]]:
        """Seconds for one request carrying `paths`, and its rows."""
        batch = self.batch()
        handles = [open(path, "rb") for path in paths]
        try:
            started = time.monotonic()
            answer = requests.post(f"{self.server.url}/uploads/batches/{batch}/files/", headers=self.headers,
                                   cookies=self.session.cookies, timeout=600,
                                   files=[("files", (path.name, fh)) for path, fh in zip(paths, handles, strict=True)])
            elapsed = time.monotonic() - started
        finally:
            for fh in handles:
                fh.close()
        answer.raise_for_status()
        return elapsed, answer.json()["files"]


def folder_peak_kb(server: BenchServer, folder: Path) -> tuple[int, float]:
    """Peak RSS (kB) and seconds of `manage.py upload_folder` on `folder`.

    VmHWM of the command itself, polled: wait4's ru_maxrss would also count this benchmark's own
    memory, which the forked child holds until it executes the command.
    """
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "upload_folder", str(folder), "--athlete", "424242", "--no-wait",
         "--keep-in-place", "--report-dir", str(folder.parent / f"report-{folder.name}")],
        cwd=ROOT, env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    peak = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except OSError:
            break
        if "manage.py" in Path(f"/proc/{process.pid}/cmdline").read_bytes().decode(errors="replace"):
            peak = max(peak, next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0))
        time.sleep(0.01)
    if process.wait():
        raise SystemExit(f"upload_folder failed: {process.stderr.read().decode() if process.stderr else ''}")
    return peak, time.monotonic() - started


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="stravasync-hostile-"))
    lines: list[tuple[str, str, str, bool]] = []

    def report(what: str, value: str, limit: str, ok: bool) -> None:
        lines.append((what, value, limit, ok))
        print(f"  {what:58} {value:>12}   {limit:12} {'ok' if ok else 'OVER'}", flush=True)

    try:
        started = time.monotonic()
        zeros, big, nested = work / "zeros-10GiB.zip", work / "one-1GiB-member.zip", work / "nested-42.zip"
        zeros_bomb(zeros, 10)
        big_member(big, 1)
        nested_bomb(nested)
        bigs = []
        for i in range(4):
            copy = work / f"copy{i}-{big.name if i % 2 else zeros.name}"
            shutil.copy(big if i % 2 else zeros, copy)
            bigs.append(copy)
        many_entries(work / "entries-1000.zip", 1_000)
        many_entries(work / "entries-10000.zip", 10_000, first=1_000)  # none a copy of the 1,000
        print(f"inputs built in {time.monotonic() - started:.1f} s: "
              + ", ".join(f"{p.name} {p.stat().st_size / MB:.1f} MB" for p in (zeros, big, nested)), flush=True)

        env = {"FILE_UPLOAD_TEMP_DIR": str(work / "spool")}
        (work / "spool").mkdir()
        with BenchServer("hostile", env, workers=1, threads=4) as server:
            media = server.dir / "media"
            client = Client(server)
            (worker,) = server.worker_pids()
            for _ in range(3):  # warm up: imports, templates, one small upload through ingest
                client.post(SMALL_FIT)
            idle = memory_kb(worker, "VmRSS")
            stored_before = tree_bytes(media)
            print(f"web worker idle RSS {idle / 1024:.0f} MB", flush=True)

            def case(label: str, run: Callable[[], list[dict[str, Any]]]) -> None:
                with Peak(worker) as peak:
                    rows = run()
                reasons = sorted({row["reason"][:70] for row in rows})
                print(f"{label}: {len(rows)} row(s): {'; '.join(reasons)}", flush=True)
                report(f"{label}: worker peak RSS over idle", f"{(peak.peak - idle) / 1024:.0f} MB", "<= 100 MB",
                       peak.peak - idle <= 100 * 1024)

            case("10 MB zip -> 10 GiB of zeros", lambda: client.post(zeros)[1])
            case("22 MB zip with one 1 GiB member", lambda: client.post(big)[1])

            def four_at_once() -> list[dict[str, Any]]:
                results: list[list[dict[str, Any]]] = [[] for _ in bigs]

                def one(i: int) -> None:
                    results[i] = client.post(bigs[i])[1]

                threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bigs))]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                return [row for rows in results for row in rows]

            case("four of these at once (2 + 2)", four_at_once)
            time.sleep(1.0)
            after = memory_kb(worker, "VmRSS")
            report("worker RSS afterwards, against idle", f"{(after - idle) / 1024:+.0f} MB", "within ±20 MB",
                   abs(after - idle) <= 20 * 1024)

            seconds, rows = client.post(nested)
            print(f"nested zip: {'; '.join(row['reason'][:90] for row in rows)}", flush=True)
            report("42.zip-style nested zip: refused in", f"{seconds:.2f} s", "<= 5 s", seconds <= 5)
            report("42.zip-style nested zip: rows", str(len(rows)), "< 100", len(rows) < 100)
            grown = tree_bytes(media) - stored_before
            report("storage growth for refused files", f"{grown} B", "0", grown == 0)

            one_k, rows_1k = client.post(work / "entries-1000.zip")
            ten_k, rows_10k = client.post(work / "entries-10000.zip")
            statuses = {row["status"] for row in rows_1k + rows_10k}
            print(f"entries: {len(rows_1k)} + {len(rows_10k)} rows, statuses {sorted(statuses)}", flush=True)
            report("1,000-entry zip ingested in", f"{one_k:.2f} s", "(reference)", True)
            report("10,000-entry zip ingested in", f"{ten_k:.2f} s", "<= 15 s", ten_k <= 15)
            report("10,000 / 1,000 entries, time ratio", f"{ten_k / one_k:.1f}x", "<= 12x", ten_k / one_k <= 12)

            empty = work / "folder-empty"
            empty.mkdir()
            shutil.copy(SMALL_FIT, empty / "one.fit")
            base_kb, _ = folder_peak_kb(server, empty)
            bombs = work / "folder-bombs"
            bombs.mkdir()
            for path in (zeros, big, *bigs, nested):
                os.link(path, bombs / path.name)
            stored_before = tree_bytes(media)
            peak_kb, seconds = folder_peak_kb(server, bombs)
            report(f"upload_folder peak RSS ({peak_kb / 1024:.0f} MB; one small file: {base_kb / 1024:.0f} MB), over",
                   f"{(peak_kb - base_kb) / 1024:.0f} MB", "<= 100 MB", peak_kb - base_kb <= 100 * 1024)
            print(f"upload_folder on {len(list(bombs.iterdir()))} hostile zips took {seconds:.1f} s", flush=True)
            grown = tree_bytes(media) - stored_before
            report("storage growth for refused files (upload_folder)", f"{grown} B", "0", grown == 0)
            left = [p.name for p in (work / "spool").iterdir() if p.name.startswith("stravasync-spool-")]
            report("spool files left behind", str(len(left)), "0", not left)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{sum(ok for *_, ok in lines)} of {len(lines)} within their limits")


if __name__ == "__main__":
    main()
