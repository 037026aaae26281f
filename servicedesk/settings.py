"""The one settings module. Every value that differs between machines comes from
an environment variable (listed in .env.example) through the strict helpers in
servicedesk.lib.env, so a typo stops start-up instead of changing behaviour."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from servicedesk.lib.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, or a random key kept in VAR_DIR so a
    single-machine install is safe without configuration (sessions survive restarts)."""
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # Written aside, then linked into place: of several processes starting
        # at once exactly one link succeeds and all read the same key.
        draft = VAR_DIR / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(64))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_url("SITE_URL", "http://localhost:8000", {"http", "https"}).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "events",
    "tickets",
    "changes",
    "backups",
    "inventory",
    "portal",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servicedesk.middleware.SecurityHeadersMiddleware",
    "servicedesk.middleware.NulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.audit.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"

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
                "django.template.context_processors.i18n",
                "servicedesk.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# Without DATABASE_URL an embedded SQLite file in WAL mode, so `make run` works
# on a bare machine; IMMEDIATE transactions avoid "database is locked" when the
# web process and the Celery worker write at the same time.
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'servicedesk.sqlite3'}",
    {"sqlite", "postgres", "postgresql", "pgsql"},
)
_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    _db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5, minimum=1)
    # Planner settings for this service's sessions. JIT compiles a plan when
    # its estimated cost is high, which a count over a million tickets is:
    # 30-60 ms of compiling for a query of that order (DB_JIT=true restores
    # the server's setting). random_page_cost: the stock 4 assumes spinning
    # disks, so a report's OR of four indexed periods became a scan of the
    # whole ticket table (300 ms at a million tickets) instead of a bitmap
    # OR of the indexes (86 ms); 1.1 is the usual value for SSDs and for data
    # in memory. DB_RANDOM_PAGE_COST=4 restores the stock value.
    _planner = [f"-c random_page_cost={env_float('DB_RANDOM_PAGE_COST', 1.1, minimum=0.1)}"]
    if not env_bool("DB_JIT", False):
        _planner.append("-c jit=off")
    _db["OPTIONS"]["options"] = " ".join(_planner)
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", {"redis", "rediss"})
if REDIS_URL:
    # The cache may live in its own Redis database, so clearing it leaves the
    # Celery queues alone.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_url("REDIS_CACHE_URL", REDIS_URL, {"redis", "rediss"}),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

_celery_dir = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # Longer than any task may run, so an unacknowledged (acks_late) task is
        # redelivered only after its worker really died.
        "visibility_timeout": 3600,
    }
else:
    # Kombu's filesystem transport: a broker that needs no server.
    for sub in ("queue", "processed", "results", "control"):
        (_celery_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{_celery_dir / 'results'}"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Auth and sessions ----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# The lock-out after failed logins holds on every login path (the admin's too).
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 3600, minimum=600)

# --- HTTPS and security headers (HTTPS depends on the deployment) ---------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline scripts or styles anywhere: every asset is a file served locally.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)

# --- Language and time ----------------------------------------------------
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "en", {"en", "nl"})
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# --- Static files (served by WhiteNoise, never from a CDN) ----------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing root
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)

# --- Mail -----------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Servicedesk <servicedesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "servicedesk.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["servicedesk.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "servicedesk.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Servicedesk API",
    "DESCRIPTION": "REST API for Admin.Arge, the backup script, monitoring and telephony.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "servicedesk.api.document_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PriorityEnum": "tickets.models.Priority",
        "ImpactEnum": "tickets.models.Impact",
        "TicketStatusEnum": "tickets.models.TicketStatus",
        "TaskStatusEnum": "tickets.models.TaskStatus",
        "BackupRunStatusEnum": "backups.models.RunStatus",
        "CheckLineStateEnum": "backups.models.LineState",
        "ItemKindEnum": "inventory.models.ItemKind",
        "ItemStatusEnum": "inventory.models.ItemStatus",
        "ProductKindEnum": "inventory.models.ProductKind",
        "PurchaseOrderStatusEnum": "inventory.models.OrderStatus",
    },
}
IDEMPOTENCY_KEY_TTL = timedelta(hours=env_int("IDEMPOTENCY_KEY_TTL_HOURS", 48, minimum=1))

# --- Product settings -------------------------------------------------------
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "servicedesk-demo")
NOTIFICATION_BATCH_SIZE = env_int("NOTIFICATION_BATCH_SIZE", 100, minimum=1, maximum=10_000)
# A notification claimed by a sender that then died is handed out again after this.
NOTIFICATION_CLAIM_TIMEOUT = timedelta(
    seconds=env_int("NOTIFICATION_CLAIM_TIMEOUT", 600, minimum=30)
)
# An API list's `count` for the same query (visibility filter included) is
# reused for this long (0: always counted); the rows are always read live.
API_COUNT_SECONDS = env_int("API_COUNT_SECONDS", 10, minimum=0, maximum=300)
# The queue's team counters are shared by all staff for this long (0: live);
# the queue itself refreshes every 30 seconds.
QUEUE_COUNTERS_SECONDS = env_int("QUEUE_COUNTERS_SECONDS", 10, minimum=0, maximum=300)
SLA_WARNING_FRACTION = env_float("SLA_WARNING_FRACTION", 0.75, minimum=0.05, maximum=0.99)
CAB_WEEKDAY = env_int("CAB_WEEKDAY", 1, minimum=0, maximum=6)  # 0 = Monday; default Tuesday
CAB_HOUR = env_int("CAB_HOUR", 14, minimum=0, maximum=23)
CAB_MINUTE = env_int("CAB_MINUTE", 0, minimum=0, maximum=59)
TICKET_AUTO_CLOSE_DAYS = env_int("TICKET_AUTO_CLOSE_DAYS", 5, minimum=1)
# Network secrets (server passwords) are encrypted with this key (Fernet: 32
# url-safe base64 bytes; `python -c "from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())"`). Without it a key is derived from
# SECRET_KEY, which `check --deploy` reports: rotating SECRET_KEY would then
# make stored secrets unreadable.
NETWORK_SECRET_KEY = env_str("NETWORK_SECRET_KEY", "")
# Backups: the daily check from this hour (Europe/Amsterdam), the report mail
# from BACKUP_REPORT_HOUR, and the follow-up of problems nobody picked up.
BACKUP_CHECK_HOUR = env_int("BACKUP_CHECK_HOUR", 9, minimum=0, maximum=23)
BACKUP_REPORT_HOUR = env_int("BACKUP_REPORT_HOUR", 10, minimum=0, maximum=23)
BACKUP_PROBLEM_REMIND_HOURS = env_int("BACKUP_PROBLEM_REMIND_HOURS", 4, minimum=1)
BACKUP_PROBLEM_ESCALATE_HOURS = env_int("BACKUP_PROBLEM_ESCALATE_HOURS", 24, minimum=1)
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_MB", 10, minimum=1, maximum=100) * 1024 * 1024
ATTACHMENT_TYPES = set(
    env_list(
        "ATTACHMENT_TYPES",
        [
            "text/plain",
            "text/csv",
            "application/pdf",
            "image/png",
            "image/jpeg",
            "image/gif",
            "application/zip",
            "application/json",
            "message/rfc822",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ],
    )
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # The filesystem transport has no host; kombu warns about it on every send.
    "loggers": {"kombu.connection": {"level": "ERROR"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}),
    },
}
