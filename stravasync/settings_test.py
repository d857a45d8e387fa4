"""Test settings: plain static storage, a fast hasher, tasks inline unless a test says otherwise."""

from __future__ import annotations

import os

from .settings import *  # noqa: F403
from .settings import DATABASES, Q_CLUSTER, VAR_DIR

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run inline, except in worker processes that integration tests start themselves.
TEST_WORKER_PROCESS = bool(os.environ.get("STRAVASYNC_TEST_WORKER"))
Q_CLUSTER = {**Q_CLUSTER, "sync": not TEST_WORKER_PROCESS}
STRAVA_BACKOFF_BASE = 0.0
STRAVA_BACKOFF_CAP = 0.0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not TEST_WORKER_PROCESS:
    # A file, not memory, so that worker subprocesses in integration tests share it.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{worker}-{os.getpid()}.sqlite3")}

# Tests always run against the simulator, whatever a developer's .env says.
SANDBOX_MODE = True
STRAVA_CLIENT_ID = "sandbox"
STRAVA_CLIENT_SECRET = "sandbox-secret"
SOCIAL_AUTH_STRAVA_KEY = STRAVA_CLIENT_ID
SOCIAL_AUTH_STRAVA_SECRET = STRAVA_CLIENT_SECRET
SANDBOX_UPLOAD_DELAY = 0.0
# Tests of permits, reserves and dispatch start from a window whose usage is known; the window
# probe's own tests (and the process drills, through the environment) turn it on.
QUOTA_WINDOW_PROBE_PERMITS = int(os.environ.get("QUOTA_WINDOW_PROBE_PERMITS", "0"))
# Tests that count a pull's calls connect athletes without the first page at login; its own tests turn it on.
WAREHOUSE_FIRST_PAGE_AT_CONNECT = False
# Garmin requests are paced for real in their own tests; elsewhere they go without waiting.
GARMIN_REQUEST_INTERVAL = 0.0
