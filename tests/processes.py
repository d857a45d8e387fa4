"""Start real OS processes (task cluster, dispatcher, drill workers) on the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the real one)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def worker_env(**extra: object) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stravasync.settings_test",
        "STRAVASYNC_TEST_WORKER": "1",
        "DATABASE_URL": database_url(),
        "STRAVA_API_URL": settings.STRAVA_API_URL,
        "STRAVA_OAUTH_URL": settings.STRAVA_OAUTH_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "Q_CLUSTER_NAME": f"test-{uuid.uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A child in its own process group, so that a SIGKILL takes its children too."""
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    process.wait(timeout=30)


def compressed_windows(settings, *, window: int, limit: int, **quota: object) -> dict[str, object]:
    """The same short Strava windows for our quota (here, and in worker processes through the
    environment: the returned values) and for the simulator; `quota` adds or overrides QUOTA_* settings."""
    values: dict[str, object] = {
        "QUOTA_WINDOW_SECONDS": window, "QUOTA_LIMIT_SHORT": limit, "QUOTA_READ_LIMIT_SHORT": limit,
        "QUOTA_LIMIT_DAILY": 100_000, "QUOTA_READ_LIMIT_DAILY": 100_000, **quota,
    }
    for name, value in values.items():
        setattr(settings, name, value)
    settings.SANDBOX_WINDOW_SECONDS = window
    settings.SANDBOX_LIMIT_SHORT = settings.SANDBOX_READ_LIMIT_SHORT = limit
    settings.SANDBOX_LIMIT_DAILY = settings.SANDBOX_READ_LIMIT_DAILY = 100_000
    return values


def spend_foreign_calls(url: str, token: str, count: int, *, threads: int = 4, timeout: float = 10.0) -> list[int]:
    """Another program with our client id: it knows nothing of our quota. Status codes (0: no answer)."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    def one(_: int) -> int:
        try:
            return requests.get(f"{url}/athlete", headers={"Authorization": f"Bearer {token}"},
                                timeout=timeout).status_code
        except requests.RequestException:
            return 0

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))
