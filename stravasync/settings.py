"""stravasync settings: every value comes from the environment (django-environ), see .env.example."""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")


def _local_secret(name: str) -> str:
    """A random secret kept in var/ so a fresh checkout runs without configuration.

    Production sets the variable instead; `check --deploy` still judges the value.
    """
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default=None) or _local_secret("secret_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def site_url_for_bind(bind: str) -> str:
    """The URL a browser on this machine reaches gunicorn's `--bind` address at.

    Read with gunicorn's own parser, so the two never disagree. A wildcard address is reached
    on the loopback; a unix socket or a file descriptor has no URL of its own (set SITE_URL).
    """
    from gunicorn.util import parse_address

    address = parse_address(bind.strip())
    if not isinstance(address, tuple):
        return "http://127.0.0.1:8000"
    host, port = address
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 -- recognising a wildcard, not binding one
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


# Where bin/serve (`make run`) listens; read here too, so that the site's own URL follows it.
BIND = env("BIND", default="127.0.0.1:8000")
# Public base URL of this deployment: the simulator's URLs, the sign-in redirect back from
# Strava and the webhook callback derive from it. Unset (or empty), it follows BIND, so
# `BIND=127.0.0.1:8201 make run` and a `manage.py pull` given the same BIND both use port 8201.
SITE_URL = (env("SITE_URL", default="") or site_url_for_bind(BIND)).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "social_django",
    "django_q",
    "stravasync.strava",
    "accounts",
    "uploads",
    "warehouse",
    "segments",
    "webhooks",
    "garmin",
    "sandbox",
    "health_check",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which reads the POST body: file names Django would drop become rows with a reason.
    "uploads.multipart.UploadNamesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.StravaLoginErrorMiddleware",
]

ROOT_URLCONF = "stravasync.urls"
WSGI_APPLICATION = "stravasync.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "stravasync.context_processors.deployment",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'stravasync.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web process and several workers share one file: WAL lets readers run beside a
    # writer, and IMMEDIATE makes every transaction take the write lock up front, which
    # is what serialises the quota and token-refresh critical sections.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT: our queries are short index probes whose cost PostgreSQL overestimates (a probe per
    # row of a backlog), and compiling them took half a second a dispatcher tick for 3 ms of work.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and task queue ----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

Q_CLUSTER = {
    "name": env("Q_CLUSTER_NAME", default="stravasync"),
    "workers": env.int("Q_WORKERS", default=2),
    # A task is a single Strava call plus bookkeeping; retry must exceed timeout, and the
    # database rows, not the broker, are the queue of record, so redelivery is harmless.
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=180),
    "max_attempts": 3,
    "save_limit": 500,
    "catch_up": False,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = env.float("Q_POLL", default=0.5)

# --- Auth -------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "accounts.backends.StravaOAuth2",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "home"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Strava -----------------------------------------------------------------------------
STRAVA_CLIENT_ID = env("STRAVA_CLIENT_ID", default="")
# Without a client id the app runs against its own simulator, mounted at /sandbox/strava/.
SANDBOX_MODE = not STRAVA_CLIENT_ID
if SANDBOX_MODE:
    STRAVA_CLIENT_ID = "sandbox"
    _strava_default_base = f"{SITE_URL}/sandbox/strava"
else:
    _strava_default_base = "https://www.strava.com"
