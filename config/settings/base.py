"""Settings shared by every environment, read from environment variables in this one place.

Every value comes from ``env`` (django-environ); nothing else in Verdict reads the environment.
Defaults are safe for a laptop: a SQLite file in the project, an in-process cache, and Celery
tasks run eagerly (no broker). Set ``DATABASE_URL``, ``CELERY_BROKER_URL`` and ``CACHE_URL`` to use
PostgreSQL and Redis. The README's settings table lists every variable.
"""

from __future__ import annotations

from pathlib import Path

import environ

from core.request_logs import logging_setup

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    "core",
    "experiments",
    "assignment",
    "analysis",
    # The web pages, on top of every other app (templates and static files in console/).
    "console",
]

MIDDLEWARE = [
    # A request id on every log line of the request and in the X-Request-ID header.
    "core.request_logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (htmx, the API docs' assets) are served by the app itself, DEBUG or not.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Database outages answer 503 with Retry-After (JSON for API clients), not an HTML 500;
    # unknown /api/ paths answer JSON 404.
    "core.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which reads form bodies: oversized bodies get a JSON 413, callers over their
    # rate a JSON 429.
    "core.body_limits.BodyLimitMiddleware",
    "core.throttling.ThrottleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Failed web logins: locks out after AXES_FAILURE_LIMIT (django-axes); last, as it asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.i18n",
                "core.roles.role_context",
            ],
        },
    }
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; the timeout waits out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_cache_url = env.str("CACHE_URL", default="")
if _cache_url.startswith("redis"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# django-axes checks lockouts first; web logins with too many failures are refused (429) for
# AXES_COOLOFF_TIME. Counted per username and IP, stored in the database.
AUTHENTICATION_BACKENDS = [
    "core.login_limits.LoginLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("VERDICT_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("VERDICT_LOGIN_COOLOFF_MINUTES", default=15.0) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "core.throttling.client_ip"  # the same client address as rate limits
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# zh-hans numbers grouped by thousands with a comma (config/formats/zh_Hans).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Without collectstatic (a laptop, the tests), WhiteNoise finds files in the apps' static
# folders the way runserver does; after collectstatic it serves STATIC_ROOT.
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.ControlPlanePermission"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON bodies nested at most core.limits.MAX_JSON_DEPTH levels per field (400 otherwise).
    "DEFAULT_PARSER_CLASSES": [
        "core.json_input.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Trusted proxies in front of Verdict that append to X-Forwarded-For. 0 (the default): the
    # client address is REMOTE_ADDR whatever the headers say. The rate limits and the login
    # lockout both count per this address (core.throttling.client_ip).
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
}

# Rate limits (core.throttling): per API key on the runtime endpoints, and per client IP on
# refused credentials, counted in the default cache (Redis when CACHE_URL is set). Rates are
# "<count>/<period>" (s, m, h, d); empty turns a limit off. Fails open when the cache is down.
RATELIMIT_USE_CACHE = env.str("VERDICT_RATELIMIT_CACHE", default="default")
VERDICT_RUNTIME_KEY_RATE = env.str("VERDICT_RUNTIME_KEY_RATE", default="120000/m")
VERDICT_AUTH_FAILURE_RATE = env.str("VERDICT_AUTH_FAILURE_RATE", default="20/m")
VERDICT_RUNTIME_URL_NAMES = ["assign", "assign-one", "events-ingest", "exposures-ingest"]
# How long each server process remembers a looked-up API key: the longest a revoked key keeps
# working on a server other than the one that revoked it.
VERDICT_API_KEY_CACHE_SECONDS = env.float("VERDICT_API_KEY_CACHE_SECONDS", default=30.0)
VERDICT_API_KEY_LAST_USED_MINUTES = env.float("VERDICT_API_KEY_LAST_USED_MINUTES", default=5.0)

# Request bodies: at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (a JSON 413 otherwise), except the
# endpoints named here.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
VERDICT_BODY_LIMITS = {"events-ingest": 20 * 1024 * 1024, "exposures-ingest": 20 * 1024 * 1024}

SPECTACULAR_SETTINGS = {
    "TITLE": "Verdict API",
    "DESCRIPTION": "Define experiments, assign units, record events and read results.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Choice sets that several components share, named once.
    "ENUM_NAME_OVERRIDES": {
        "ExperimentStatusEnum": "experiments.models.ExperimentStatus",
        "ExperimentKindEnum": "experiments.models.ExperimentKind",
        "DataSourceKindEnum": "experiments.models.DataSourceKind",
        "MetricRoleEnum": "analysis.engine.contract.ROLES",
        "MetricTypeEnum": "experiments.models.MetricType",
        "CorrectionEnum": "experiments.models.Correction",
        "ConclusionDecisionEnum": "experiments.models.Decision",
        "RecommendationEnum": "analysis.engine.contract.RECOMMENDATIONS",
    },
    # Request bodies are documented as JSON, the format the API and its clients use (DRF's
    # form parsers also accept flat bodies on the control plane; they are left out).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_auth_errors",
    ],
    # Swagger UI and Redoc are served from this server's static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # validatorUrl: null keeps Swagger UI from sending the schema to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
}

# Celery: with no broker configured, tasks run eagerly in the calling process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = "UTC"
# A task is acknowledged when it has run (acks_late), so a worker killed mid-refresh leaves its
# task unacknowledged: Redis hands it to another worker once the visibility timeout has passed
# (Redis' own default is an hour). The timeout must exceed the longest task, or a task still
# running is handed out a second time; tasks are stopped at the time limit, below it. Running a
# refresh twice is harmless (a snapshot is idempotent by as_of). A worker process that dies
# (OOM, SIGKILL) has its task requeued at once; each worker reserves one task at a time.
VERDICT_CELERY_VISIBILITY_TIMEOUT_SECONDS = env.int(
    "VERDICT_CELERY_VISIBILITY_TIMEOUT_SECONDS", default=1800
)
VERDICT_CELERY_TASK_TIME_LIMIT_SECONDS = env.int(
    "VERDICT_CELERY_TASK_TIME_LIMIT_SECONDS", default=1200
)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": VERDICT_CELERY_VISIBILITY_TIMEOUT_SECONDS}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "visibility_timeout": VERDICT_CELERY_VISIBILITY_TIMEOUT_SECONDS
}
CELERY_TASK_TIME_LIMIT = VERDICT_CELERY_TASK_TIME_LIMIT_SECONDS
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="verdict@localhost")

