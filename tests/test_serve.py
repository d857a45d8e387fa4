"""`make run`'s supervisor (bin/serve): a killed task cluster comes back, the site stays up, SIGTERM ends all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for child in children(pid):
        found |= {child} | descendants(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def qclusters(serve: subprocess.Popen) -> list[int]:
    return [pid for pid in children(serve.pid) if "manage.py qcluster" in cmdline(pid)]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_killed_cluster_is_restarted_while_the_site_keeps_serving(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRAVA_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "stravasync.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "REDIS_URL": "",
        "DEBUG": "true",
        "PY": sys.executable,
        "BIND": f"127.0.0.1:{port}",
        "Q_CLUSTER_NAME": f"serve-{port}",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    log = tmp_path / "serve.log"
    serve = subprocess.Popen(["bash", "bin/serve"], cwd=ROOT, env=env, stdout=open(log, "wb"),
                             stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        assert wait_for(lambda: answers(url) and len(qclusters(serve)) == 1, 60), log.read_text()[-3000:]
        (first,) = qclusters(serve)
        before = descendants(serve.pid)
        os.kill(first, signal.SIGKILL)

        assert answers(url)
        assert wait_for(lambda: [pid for pid in qclusters(serve) if pid != first], 10), log.read_text()[-3000:]
        assert answers(url)
        assert "qcluster (pid" in log.read_text() and "starting it again" in log.read_text()

        family = before | descendants(serve.pid)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=60) == 0, log.read_text()[-3000:]
        assert wait_for(lambda: not [pid for pid in family if running(pid)], 10), [
            cmdline(pid) for pid in family if running(pid)]
        assert not answers(url)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