STRAVA_CLIENT_SECRET = env("STRAVA_CLIENT_SECRET", default="sandbox-secret" if SANDBOX_MODE else "")
STRAVA_API_URL = env("STRAVA_API_URL", default=f"{_strava_default_base}/api/v3").rstrip("/")
STRAVA_OAUTH_URL = env("STRAVA_OAUTH_URL", default=f"{_strava_default_base}/oauth").rstrip("/")
# "deauthorize" today; Strava announced "revoke" to replace it on 2027-06-01 (the simulator answers both).
STRAVA_DEAUTHORIZE_PATH = env("STRAVA_DEAUTHORIZE_PATH", default="deauthorize").strip("/")
# Links for people to Strava's own pages (an activity, a segment), never called by the app.
STRAVA_WEB_URL = env("STRAVA_WEB_URL", default="https://www.strava.com").rstrip("/")
# Athletes this application may connect (Standard tier: 1 by default, 10 at most; more with Extended Access).
STRAVA_ATHLETE_CAPACITY = env.int("STRAVA_ATHLETE_CAPACITY", default=10)
STRAVA_SCOPES = ["read", "activity:read_all", "activity:write"]
STRAVA_HTTP_TIMEOUT = env.float("STRAVA_HTTP_TIMEOUT", default=30.0)
STRAVA_MAX_RETRIES = env.int("STRAVA_MAX_RETRIES", default=3)
STRAVA_BACKOFF_BASE = env.float("STRAVA_BACKOFF_BASE", default=1.0)
STRAVA_BACKOFF_CAP = env.float("STRAVA_BACKOFF_CAP", default=20.0)
# Refresh an access token this long before it expires.
STRAVA_TOKEN_REFRESH_MARGIN = env.int("STRAVA_TOKEN_REFRESH_MARGIN", default=300)

# Tokens are encrypted with Fernet; several comma-separated keys allow rotation (first encrypts).
TOKEN_ENCRYPTION_KEY = env("TOKEN_ENCRYPTION_KEY", default="")

# --- Quota (application-wide, see stravasync/strava/quota.py) ----------------------------
QUOTA_LIMIT_SHORT = env.int("QUOTA_LIMIT_SHORT", default=200)
QUOTA_LIMIT_DAILY = env.int("QUOTA_LIMIT_DAILY", default=2000)
QUOTA_READ_LIMIT_SHORT = env.int("QUOTA_READ_LIMIT_SHORT", default=100)
QUOTA_READ_LIMIT_DAILY = env.int("QUOTA_READ_LIMIT_DAILY", default=1000)
QUOTA_WINDOW_SECONDS = env.int("QUOTA_WINDOW_SECONDS", default=900)
QUOTA_DAY_SECONDS = env.int("QUOTA_DAY_SECONDS", default=86400)
# Share of each window and day that a priority leaves to the priorities above it, in order
# interactive, webhook, upload, pull, enrich, backfill.
QUOTA_RESERVE_SHORT = env.list("QUOTA_RESERVE_SHORT", cast=float, default=[0, 0.02, 0.04, 0.06, 0.08, 0.10])
QUOTA_RESERVE_DAILY = env.list("QUOTA_RESERVE_DAILY", cast=float, default=[0, 0.05, 0.10, 0.15, 0.20, 0.25])
# Permits granted this close to a window's end also count in the next one (clock skew, latency).
QUOTA_EDGE_SECONDS = env.float("QUOTA_EDGE_SECONDS", default=2.0)
# Unused reserve vanishes at the reset, so in the last part of a window it is released.
QUOTA_RESERVE_RELEASE = env.float("QUOTA_RESERVE_RELEASE", default=0.15)
# While the API subscription is inactive, one probe call is let through this often.
QUOTA_INACTIVE_PROBE_SECONDS = env.int("QUOTA_INACTIVE_PROBE_SECONDS", default=600)
# Other clients of the same client id may have spent the window before we saw it: until a
# response's headers show this window's real usage, only this many permits are granted
# (0 turns probing off). Refused callers come back after QUOTA_WINDOW_PROBE_RETRY seconds; probes
# that bring no answer within QUOTA_WINDOW_PROBE_TIMEOUT seconds are granted again.
QUOTA_WINDOW_PROBE_PERMITS = env.int("QUOTA_WINDOW_PROBE_PERMITS", default=1)
QUOTA_WINDOW_PROBE_RETRY = env.float("QUOTA_WINDOW_PROBE_RETRY", default=0.5)
QUOTA_WINDOW_PROBE_TIMEOUT = env.float("QUOTA_WINDOW_PROBE_TIMEOUT", default=30.0)