# Assignment: how often each server process checks for experiment changes (0: every call),
# the age after which definitions are reloaded regardless, and the bytes each process spends
# remembering the exposures it wrote (to skip database writes) and the answers to repeated
# assign bodies (core.caches; docs/reliability.md).
VERDICT_DEFINITIONS_CHECK_SECONDS = env.float("VERDICT_DEFINITIONS_CHECK_SECONDS", default=1.0)
VERDICT_DEFINITIONS_MAX_AGE_SECONDS = env.float("VERDICT_DEFINITIONS_MAX_AGE_SECONDS", default=30.0)
VERDICT_EXPOSURE_CACHE_BYTES = env.int("VERDICT_EXPOSURE_CACHE_BYTES", default=32 * 1024 * 1024)
VERDICT_ASSIGN_MEMO_BYTES = env.int("VERDICT_ASSIGN_MEMO_BYTES", default=16 * 1024 * 1024)

# Analysis notifications: a signed JSON POST per new health problem or decision (optional).
VERDICT_WEBHOOK_URL = env.str("VERDICT_WEBHOOK_URL", default="")
VERDICT_WEBHOOK_SECRET = env.str("VERDICT_WEBHOOK_SECRET", default="")
VERDICT_WEBHOOK_RETRIES = env.int("VERDICT_WEBHOOK_RETRIES", default=3)
VERDICT_WEBHOOK_BACKOFF_SECONDS = env.float("VERDICT_WEBHOOK_BACKOFF_SECONDS", default=1.0)
VERDICT_WEBHOOK_TIMEOUT_SECONDS = env.float("VERDICT_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# PostgreSQL work_mem for the aggregation queries of a refresh (server memory, per query node).
VERDICT_ANALYSIS_WORK_MEM = env.str("VERDICT_ANALYSIS_WORK_MEM", default="256MB")
# Raw events older than this many days are purged (hourly, in batches) once no analysis can
# still read them (analysis.services.retention); 0 keeps every event.
VERDICT_EVENT_RETENTION_DAYS = env.float("VERDICT_EVENT_RETENTION_DAYS", default=0)
# The lake export (docs/warehouse.md): when a directory or URL is set, Celery beat writes new
# exposures and events there as date-partitioned Parquet every VERDICT_LAKE_EXPORT_MINUTES.
VERDICT_LAKE_EXPORT_DIR = env.str("VERDICT_LAKE_EXPORT_DIR", default="")
VERDICT_LAKE_EXPORT_MINUTES = env.float("VERDICT_LAKE_EXPORT_MINUTES", default=60)
# Spark data sources (docs/warehouse.md#security): the hosts their sessions may connect to
# (host, host:port, *.domain or yarn; comma-separated; empty: local mode only), and the path
# prefixes their relations may read files under, besides VERDICT_LAKE_EXPORT_DIR.
VERDICT_SPARK_ALLOWED_HOSTS = env.list("VERDICT_SPARK_ALLOWED_HOSTS", default=[])
VERDICT_SPARK_ALLOWED_PATHS = env.list("VERDICT_SPARK_ALLOWED_PATHS", default=[])
# The one beat schedule (run by `celery beat`, or by the dev server's in-process worker).
# Every minute: apply scheduled starts and stops (experiments), and queue the refreshes that
# are due (each running experiment every `refresh_minutes`, 15 by default, and a final one
# after a stop); every hour, purge raw events past their retention period (when set); every
# VERDICT_LAKE_EXPORT_MINUTES, export to the lake (when one is set).
CELERY_BEAT_SCHEDULE = {
    "experiments-apply-schedules": {"task": "experiments.apply_schedules", "schedule": 60.0},
    "analysis-refresh-due": {"task": "analysis.refresh_due", "schedule": 60.0},
    "analysis-purge-events": {"task": "analysis.purge_events", "schedule": 3600.0},
}
if VERDICT_LAKE_EXPORT_DIR:
    CELERY_BEAT_SCHEDULE["analysis-export-lake"] = {
        "task": "analysis.export_lake",
        "schedule": max(VERDICT_LAKE_EXPORT_MINUTES, 1) * 60.0,
    }
# The demo command's admin password.
VERDICT_DEMO_PASSWORD = env.str("VERDICT_DEMO_PASSWORD", default="verdict-demo")

# Logs: structured lines with the request id (core.request_logs); "json" (production's
# default) or "console".
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="WARNING")
VERDICT_LOG_FORMAT = env.str("VERDICT_LOG_FORMAT", default="console")
LOGGING = logging_setup(VERDICT_LOG_FORMAT, LOG_LEVEL)
