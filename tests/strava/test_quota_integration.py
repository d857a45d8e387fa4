"""Two OS processes, two threads each, drain one backlog through the shared quota against the simulator.

The simulator enforces Strava's limits on its own counters, so this is the proof that the
app's permits keep several independent workers under the application-wide limit (no 429)
while still using nearly all of it (no window left idle while work remains). Windows are
compressed to a few seconds; the quota and the simulator read the same lengths.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path

import pytest

from tests import processes

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WINDOW = 3  # seconds
LIMIT = 20  # calls per window, overall and read
FULL_WINDOWS = 4
BACKLOG = FULL_WINDOWS * LIMIT + LIMIT // 2  # four full windows and a partial last one
BOOT = 2.0  # seconds a worker needs to set Django up before the common start
LATE_START = 0.5  # a first window entered this close to its end cannot be filled (the burst takes ~0.2 s)


def quota_settings(settings) -> dict[str, object]:
    """The same compressed quota here (the simulator) and in the workers (through their environment)."""
    values: dict[str, object] = {
        "QUOTA_WINDOW_SECONDS": WINDOW,
        "QUOTA_LIMIT_SHORT": LIMIT,
        "QUOTA_READ_LIMIT_SHORT": LIMIT,
        "QUOTA_LIMIT_DAILY": 100_000,
        "QUOTA_READ_LIMIT_DAILY": 100_000,
        # The edge guards against latency, which does not shrink with the window: keep it small.
        "QUOTA_EDGE_SECONDS": 0.2,
        # The upload priority's reserve is released well before the edge, so no permit counts twice.
        "QUOTA_RESERVE_RELEASE": 0.3,
        # Every window starts with one probe, as in production: it must not cost the fill.
        "QUOTA_WINDOW_PROBE_PERMITS": 1,
    }
    for name, value in values.items():
        setattr(settings, name, value)
    settings.SANDBOX_WINDOW_SECONDS = WINDOW
    settings.SANDBOX_LIMIT_SHORT = LIMIT
    settings.SANDBOX_READ_LIMIT_SHORT = LIMIT
    settings.SANDBOX_LIMIT_DAILY = 100_000
    settings.SANDBOX_READ_LIMIT_DAILY = 100_000
    return values


def wait_all(running: list, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    try:
        for process in running:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
    except Exception:
        pytest.fail(f"workers did not finish in {timeout} s:\n{log.read_text()[-3000:]}")
    finally:
        for process in running:
            processes.kill(process)


def test_two_processes_share_the_quota_without_a_429_and_fill_every_window(sim_connected_athlete, settings, tmp_path):
    from sandbox.models import SimRequestLog
    from stravasync.strava import quota

    env_quota = quota_settings(settings)
    athletes = [sim_connected_athlete(firstname=name) for name in ("Ann", "Ben", "Cat")]
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("\n".join(a.token.access_token for a in athletes) + "\n")
    backlog = tmp_path / "backlog"
    backlog.write_text(str(BACKLOG))
    quota.reset_for_tests()

    # Start on a window boundary once the workers have booted, so that the first window is whole.
    start_at = math.ceil((time.time() + BOOT) / WINDOW) * WINDOW
    env = processes.worker_env(**env_quota)
    log = tmp_path / "workers.log"
    outs = [tmp_path / f"calls-{i}.jsonl" for i in range(2)]
    running = [
        processes.start(
            ["bench/quota_worker.py", "--threads", "2", "--backlog", str(backlog), "--tokens", str(tokens),
             "--out", str(out), "--priority", "upload", "--mode", "app", "--start-at", str(start_at)],
            env, log,
        )
        for out in outs
    ]
    wait_all(running, timeout=BOOT + WINDOW * (FULL_WINDOWS + 2) + 10, log=log)

    assert [p.returncode for p in running] == [0, 0], log.read_text()[-3000:]
    assert backlog.read_text().strip() == "0"
    calls = list(SimRequestLog.objects.filter(path__startswith="/api/v3/").values_list("created_at", "status"))
    statuses = Counter(status for _, status in calls)
    assert statuses[429] == 0, statuses
    assert statuses == {200: BACKLOG}, statuses  # every item exactly one call, none refused
    # Both processes did real work, and what they logged is what the simulator saw.
    per_process = [len(out.read_text().splitlines()) for out in outs]
    assert sum(per_process) == BACKLOG and min(per_process) > 0, per_process

    stamps = sorted(created.timestamp() for created, _ in calls)
    per_window = Counter(int(ts // WINDOW) for ts in stamps)
    first, last = min(per_window), max(per_window)
    assert last - first >= FULL_WINDOWS, per_window  # the work spanned the windows it should
    busy = range(first, last)  # every window while work remained: all but the last, partial one
    if (first + 1) * WINDOW - stamps[0] < LATE_START:
        busy = range(first + 1, last)
    used = {index: per_window.get(index, 0) for index in busy}
    assert all(count <= LIMIT for count in per_window.values()), per_window
    assert all(count >= 0.95 * LIMIT for count in used.values()), (used, dict(per_window))
    assert all(json.loads(line)["status"] == 200 for out in outs for line in out.read_text().splitlines())