# --- Uploads ------------------------------------------------------------------------------
# Browser uploads: at most this many files and bytes in one request (the page splits bigger
# drops into several requests), and this many of an athlete's files waiting or in flight.
UPLOADS_WEB_MAX_FILES = env.int("UPLOADS_WEB_MAX_FILES", default=1000)
UPLOADS_WEB_MAX_REQUEST_BYTES = env.int("UPLOADS_WEB_MAX_REQUEST_BYTES", default=2 * 1024**3)
UPLOADS_MAX_IN_FLIGHT = env.int("UPLOADS_MAX_IN_FLIGHT", default=20_000)
# Files are streamed to temporary files on disk, never held whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOADS_WEB_MAX_FILES
# One activity file (after gunzip) above this is refused; archives are limited separately.
UPLOADS_MAX_FILE_BYTES = env.int("UPLOADS_MAX_FILE_BYTES", default=100 * 1024 * 1024)
# Limits on archives (zip bombs): total uncompressed bytes, entries, ratio, nesting depth.
UPLOADS_ARCHIVE_MAX_BYTES = env.int("UPLOADS_ARCHIVE_MAX_BYTES", default=4 * 1024**3)
UPLOADS_ARCHIVE_MAX_ENTRIES = env.int("UPLOADS_ARCHIVE_MAX_ENTRIES", default=50_000)
UPLOADS_ARCHIVE_MAX_RATIO = env.float("UPLOADS_ARCHIVE_MAX_RATIO", default=200.0)
# Seconds one request (or one file of upload_folder) may spend expanding and sweeping what it
# was given; the rest of an archive is then refused in one row. Below gunicorn's --timeout.
UPLOADS_INGEST_DEADLINE = env.float("UPLOADS_INGEST_DEADLINE", default=90.0)
# Threads that write one ingest's accepted files to the storage side by side (0: one by one);
# the storage must be thread-safe (the file system and django-storages' backends are).
UPLOADS_STORE_THREADS = env.int("UPLOADS_STORE_THREADS", default=4)
# Most uploads the dispatcher hands out in one tick.
UPLOADS_DISPATCH_BATCH = env.int("UPLOADS_DISPATCH_BATCH", default=50)
# Seconds after posting before we ask Strava how an upload ended (Strava's mean is under 2 s).
UPLOADS_CONFIRM_DELAY = env.float("UPLOADS_CONFIRM_DELAY", default=3.0)
# While an athlete's files are still being posted, confirmations wait up to this long to
# settle many uploads with one activity-list call.
UPLOADS_CONFIRM_MAX_WAIT = env.float("UPLOADS_CONFIRM_MAX_WAIT", default=60.0)
# An upload not found in the activity list after this long is asked about by id.
UPLOADS_CONFIRM_FALLBACK = env.float("UPLOADS_CONFIRM_FALLBACK", default=8.0)
# While Strava pushes events to us, an upload's activity `create` event settles it with no confirmer call:
# the confirmer spends a call only on uploads posted longer ago than this (refused files send no event,
# and a missed event must not strand an upload).
WEBHOOK_CONFIRM_GRACE_SECONDS = env.float("WEBHOOK_CONFIRM_GRACE_SECONDS", default=120.0)
# A claimed upload whose worker vanished is queued again after this many seconds.
UPLOADS_CLAIM_TIMEOUT = env.int("UPLOADS_CLAIM_TIMEOUT", default=300)
# Transient failures (5xx, network) are retried this many times per file before it is failed.
UPLOADS_MAX_ATTEMPTS = env.int("UPLOADS_MAX_ATTEMPTS", default=5)
# Files first: every activity file is read into the warehouse by workers, this many files per task
# (a full read takes up to a few seconds for a long ride), at most this many tasks at once, each
# holding its files for the lease (seconds) before another worker may take them over.
UPLOADS_WAREHOUSE_CHUNK = env.int("UPLOADS_WAREHOUSE_CHUNK", default=10)
UPLOADS_WAREHOUSE_TASKS = env.int("UPLOADS_WAREHOUSE_TASKS", default=2)
UPLOADS_WAREHOUSE_LEASE = env.int("UPLOADS_WAREHOUSE_LEASE", default=900)

