"""`make run`'s supervisor (bin/serve): a killed task cluster comes back, the site stays up, SIGTERM ends all;
Ctrl+C on `make serve` exits 0; the site's own URL follows BIND."""

from __future__ import annotations

import os
import pty
import select
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


def serve_env(tmp_path: Path, port: int) -> dict[str, str]:
    return {
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


def test_a_killed_cluster_is_restarted_while_the_site_keeps_serving(tmp_path):
    port = free_port()
    env = serve_env(tmp_path, port)
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


def read_for(fd: int, seconds: float, until: bytes = b"") -> bytes:
    """What a terminal shows in `seconds` (or until `until` appears, or the other end closes)."""
    out, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and until in out):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other end closed: everything is read
                break
            if not chunk:
                break
            out += chunk
    return out


def test_ctrl_c_on_make_serve_in_a_terminal_stops_everything_and_exits_0(tmp_path):
    """A person's Ctrl+C: the terminal sends SIGINT to its foreground process group."""
    port = free_port()
    env = serve_env(tmp_path, port)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    pid, fd = pty.fork()
    if pid == 0:  # the child: make on a terminal of its own, as in a shell
        os.chdir(ROOT)
        os.execvpe("make", ["make", "--no-print-directory", "serve", f"PY={sys.executable}"], env)
    try:
        shown = read_for(fd, 60, until=b"Ctrl+C stops all")
        assert b"Ctrl+C stops all" in shown, shown.decode(errors="replace")
        assert wait_for(lambda: answers(f"http://127.0.0.1:{port}/"), 60)
        family = descendants(pid)
        os.write(fd, b"\x03")  # Ctrl+C typed on the terminal
        shown += read_for(fd, 60, until=b"stopped")
        _, status = os.waitpid(pid, 0)
        shown += read_for(fd, 2)
        text = shown.decode(errors="replace")
        assert os.waitstatus_to_exitcode(status) == 0, text[-3000:]
        assert "make: ***" not in text and "Error" not in text, text[-3000:]
        assert "bin/serve" in text and "stopped" in text
        assert wait_for(lambda: not [p for p in family if running(p)], 10), [cmdline(p) for p in family if running(p)]
    finally:
        os.close(fd)
        if running(pid):
            os.kill(pid, signal.SIGKILL)


def settings_in_a_fresh_process(tmp_path: Path, **variables: str) -> list[str]:
    """SITE_URL and the simulator's API URL as a new process (a command-line tool) computes them."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRAVA_", "SITE_URL", "BIND"))},
           "DJANGO_SETTINGS_MODULE": "stravasync.settings", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "SITE_URL": "", **variables}
    code = "from django.conf import settings as s; print(s.SITE_URL); print(s.STRAVA_API_URL)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return out.stdout.split()


def test_without_site_url_the_site_and_the_simulator_follow_bind(tmp_path):
    assert settings_in_a_fresh_process(tmp_path, BIND="127.0.0.1:8201") == [
        "http://127.0.0.1:8201", "http://127.0.0.1:8201/sandbox/strava/api/v3"]


def test_a_site_url_that_is_set_wins_over_bind(tmp_path):
    assert settings_in_a_fresh_process(tmp_path, BIND="127.0.0.1:8201", SITE_URL="https://sync.example.org/")[0] == (
        "https://sync.example.org")


@pytest.mark.parametrize(("bind", "url"), [
    ("127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("0.0.0.0:8201", "http://127.0.0.1:8201"),
    ("localhost", "http://localhost:8000"),
    ("[::1]:8202", "http://[::1]:8202"),
    ("unix:/run/stravasync.sock", "http://127.0.0.1:8000"),
])
def test_a_bind_address_becomes_the_url_a_browser_on_this_machine_opens(bind, url):
    from stravasync.settings import site_url_for_bind

    assert site_url_for_bind(bind) == url
