"""The one settings module. Every value comes from the environment (see README,
"Configuration"); with nothing set, the platform runs on one machine on embedded
defaults (foundation.embedded)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from kombu import Queue

from foundation.embedded import embedded_broker_url, persistent_secret, redis_cache_location
from foundation.env import (
    EnvError,
    env_bool,
    env_choice,
    env_credentials,
    env_fernet_keys,
    env_int,
    env_list,
    env_networks,
    env_optional_str,
    env_path,
    env_path_list,
    env_str,
    fernet_key,
)
from worker_node.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("PPIPE_VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_optional_str("SECRET_KEY") or persistent_secret(VAR_DIR, "secret_key", nbytes=50)
# Fernet keys for the secrets stored in the database (destination secret options,
# endpoint auth headers; foundation/secrets_at_rest.py), kept outside it so a dump
# or a backup alone reveals none. The first encrypts, every one decrypts: rotate by
# putting a new key first and running `manage.py rotate_secrets`. Without one, a
# key file in the var folder (32 random bytes: a Fernet key without its padding).
PPIPE_SECRETS_KEYS = env_fernet_keys("PPIPE_SECRETS_KEYS") or [
    fernet_key(
        persistent_secret(VAR_DIR, "secrets_key", nbytes=32), source=str(VAR_DIR / "secrets_key")
    )
]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Where the platform tells people to go (printed URLs, links in mails).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # First, so its admin/base_site.html (the operators' links) overrides the admin's.
    "ppipe_site",
    # The admin, whose site keeps its navigation sidebar per user (foundation/admin_site.py).
    "foundation.admin_config.KeptAppListAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "challenges",
    "teams",
    "dispatch",
    "judging",
    "probing",
    "receipts",
    "grades",
    "notifications",
    "retention",
    # Sign-in failures per account and per address (foundation/login_lockout.py).
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a body (the CSRF check reads a form's): refuses by size.
    "foundation.body_limits.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: turns a lockout seen during the view into its 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ppipe_site.urls"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# The REST API (../shared/API.md): token auth for scripts, the session for pages;
# every error has the shape {"detail": ..., "errors": {field: [messages]}}.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "foundation.api_schema.RateLimitedAutoSchema",
    "EXCEPTION_HANDLER": "foundation.api.error_shape_handler",
    # JSON is checked for depth and size of structure before it is built.
    "DEFAULT_PARSER_CLASSES": [
        "foundation.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Counted in the cache every web process shares (CACHES["throttles"]); the
    # scoped one counts a view's family (its `throttle_scope`) apart.
    "DEFAULT_THROTTLE_CLASSES": [
        "foundation.throttles.SharedAnonRateThrottle",
        "foundation.throttles.SharedUserRateThrottle",
        "foundation.throttles.SharedScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": f"{env_int('PPIPE_THROTTLE_ANON_PER_MINUTE', 60, minimum=1)}/minute",
        "user": f"{env_int('PPIPE_THROTTLE_USER_PER_MINUTE', 1200, minimum=1)}/minute",
        # Per account (per address when not signed in), each family apart. A student
        # polling every 2 s makes 30 a minute; a script in a loop, hundreds.
        "polls": f"{env_int('PPIPE_THROTTLE_POLLS_PER_MINUTE', 120, minimum=1)}/minute",
        # Releases, starting kits and submitted code, from the API and the pages.
        "downloads": f"{env_int('PPIPE_THROTTLE_DOWNLOADS_PER_MINUTE', 30, minimum=1)}/minute",
        "shared_code": f"{env_int('PPIPE_THROTTLE_SHARED_CODE_PER_MINUTE', 60, minimum=1)}/minute",
        # Each fork is a new submission row: a few a minute is already a lot.
        "forks": f"{env_int('PPIPE_THROTTLE_FORKS_PER_MINUTE', 10, minimum=1)}/minute",
        "leaderboard": f"{env_int('PPIPE_THROTTLE_LEADERBOARD_PER_MINUTE', 60, minimum=1)}/minute",
        # Proof-of-receipt questions listed and answered.
        "receipts": f"{env_int('PPIPE_THROTTLE_RECEIPTS_PER_MINUTE', 60, minimum=1)}/minute",
        # Joining a challenge, a team's join/create/leave and "my team"; the codes
        # tried are limited apart (join_code).
        "joins": f"{env_int('PPIPE_THROTTLE_JOINS_PER_MINUTE', 30, minimum=1)}/minute",
        # Challenge and team join codes tried by a student, or wrong codes given at
        # sign-up from one address (foundation/throttles.py).
        "join_code": f"{env_int('PPIPE_THROTTLE_JOIN_CODES_PER_HOUR', 10, minimum=1)}/hour",
    },
    # Addresses come from REMOTE_ADDR unless proxies in front are declared, so a
    # client cannot pick its own address with X-Forwarded-For.
    "NUM_PROXIES": env_int("PPIPE_TRUSTED_PROXIES", 0, minimum=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ppipe API",
    "DESCRIPTION": "Challenges, releases, submissions and leaderboards. "
    "Authenticate with `Authorization: Token <token>` from POST /api/auth/token/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation page's scripts are served by the site itself: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
WSGI_APPLICATION = "ppipe_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ppipe_site.context_processors.operators",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = env_optional_str("DATABASE_URL")
    if url is None:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "ppipe.sqlite3"),
            "OPTIONS": {
                # WAL lets the web server read while a worker writes; IMMEDIATE takes
                # the write lock at BEGIN so concurrent writers wait (timeout) instead
                # of failing with "database is locked" half-way through a transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise EnvError(
            f"DATABASE_URL is not a database URL this platform can use: {error}"
        ) from None
    if "postgresql" in str(config.get("ENGINE", "")):
        # Our queries are small, but on young tables the planner's estimates can run
        # to millions of rows (the visibility DISTINCT over a challenge's sections):
        # its JIT then spent ~2 s compiling a query that ran in a millisecond, on
        # every page and every 5 s poll. A DATABASE_URL's own ?options= wins.
        options = config.setdefault("OPTIONS", {})
        options.setdefault("options", "-c jit=off")
    return dict(config)


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- sign-in lockout, request sizes (README, "Limits") ------------------------
# axes first: it refuses a locked-out account or address before a password is
# checked (its AxesStandaloneBackend, which lets a check without a request pass).
AUTHENTICATION_BACKENDS = [
    "foundation.login_lockout.AxesBackendForRequests",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed sign-ins (login page, admin, API token) before a lockout, counted per
# username and, apart, per address: a class behind one NAT shares an address.
AXES_FAILURE_LIMIT = env_int("PPIPE_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("PPIPE_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "foundation.login_lockout.lockout_response"
# The address as the API's throttles see it (REST_FRAMEWORK["NUM_PROXIES"]).
AXES_CLIENT_IP_CALLABLE = "foundation.login_lockout.client_address"
# Not reset by a success: a success from a shared address would wipe the
# address's failures against other accounts.
AXES_RESET_ON_SUCCESS = False
# Bodies: a route's limit is checked on Content-Length before reading
# (foundation/body_limits.py); datasets and submissions have their own below.
PPIPE_MAX_REQUEST_KB = env_int("PPIPE_MAX_REQUEST_KB", 2560, minimum=64)
DATA_UPLOAD_MAX_MEMORY_SIZE = PPIPE_MAX_REQUEST_KB * 1024
# Uploads larger than this (Django's default) are streamed to a temporary file as
# they arrive; a submission's whole body stays below it, in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2560 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
# {{ form }} everywhere on the site: label, field, help and errors in that order
# (ppipe_site/templates/ppipe/form.html) rather than as_p's run-on paragraphs.
FORM_RENDERER = "ppipe_site.form_renderer.SiteFormRenderer"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_path("PPIPE_STATIC_DIR", VAR_DIR / "static")
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js from the plotly package, for the charts (foundation/charts.py).
    "foundation.plotly_static.PlotlyJsFinder",
]
# Uploaded datasets: control side only, never served by URL.
PPIPE_MEDIA_DIR = env_path("PPIPE_MEDIA_DIR", VAR_DIR / "media")
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PPIPE_MEDIA_DIR)},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- ppipe ------------------------------------------------------------------
# Inputs and outputs of jobs, addressed by sha256: what workers may read.
PPIPE_ARTIFACT_DIR = env_path("PPIPE_ARTIFACT_DIR", VAR_DIR / "artifacts")
# Hidden test labels: read by the control side only, never put in a job.
PPIPE_PRIVATE_DIR = env_path("PPIPE_PRIVATE_DIR", VAR_DIR / "private")
PPIPE_MAX_DATASET_MB = env_int("PPIPE_MAX_DATASET_MB", 200, minimum=1)
PPIPE_MIN_DATASET_ROWS = env_int("PPIPE_MIN_DATASET_ROWS", 30, minimum=2)
# Retention (retention/): a run's artifacts are removed this many days after it ended
# unless the run is kept (selected, promoted, a student's best, reproduced); a
# challenge's own rules may say otherwise. 0 keeps them for good.
PPIPE_RETENTION_DAYS = env_int("PPIPE_RETENTION_DAYS", 120, minimum=0)
# A file no row refers to is deleted only once it is this old (its time is refreshed
# whenever it is stored again): longer than any upload or judge run takes between
# storing a file and recording the row that refers to it.
PPIPE_RETENTION_GRACE_HOURS = env_int("PPIPE_RETENTION_GRACE_HOURS", 48, minimum=1)
# How often beat runs the collector, and how much one pass may do (the rest is the
# next pass's): runs whose artifacts it removes, files it deletes.
PPIPE_RETENTION_TICK_SECONDS = env_int("PPIPE_RETENTION_TICK_SECONDS", 21600, minimum=60)
PPIPE_RETENTION_RUNS_PER_PASS = env_int("PPIPE_RETENTION_RUNS_PER_PASS", 5000, minimum=1)
PPIPE_RETENTION_BLOBS_PER_PASS = env_int("PPIPE_RETENTION_BLOBS_PER_PASS", 20000, minimum=1)
# Seconds between heartbeats that beat sends through the broker to the control worker.
PPIPE_HEARTBEAT_SECONDS = env_int("PPIPE_HEARTBEAT_SECONDS", 30, minimum=1)

# --- Celery (namespace CELERY_, read by foundation.celery) -------------------
CELERY_BROKER_URL = env_optional_str("CELERY_BROKER_URL") or embedded_broker_url(VAR_DIR)
CELERY_RESULT_BACKEND = env_optional_str("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL
# Each process its own memory cache (leaderboards, for seconds); the API's throttle
# counts in Redis, shared by every web process (foundation/shared_cache.py): the
# broker's (`make run`'s embedded one too) unless another is named.
_THROTTLE_REDIS = env_optional_str("PPIPE_THROTTLE_REDIS_URL") or redis_cache_location(
    CELERY_BROKER_URL
)
CACHES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttles": (
        {
            "BACKEND": "foundation.shared_cache.ForgivingRedisCache",
            "LOCATION": _THROTTLE_REDIS,
            "KEY_PREFIX": env_str("PPIPE_THROTTLE_KEY_PREFIX", "ppipe-throttle"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if _THROTTLE_REDIS
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
}
# JSON only: a job must be readable and re-runnable from its text, and a worker
# must never unpickle what a broker hands it.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_QUEUES = [Queue(name) for name in ("control", "dispatch", "judge", "probe")]
CELERY_TASK_DEFAULT_QUEUE = "control"
# Executors of remote jobs are named execute_*; everything else is control work,
# which needs the database and so runs only on the control worker.
CELERY_TASK_ROUTES = {
    "dispatch.tasks.execute_*": {"queue": "dispatch"},
    "judging.tasks.execute_*": {"queue": "judge"},
    "probing.tasks.execute_*": {"queue": "probe"},
}
# Each worker also consumes a queue of its own (`<node>.dq2`), so a reproduction
# can be sent to one chosen judge worker (judging/reproduction.py).
CELERY_WORKER_DIRECT = True
# Long jobs: a worker takes one message at a time, so a slow job never holds
# back messages that an idle worker elsewhere could take.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Late acknowledgement is opted into per task, only where the effect is idempotent.
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_SOFT_TIME_LIMIT = env_int("PPIPE_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("PPIPE_TASK_TIME_LIMIT", 360, minimum=2)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise EnvError("PPIPE_TASK_TIME_LIMIT must be greater than PPIPE_TASK_SOFT_TIME_LIMIT.")
# An unacknowledged message goes back to the queue after this many seconds: it
# must outlast the longest job, or a running job would be handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("PPIPE_VISIBILITY_TIMEOUT", 3 * 3600, minimum=60),
    "socket_connect_timeout": 5,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TRACK_STARTED = True
# Events let Flower show every task's progress.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
# django-celery-beat's, asking whether the schedule changed every few seconds only.
CELERY_BEAT_SCHEDULER = "foundation.beat:PpipeDatabaseScheduler"
# Without this, Celery's Django fixup closes the database connection before and
# after every task, so CONN_MAX_AGE never applies on a worker: the control worker
# opened a PostgreSQL session per task (1,353 for 200 submissions, most of the
# database's CPU). With it the fixup closes only every this many tasks; between,
# foundation/celery.py applies CONN_MAX_AGE, and drops a connection that failed or
# fails its health check (a restarted PostgreSQL), at each task's start and end.
CELERY_DB_REUSE_MAX = 1000

# --- metrics ------------------------------------------------------------------
# /metrics answers staff, and a Prometheus scraper sending this bearer token.
PPIPE_METRICS_TOKEN = env_optional_str("PPIPE_METRICS_TOKEN") or ""

# --- Flower -----------------------------------------------------------------
FLOWER_BASIC_AUTH = env_credentials("FLOWER_BASIC_AUTH") or (
    "operator",
    persistent_secret(VAR_DIR, "flower_password", nbytes=18),
)
FLOWER_PORT = env_int("FLOWER_PORT", 5555, minimum=1, maximum=65535)
# Where operators reach Flower (its own port, or a prefix behind the site's proxy):
# the admin links there.
FLOWER_URL = env_str("FLOWER_URL", f"http://127.0.0.1:{FLOWER_PORT}/")

# Plain text, or one JSON object a line (LOG_FORMAT=json) for a log store; either
# way each record logged in a task carries its job's ids (worker_node/logs.py).
LOGGING = logging_config(
    env_str("LOG_LEVEL", "INFO"), env_choice("LOG_FORMAT", "plain", ("plain", "json"))
)
# Workers log through the handler above too, rather than Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Releases (dispatch) ----------------------------------------------------
# Attempts per transaction before it ends `failed` with the last reason.
PPIPE_DISPATCH_MAX_ATTEMPTS = env_int("PPIPE_DISPATCH_MAX_ATTEMPTS", 5, minimum=1)
# Retry n waits about BACKOFF * 2**(n-1) seconds (jittered ±50%), at most BACKOFF_MAX.
PPIPE_DISPATCH_BACKOFF_SECONDS = env_int("PPIPE_DISPATCH_BACKOFF_SECONDS", 10, minimum=0)
PPIPE_DISPATCH_BACKOFF_MAX_SECONDS = env_int("PPIPE_DISPATCH_BACKOFF_MAX_SECONDS", 900, minimum=0)
# How long a queued job may wait for a worker, and a started one may run, before
# the reaper takes it back: the message expires too, so a late copy never runs.
PPIPE_DISPATCH_QUEUE_SECONDS = env_int("PPIPE_DISPATCH_QUEUE_SECONDS", 600, minimum=1)
PPIPE_DISPATCH_TIME_LIMIT = env_int("PPIPE_DISPATCH_TIME_LIMIT", 900, minimum=1)
# A started attempt's lease is the time limit plus this grace, for the result to arrive.
PPIPE_DISPATCH_LEASE_GRACE_SECONDS = env_int("PPIPE_DISPATCH_LEASE_GRACE_SECONDS", 30, minimum=0)
PPIPE_RELEASE_TICK_SECONDS = env_int("PPIPE_RELEASE_TICK_SECONDS", 5, minimum=1)
PPIPE_REAPER_SECONDS = env_int("PPIPE_REAPER_SECONDS", 15, minimum=1)
PPIPE_DISPATCH_BATCH = env_int("PPIPE_DISPATCH_BATCH", 200, minimum=1)
# Transactions one message to a dispatch worker carries at most (one challenge's,
# uploaded in one rclone call): a release to 200 student folders is four messages,
# which several dispatch processes share. The whole batch shares
# PPIPE_DISPATCH_TIME_LIMIT: lower this for very large release files.
PPIPE_DISPATCH_GROUP_SIZE = env_int("PPIPE_DISPATCH_GROUP_SIZE", 50, minimum=1)
# Ranges beyond the public internet that destinations' hosts may be in (CIDR,
# comma-separated): checked after DNS on each worker, as probes are.
PPIPE_DESTINATION_ALLOWED_NETWORKS = env_networks("PPIPE_DESTINATION_ALLOWED_NETWORKS")
# The user rclone runs as for remote hosts on a worker started as root (created by
# `make setup`): a teacher's remote never talks to the network as root.
PPIPE_RCLONE_USER = env_str("PPIPE_RCLONE_USER", "ppipe-release")
# Folders a `local` destination may write below, on the control side's forms and
# on each dispatch worker: a teacher must not be able to write anywhere on a worker.
PPIPE_LOCAL_DESTINATION_ROOTS = env_path_list(
    "PPIPE_LOCAL_DESTINATION_ROOTS", [VAR_DIR / "releases"]
)

# --- Judging ----------------------------------------------------------------
# Largest estimator.py accepted at upload.
# Leaderboards are recomputed at most this often per web process (0: every request).
PPIPE_LEADERBOARD_CACHE_SECONDS = env_int("PPIPE_LEADERBOARD_CACHE_SECONDS", 5, minimum=0)
PPIPE_MAX_SUBMISSION_KB = env_int("PPIPE_MAX_SUBMISSION_KB", 256, minimum=1)
# Judge jobs waiting in the broker at most: the rest wait in the database, where the
# feeder can still take students round-robin and a cancel costs nothing.
PPIPE_JUDGE_QUEUE_DEPTH = env_int("PPIPE_JUDGE_QUEUE_DEPTH", 4, minimum=1)
# Runs per submission when its worker vanishes (each vanished run costs one).
PPIPE_JUDGE_MAX_ATTEMPTS = env_int("PPIPE_JUDGE_MAX_ATTEMPTS", 3, minimum=1)
# A queued job no worker took within this time goes back to waiting (not an attempt).
PPIPE_JUDGE_QUEUE_SECONDS = env_int("PPIPE_JUDGE_QUEUE_SECONDS", 300, minimum=1)
# A running job's worker reports every HEARTBEAT seconds; after LEASE without a word,
# the reaper takes the job back.
PPIPE_JUDGE_HEARTBEAT_SECONDS = env_int("PPIPE_JUDGE_HEARTBEAT_SECONDS", 10, minimum=1)
PPIPE_JUDGE_LEASE_SECONDS = env_int("PPIPE_JUDGE_LEASE_SECONDS", 45, minimum=2)
if PPIPE_JUDGE_LEASE_SECONDS <= PPIPE_JUDGE_HEARTBEAT_SECONDS:
    raise EnvError("PPIPE_JUDGE_LEASE_SECONDS must be greater than PPIPE_JUDGE_HEARTBEAT_SECONDS.")
PPIPE_JUDGE_TICK_SECONDS = env_int("PPIPE_JUDGE_TICK_SECONDS", 5, minimum=1)
# Contributivity (judging/contributivity.py): recomputed this long after the first
# result that made it stale (a burst of results costs one computation), on the N
# best submissions by cross-validation, within a time budget of SECONDS, ensembles
# of at most MAX_MEMBERS per fold; beat's tick catches a computation whose message
# was lost.
PPIPE_CONTRIBUTIVITY_DELAY_SECONDS = env_int("PPIPE_CONTRIBUTIVITY_DELAY_SECONDS", 30, minimum=0)
PPIPE_CONTRIBUTIVITY_MAX_SUBMISSIONS = env_int(
    "PPIPE_CONTRIBUTIVITY_MAX_SUBMISSIONS", 50, minimum=1
)
PPIPE_CONTRIBUTIVITY_MAX_MEMBERS = env_int("PPIPE_CONTRIBUTIVITY_MAX_MEMBERS", 50, minimum=1)
PPIPE_CONTRIBUTIVITY_SECONDS = env_int("PPIPE_CONTRIBUTIVITY_SECONDS", 60, minimum=1)
PPIPE_CONTRIBUTIVITY_TICK_SECONDS = env_int("PPIPE_CONTRIBUTIVITY_TICK_SECONDS", 60, minimum=1)
# Limits inside the sandbox that the challenge does not set.
PPIPE_JUDGE_PROCESSES = env_int("PPIPE_JUDGE_PROCESSES", 64, minimum=1)
PPIPE_JUDGE_FILE_MB = env_int("PPIPE_JUDGE_FILE_MB", 64, minimum=1)
# Threads the maths libraries may use in one judge job: its CPU allotment.
PPIPE_JUDGE_THREADS = env_int("PPIPE_JUDGE_THREADS", 1, minimum=1)
# Student code runs under bubblewrap; "none" runs it unsandboxed (trusted code only).
PPIPE_SANDBOX = env_str("PPIPE_SANDBOX", "bwrap").lower()
if PPIPE_SANDBOX not in ("bwrap", "none"):
    raise EnvError(f"PPIPE_SANDBOX must be 'bwrap' or 'none', not {PPIPE_SANDBOX!r}.")
PPIPE_BWRAP = env_str("PPIPE_BWRAP", "/usr/bin/bwrap")
# Keep one sandbox started and warm per judge process (imports done before the job).
PPIPE_SANDBOX_PREWARM = env_bool("PPIPE_SANDBOX_PREWARM", True)
# Jobs a sandbox runs one after another (each in namespaces of its own) before it
# is replaced: a fresh sandbox costs about a second of CPU for its imports.
PPIPE_SANDBOX_JOBS = env_int("PPIPE_SANDBOX_JOBS", 100, minimum=1)
# Participants' boxes a judge process keeps warm between their jobs (least recently
# used dropped first); each idle box is two sleeping processes and about 4 MB.
PPIPE_SANDBOX_KEPT = env_int("PPIPE_SANDBOX_KEPT", 32, minimum=1)
# The host user student code runs as when the judge worker is root (make setup
# creates it); it must own nothing. A uid number works too.
PPIPE_SANDBOX_USER = env_str("PPIPE_SANDBOX_USER", "ppipe-sandbox")
# The cgroup below which each sandbox gets its own (as /proc/self/cgroup names
# it); empty: the worker's own. With cgroup v2 it must be delegated to the worker.
PPIPE_CGROUP_ROOT = env_str("PPIPE_CGROUP_ROOT", "")
# The size of a sandbox's only writable place (a tmpfs).
PPIPE_SANDBOX_TMPFS_MB = env_int("PPIPE_SANDBOX_TMPFS_MB", 512, minimum=16)
# Where a judge worker caches inputs by digest and prepares each job's input folder.
PPIPE_JUDGE_WORK_DIR = env_path("PPIPE_JUDGE_WORK_DIR", Path(tempfile.gettempdir()))
# A reproduction that no worker finished within the job's wall limit plus this
# margin (and the queue time above while it waits) is failed by the reaper.
PPIPE_REPRODUCE_MARGIN_SECONDS = env_int("PPIPE_REPRODUCE_MARGIN_SECONDS", 120, minimum=1)

# How long to wait for workers to say which queues they serve (a broadcast waits
# the whole time): for the admin and the operations page (answers cached for
# 10 s), and when choosing a worker other than the original's for a reproduction.
PPIPE_WORKERS_INSPECT_SECONDS = env_int("PPIPE_WORKERS_INSPECT_SECONDS", 2, minimum=1)

# --- probing endpoints --------------------------------------------------------
# Beat plans the probes due within the next tick; each is sent with its own time.
PPIPE_PROBE_TICK_SECONDS = env_int("PPIPE_PROBE_TICK_SECONDS", 5, minimum=1)
# A probe's whole exchange (connect, send, answer) must end within this time, and
# its answer may be at most this large.
PPIPE_PROBE_TIMEOUT_SECONDS = env_int("PPIPE_PROBE_TIMEOUT_SECONDS", 10, minimum=1)
PPIPE_PROBE_MAX_RESPONSE_BYTES = env_int("PPIPE_PROBE_MAX_RESPONSE_BYTES", 2**20, minimum=1024)
# A probe no worker has answered this long past its time limit (and the next
# slot) is written off as lost; after an outage the reaper waits this long first.
PPIPE_PROBE_GRACE_SECONDS = env_int("PPIPE_PROBE_GRACE_SECONDS", 60, minimum=1)
# Endpoint metrics (uptime, latency, SLA, score) cover this many recent hours.
PPIPE_PROBE_WINDOW_HOURS = env_int("PPIPE_PROBE_WINDOW_HOURS", 24, minimum=1)
# A "check now" probes at most once per this many seconds per endpoint: it is for
# debugging, and each one sends hidden test rows.
PPIPE_PROBE_CHECK_SECONDS = env_int("PPIPE_PROBE_CHECK_SECONDS", 5, minimum=0)
# ... and at most this many times in 24 hours per student, all their endpoints together.
PPIPE_PROBE_CHECKS_PER_DAY = env_int("PPIPE_PROBE_CHECKS_PER_DAY", 24, minimum=0)
# The live score students see is published at multiples of this period (UTC;
# 4 a day by default), once over this many rows, never finer than 1/STEPS of the
# metric's range: what a student can learn of the hidden labels is bounded by
# these three (probing/publication.py states the bound).
PPIPE_PROBE_SCORE_PUBLISH_SECONDS = env_int("PPIPE_PROBE_SCORE_PUBLISH_SECONDS", 21600, minimum=1)
PPIPE_PROBE_SCORE_MIN_ROWS = env_int("PPIPE_PROBE_SCORE_MIN_ROWS", 400, minimum=1)
PPIPE_PROBE_SCORE_STEPS = env_int("PPIPE_PROBE_SCORE_STEPS", 50, minimum=1)
# `make run` serves the demo's endpoint (probing/model_server.py) on this loopback port.
PPIPE_DEMO_MODEL_PORT = env_int("PPIPE_DEMO_MODEL_PORT", 8765, minimum=1, maximum=65535)
# How often the demo challenge, when set-up creates it, probes its endpoint (the
# challenge's own setting afterwards; 5 s is the least a challenge allows).
PPIPE_DEMO_PROBE_INTERVAL_SECONDS = env_int("PPIPE_DEMO_PROBE_INTERVAL_SECONDS", 30, minimum=5)

# --- proof of receipt -----------------------------------------------------------
# How often beat poses questions on newly delivered releases and closes the ones
# past their deadline (a student listing their questions gets theirs at once).
PPIPE_RECEIPT_TICK_SECONDS = env_int("PPIPE_RECEIPT_TICK_SECONDS", 30, minimum=1)

# --- mail (notifications) ---------------------------------------------------------
# Django's mail settings, read from the variables of the same names. With no
# EMAIL_HOST (the embedded default) each mail is one line in the log (recipients and
# subject, notifications/console_mail.py), so `make run` shows it; with one, to that
# SMTP server.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_optional_str("EMAIL_HOST")
    else "notifications.console_mail.OneLineEmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise EnvError("Set at most one of EMAIL_USE_TLS (STARTTLS) and EMAIL_USE_SSL.")
# A mail server that stops answering must not hold a control worker until the
# task's time limit.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ppipe <ppipe@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Sends per mail before it ends `failed`; retry n waits about BACKOFF * 2**(n-1)
# seconds (jittered ±50%), at most BACKOFF_MAX.
PPIPE_NOTIFY_MAX_ATTEMPTS = env_int("PPIPE_NOTIFY_MAX_ATTEMPTS", 5, minimum=1)
PPIPE_NOTIFY_BACKOFF_SECONDS = env_int("PPIPE_NOTIFY_BACKOFF_SECONDS", 30, minimum=0)
PPIPE_NOTIFY_BACKOFF_MAX_SECONDS = env_int("PPIPE_NOTIFY_BACKOFF_MAX_SECONDS", 3600, minimum=0)
# How often beat looks for endpoints down past their challenge's limit, and sends
# mails whose retry message was lost or whose sender died.
PPIPE_NOTIFY_TICK_SECONDS = env_int("PPIPE_NOTIFY_TICK_SECONDS", 60, minimum=5)
# How often teachers get their digest (one a day at most, whatever the interval).
PPIPE_NOTIFY_DIGEST_SECONDS = env_int("PPIPE_NOTIFY_DIGEST_SECONDS", 24 * 3600, minimum=60)