# The dispatcher loop (manage.py run_dispatcher) runs these steps every DISPATCH_INTERVAL seconds.
DISPATCH_STEPS = [
    # Push events: the ones needing no call are applied at once; activity creates take read permits (priority webhook,
    # above uploads: first in the tick).
    "webhooks.services.webhook_events_dispatch",
    "uploads.services.uploads_dispatch",
    "uploads.services.uploads_confirm",
    # Files first: accepted activity files read into the warehouse by workers (no Strava permit).
    "uploads.services.uploads_warehouse_dispatch",
    # Warehouse: in priority order (pull before enrich), so within a tick the higher takes its permits first.
    "warehouse.services.pulls_dispatch",
    "warehouse.services.enrich_dispatch",
    "segments.services.segments_dispatch",
    # Garmin Connect checks: no Strava permits (their uploads go through the uploads' own steps).
    "garmin.services.garmin_checks_dispatch",
]
DISPATCH_INTERVAL = env.float("DISPATCH_INTERVAL", default=1.0)
# Backlogs shown with their estimated time to finish by quota_status and /api/rate-limit/:
# (name, priority, call kind, dotted path of a function returning the calls still needed).
QUOTA_BACKLOGS = [
    ("uploads", "upload", "write", "uploads.services.uploads_pending_calls"),
    ("pull", "pull", "read", "warehouse.services.pull_pending_calls"),
    ("enrich", "enrich", "read", "warehouse.services.enrich_pending_calls"),
    ("segments", "backfill", "read", "segments.selectors.segment_details_pending_calls"),
]

# --- Operations (ops/: the operator's sync page, /healthz, /metrics) ----------------------
# The sync page shows STRAVA_ATHLETE_CAPACITY (above) as "7 of 10".
# /healthz is unhealthy when the dispatcher has not ticked for this many seconds.
HEALTH_DISPATCHER_STALE_SECONDS = env.int("HEALTH_DISPATCHER_STALE_SECONDS", default=60)
# /metrics answers a request carrying "Authorization: Bearer <METRICS_TOKEN>", or one from METRICS_ALLOWED_IPS.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])

# --- Warehouse ------------------------------------------------------------------------------
# Seconds between two incremental pulls of one athlete; athletes are spread evenly over it.
WAREHOUSE_PULL_INTERVAL = env.int("WAREHOUSE_PULL_INTERVAL", default=3600)
# With a live push subscription, events bring new activities and a pull only reconciles what they missed.
WAREHOUSE_RECONCILE_INTERVAL = env.int("WAREHOUSE_RECONCILE_INTERVAL", default=86400)
# Most athletes whose next page the dispatcher hands out per tick (priority pull).
WAREHOUSE_PULL_BATCH = env.int("WAREHOUSE_PULL_BATCH", default=10)
# Most activity-detail calls the dispatcher hands out per tick (priority enrich, newest first).
WAREHOUSE_ENRICH_BATCH = env.int("WAREHOUSE_ENRICH_BATCH", default=50)
# A pull or enrich claimed by a worker that vanished is free again after this many seconds.
WAREHOUSE_CLAIM_TIMEOUT = env.int("WAREHOUSE_CLAIM_TIMEOUT", default=300)
# A newly connected athlete's newest page of activities is fetched during the login, at priority interactive.
WAREHOUSE_FIRST_PAGE_AT_CONNECT = env.bool("WAREHOUSE_FIRST_PAGE_AT_CONNECT", default=True)
# Seconds the login waits for that page (one try, no retries); past it the dispatcher fetches it instead.
WAREHOUSE_FIRST_PAGE_TIMEOUT = env.float("WAREHOUSE_FIRST_PAGE_TIMEOUT", default=8.0)
# A Strava export's activities.csv above this (bytes, uncompressed) is refused: 10,000 activities are ~20 MB.
WAREHOUSE_EXPORT_CSV_MAX_BYTES = env.int("WAREHOUSE_EXPORT_CSV_MAX_BYTES", default=256 * 1024**2)
# An export's activity file above this (bytes, as stored in the zip) is not read for its route, and is reported.
WAREHOUSE_EXPORT_FILE_MAX_BYTES = env.int("WAREHOUSE_EXPORT_FILE_MAX_BYTES", default=32 * 1024**2)

# --- Segments -------------------------------------------------------------------------------
# Most segment-detail calls the dispatcher hands out per tick (priority backfill, most ridden first).
SEGMENTS_DISPATCH_BATCH = env.int("SEGMENTS_DISPATCH_BATCH", default=20)
# Most activities whose stored details the dispatcher turns into efforts per tick (no call).
SEGMENTS_EFFORTS_BATCH = env.int("SEGMENTS_EFFORTS_BATCH", default=200)
# A segment claimed for its detail call by a worker that vanished is free again after this many seconds.
SEGMENTS_CLAIM_TIMEOUT = env.int("SEGMENTS_CLAIM_TIMEOUT", default=300)

# --- Webhooks (Strava's push events, POSTed to SITE_URL/strava/webhook/) --------------------------
# Strava's handshake must present this token (manage.py strava_webhook subscribe sends it); empty refuses all.
STRAVA_WEBHOOK_VERIFY_TOKEN = env("STRAVA_WEBHOOK_VERIFY_TOKEN", default="")
# A Strava event is ~300 bytes; bigger bodies are refused unread.
STRAVA_WEBHOOK_MAX_BODY_BYTES = env.int("STRAVA_WEBHOOK_MAX_BODY_BYTES", default=16 * 1024)
# Most events needing no call applied per dispatcher tick, and most detail calls handed out per tick.
WEBHOOKS_APPLY_BATCH = env.int("WEBHOOKS_APPLY_BATCH", default=500)
WEBHOOKS_FETCH_BATCH = env.int("WEBHOOKS_FETCH_BATCH", default=50)
# A create event claimed by a worker that vanished is free again after this many seconds.
WEBHOOKS_CLAIM_TIMEOUT = env.int("WEBHOOKS_CLAIM_TIMEOUT", default=300)
# A create event whose detail call keeps failing (not 429, not 404) is given up after this many tries.
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=5)

# --- Garmin Connect (garmin/) ------------------------------------------------------------
# Where Garmin requests go instead of Garmin (the simulator's stand-in); empty = the real Garmin Connect.
# Follows the Strava sandbox by default: a deployment with real Strava credentials talks to the real Garmin.
GARMIN_SANDBOX_URL = env("GARMIN_SANDBOX_URL", default=f"{SITE_URL}/sandbox/garmin" if SANDBOX_MODE else "").rstrip("/")
# Seconds between two Garmin requests, deployment-wide (±10 % jitter): every athlete shares one server address.
GARMIN_REQUEST_INTERVAL = env.float("GARMIN_REQUEST_INTERVAL", default=2.0)
GARMIN_HTTP_TIMEOUT = env.float("GARMIN_HTTP_TIMEOUT", default=30.0)
# After a 429 no Garmin request for this long, doubling on each 429 in a row up to the maximum (seconds).
GARMIN_BACKOFF_MIN = env.float("GARMIN_BACKOFF_MIN", default=15 * 60)
GARMIN_BACKOFF_MAX = env.float("GARMIN_BACKOFF_MAX", default=4 * 3600)
# Seconds between two checks of one athlete (±10 %, so athletes spread over it).
GARMIN_CHECK_INTERVAL = env.int("GARMIN_CHECK_INTERVAL", default=3600)
# A check re-lists this many days before the newest activity it saw (late syncs land there).
GARMIN_RELIST_DAYS = env.int("GARMIN_RELIST_DAYS", default=7)
# Most originals one check downloads for one athlete; the rest wait GARMIN_BACKLOG_RECHECK seconds.
GARMIN_DOWNLOADS_PER_CYCLE = env.int("GARMIN_DOWNLOADS_PER_CYCLE", default=25)
GARMIN_BACKLOG_RECHECK = env.int("GARMIN_BACKLOG_RECHECK", default=120)
# A download failing this many times is shown as failed (and can be retried from the page).
GARMIN_MAX_ATTEMPTS = env.int("GARMIN_MAX_ATTEMPTS", default=5)
# Checks running at once across the deployment (their requests still go one at a time).
GARMIN_CONCURRENT_JOBS = env.int("GARMIN_CONCURRENT_JOBS", default=2)
# A check whose worker vanished frees its athlete after this many seconds.
GARMIN_JOB_LEASE = env.int("GARMIN_JOB_LEASE", default=1800)

# --- Simulator (sandbox/) ---------------------------------------------------------------
# The name the simulator's consent page shows for the application, as Strava shows a registered app's name.
SANDBOX_APPLICATION_NAME = env("SANDBOX_APPLICATION_NAME", default="stravasync")
SANDBOX_TOKEN_LIFETIME = env.int("SANDBOX_TOKEN_LIFETIME", default=6 * 3600)
SANDBOX_LIMIT_SHORT = env.int("SANDBOX_LIMIT_SHORT", default=200)
SANDBOX_LIMIT_DAILY = env.int("SANDBOX_LIMIT_DAILY", default=2000)
SANDBOX_READ_LIMIT_SHORT = env.int("SANDBOX_READ_LIMIT_SHORT", default=100)
SANDBOX_READ_LIMIT_DAILY = env.int("SANDBOX_READ_LIMIT_DAILY", default=1000)
SANDBOX_WINDOW_SECONDS = env.int("SANDBOX_WINDOW_SECONDS", default=900)
SANDBOX_DAY_SECONDS = env.int("SANDBOX_DAY_SECONDS", default=86400)
SANDBOX_UPLOAD_DELAY = env.float("SANDBOX_UPLOAD_DELAY", default=2.0)
SANDBOX_GARMIN_ACCESS_LIFETIME = env.int("SANDBOX_GARMIN_ACCESS_LIFETIME", default=3600)

# Error reports of requests that carry a password (the Garmin sign-in) show no variables at all.
DEFAULT_EXCEPTION_REPORTER_FILTER = "stravasync.logfilters.SecretRequestsReportFilter"

# --- Internationalisation and static files -------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Stored files (uploads, export zips, reports) are only ever reached through the storage API, so
# where they live is a matter of these settings: the local disk (MEDIA_ROOT) by default, or an
# S3-compatible bucket, which workers on several machines can all read.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
STORAGE_BACKEND = env("STORAGE_BACKEND", default="s3" if AWS_STORAGE_BUCKET_NAME else "filesystem")
if STORAGE_BACKEND == "s3":
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME")
    _default_storage: dict = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Empty means boto3's own chain (environment, instance role, ~/.aws).
            "access_key": env("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default="") or None,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("AWS_S3_REGION_NAME", default="") or None,
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "location": env("AWS_LOCATION", default=""),
            "custom_domain": env("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            # Athletes' files are private: links to them are signed unless told otherwise.
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=True),
        },
    }
elif STORAGE_BACKEND == "filesystem":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, not {STORAGE_BACKEND!r}")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG and SITE_URL.startswith("https"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- social-auth --------------------------------------------------------------------------
SOCIAL_AUTH_JSONFIELD_ENABLED = True
SOCIAL_AUTH_STRAVA_KEY = STRAVA_CLIENT_ID
SOCIAL_AUTH_STRAVA_SECRET = STRAVA_CLIENT_SECRET
SOCIAL_AUTH_STRAVA_SCOPE = STRAVA_SCOPES
SOCIAL_AUTH_STRAVA_AUTH_EXTRA_ARGUMENTS = {"approval_prompt": "auto"}
SOCIAL_AUTH_LOGIN_ERROR_URL = "/"
SOCIAL_AUTH_RAISE_EXCEPTIONS = False
SOCIAL_AUTH_REDIRECT_IS_HTTPS = SITE_URL.startswith("https")
# No `load_extra_data`: our encrypted StravaToken is the only copy of the tokens.
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    "social_core.pipeline.user.get_username",
    "social_core.pipeline.user.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.user.user_details",
    "accounts.pipeline.save_athlete_and_token",
)

# --- Logging: secrets never reach logs (see stravasync/logging.py) -------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "stravasync.logfilters.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}
