"""Base settings shared by every environment. Everything comes from environment variables with
safe local defaults; `production.py` refuses the defaults that are only safe on a laptop.
Every variable is listed in the README."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "local-only-insecure-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# The software version recorded on every prescription (CNDA agrément is per version).
ORIGAMI_VERSION = env_str("ORIGAMI_VERSION", "0.1.0")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "origami",
    "origami.patients",
    "practitioners",
    "prescriptions",
]

MIDDLEWARE = [
    "origami.observability.RequestIdMiddleware",
    # Liveness, readiness and metrics answer here, before host validation, the HTTPS redirect
    # and the session: orchestrators probe over plain HTTP, by address, without cookies.
    "origami.health.ProbeMiddleware",
    "origami.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the request: NUL bytes, non-UTF-8 bodies, oversized bodies.
    "origami.request_guard.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "origami.middleware.SessionSecurityMiddleware",
    "origami.middleware.NoStoreMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "origami.urls"
WSGI_APPLICATION = "origami.wsgi.application"
ASGI_APPLICATION = "origami.asgi.application"

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
                "practitioners.context_processors.exercise_context",
                "origami.text.limits",
            ],
        },
    },
]

# Two roles (scripts/db_roles.sh creates them): the app connects as POSTGRES_USER, which owns
# nothing and may not UPDATE, DELETE or TRUNCATE the append-only tables; migrations run as
# POSTGRES_OWNER_USER through the "owner" alias (`manage.py migrate --database owner`), which
# owns the schema and grants the app its rights after each migration (origami/db_roles.py).
_DATABASE = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": env_str("POSTGRES_DB", "origami"),
    "HOST": env_str("POSTGRES_HOST", "127.0.0.1"),
    "PORT": env_str("POSTGRES_PORT", "5432"),
    "CONN_HEALTH_CHECKS": True,
    # Parameters bound by the server, so that psycopg prepares the queries a connection runs
    # again and again (the screen's reads): PostgreSQL plans them once per connection instead
    # of at every request. Off (POSTGRES_SERVER_SIDE_BINDING=0) behind a pooler in
    # transaction mode, which cannot keep a session's prepared statements.
    "OPTIONS": (
        {"server_side_binding": True, "prepare_threshold": 2}
        if env_bool("POSTGRES_SERVER_SIDE_BINDING", True)
        else {}
    ),
}
DATABASE_APP_ROLE = env_str("POSTGRES_USER", "origami_app")
DATABASE_OWNER_ROLE = env_str("POSTGRES_OWNER_USER", "origami_owner")
DATABASES = {
    "default": {
        **_DATABASE,
        "USER": DATABASE_APP_ROLE,
        "PASSWORD": env_str("POSTGRES_PASSWORD", ""),
        "CONN_MAX_AGE": env_int("POSTGRES_CONN_MAX_AGE", 60),
    },
    "owner": {
        **_DATABASE,
        "USER": DATABASE_OWNER_ROLE,
        "PASSWORD": env_str("POSTGRES_OWNER_PASSWORD", ""),
        "CONN_MAX_AGE": 0,
        # Tests run on one database, created and migrated by the owner (settings/test.py).
        "TEST": {"MIRROR": "default"},
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "origami",
    }
}

AUTH_USER_MODEL = "practitioners.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
GUARDIAN_RAISE_403 = True

# Sessions end after this many seconds without a request (health data on screen).
SESSION_INACTIVITY_TIMEOUT = env_int("ORIGAMI_SESSION_INACTIVITY_TIMEOUT", 30 * 60)
# The last activity is recorded at most this often (seconds): the session row is not rewritten at
# every request (origami/middleware.py).
SESSION_ACTIVITY_RESOLUTION = env_int("ORIGAMI_SESSION_ACTIVITY_RESOLUTION", 60)
# ... and this many seconds after the login however active (checked on every request; the
# session's stored expiry is set to the same date at login).
SESSION_MAX_LIFETIME = env_int("ORIGAMI_SESSION_MAX_AGE", 12 * 3600)
SESSION_COOKIE_AGE = SESSION_MAX_LIFETIME
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Failed logins allowed per username and per IP address within the window before a lockout.
LOGIN_MAX_FAILURES = env_int("ORIGAMI_LOGIN_MAX_FAILURES", 5)
LOGIN_FAILURE_WINDOW = env_int("ORIGAMI_LOGIN_FAILURE_WINDOW", 15 * 60)
OTP_TOTP_ISSUER = "origami"
# Belt and braces: django-otp's own admin pages would hide keys too (ours has none of them).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# French for everyone, whatever the browser asks (an English browser on a ward PC must not turn the
# admin half English). Strings stay translatable; a deployment that wants negotiation adds
# django.middleware.locale.LocaleMiddleware.
LANGUAGE_CODE = env_str("ORIGAMI_LANGUAGE", "fr")
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Strict Content-Security-Policy: no inline script or style, no eval (htmx runs without eval).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Ordoclic integrator API. By default the app talks to the local sandbox served by
# `python -m ordoclic_client.sandbox`; real Ordoclic is only ever reached by configuration.
ORDOCLIC_BASE_URL = env_str("ORDOCLIC_BASE_URL", "http://127.0.0.1:8765")
ORDOCLIC_PARTNER_ID = env_str("ORDOCLIC_PARTNER_ID", "")
ORDOCLIC_PRIVATE_KEY_PATH = env_str("ORDOCLIC_PRIVATE_KEY_PATH", "")
# When the partner id is not set, read it (and the key path) from the file the sandbox writes
# on its first start. Only meant for local runs against the sandbox.
ORDOCLIC_SANDBOX_CREDENTIALS = env_str(
    "ORDOCLIC_SANDBOX_CREDENTIALS", str(BASE_DIR / "var" / "sandbox" / "partner.json")
)
ORDOCLIC_CONNECT_TIMEOUT = env_float("ORDOCLIC_CONNECT_TIMEOUT", 2.0)
ORDOCLIC_READ_TIMEOUT = env_float("ORDOCLIC_READ_TIMEOUT", 5.0)
# Budget of a web request that calls Ordoclic (signing, analysis), in seconds.
ORDOCLIC_REQUEST_BUDGET = env_float("ORDOCLIC_REQUEST_BUDGET", 4.0)
ORDOCLIC_BREAKER_FAILURES = env_int("ORDOCLIC_BREAKER_FAILURES", 3)
ORDOCLIC_BREAKER_RESET_SECONDS = env_float("ORDOCLIC_BREAKER_RESET_SECONDS", 30.0)
# Test RPPS numbers that fail Luhn but that Ordoclic's staging (and the sandbox) accept.
ORDOCLIC_ALLOWED_TEST_RPPS = env_list("ORDOCLIC_ALLOWED_TEST_RPPS", [])
# Ordoclic's dispensing webhook (POST /ordonnances/webhooks/ordoclic/): the shared HMAC secret
# (empty: the endpoint answers 404) and how old a signed timestamp may be, in seconds.
ORDOCLIC_WEBHOOK_SECRET = env_str("ORDOCLIC_WEBHOOK_SECRET", "")
ORDOCLIC_WEBHOOK_TOLERANCE = env_int("ORDOCLIC_WEBHOOK_TOLERANCE", 300)
# Dispensing poll (Celery beat): prescriptions checked per run, and how long after registration
# a prescription not fully dispensed is still followed.
DISPENSING_POLL_BATCH = env_int("ORIGAMI_DISPENSING_POLL_BATCH", 50)
DISPENSING_POLL_MAX_AGE_DAYS = env_int("ORIGAMI_DISPENSING_POLL_MAX_AGE_DAYS", 365)
# Staff lookups (pharmacists' calls): at most this many per user in the window (seconds).
STAFF_LOOKUP_RATE_LIMIT = env_int("ORIGAMI_STAFF_LOOKUP_RATE_LIMIT", 30)
STAFF_LOOKUP_RATE_WINDOW = env_int("ORIGAMI_STAFF_LOOKUP_RATE_WINDOW", 600)

# FHIR export for the host record (prescriptions/fhir, docs/fhir.md): reads per client and
# minute, our own URIs (the ALD extension, line ids) and the system of the unique number.
FHIR_RATE_LIMIT = env_int("ORIGAMI_FHIR_RATE_LIMIT", 120)
ORIGAMI_FHIR_BASE_URL = env_str("ORIGAMI_FHIR_BASE_URL", "https://origami.example/fhir-ns")
ORIGAMI_FHIR_NUMBER_SYSTEM = env_str(
    "ORIGAMI_FHIR_NUMBER_SYSTEM", "https://origami.example/fhir-ns/NamingSystem/numero-unique"
)

# Alert levels on which the prescriber must decide (modify or maintain) before signing, and
# those whose "maintain" needs a written justification (CI and ASDEC at least: the database
# refuses an unjustified maintained CI or ASDEC whatever this says).
PRESCRIPTION_DECISION_LEVELS = env_list("ORIGAMI_DECISION_LEVELS", ["CI", "ASDEC", "PE"])
PRESCRIPTION_JUSTIFICATION_LEVELS = env_list("ORIGAMI_JUSTIFICATION_LEVELS", ["CI", "ASDEC"])

# Delivery of signed prescriptions (the submission outbox): retries with exponential backoff and
# full jitter, in seconds, capped far below the broker's visibility timeout; after this many
# attempts the submission is held for a human instead of looping.
SUBMISSION_RETRY_BASE_DELAY = env_float("ORIGAMI_SUBMISSION_RETRY_BASE_DELAY", 2.0)
SUBMISSION_RETRY_MAX_DELAY = env_float("ORIGAMI_SUBMISSION_RETRY_MAX_DELAY", 300.0)
SUBMISSION_MAX_ATTEMPTS = env_int("ORIGAMI_SUBMISSION_MAX_ATTEMPTS", 24)
# The beat sweeper runs this often and re-enqueues queued submissions overdue by this much
# whose task was lost (Redis restarted without persistence, a worker killed).
SUBMISSION_SWEEP_SECONDS = env_float("ORIGAMI_SUBMISSION_SWEEP_SECONDS", 30.0)
SUBMISSION_SWEEP_GRACE = env_float("ORIGAMI_SUBMISSION_SWEEP_GRACE", 60.0)
# A worker's attempt takes up to this many due submissions in one transaction (the drain after
# an outage: reads and writes per batch, calls one at a time).
SUBMISSION_BATCH = env_int("ORIGAMI_SUBMISSION_BATCH", 10)
# An enqueue made from a web request (origami.celery.enqueue_within_budget) gives up after about
# this many seconds whatever the broker's state; the sweepers enqueue again what it could not.
ORIGAMI_ENQUEUE_BUDGET = env_float("ORIGAMI_ENQUEUE_BUDGET", 1.0)

# The Prometheus endpoint (/metriques/) answers only with "Authorization: Bearer <this>"; empty:
# the endpoint answers 404. With several gunicorn workers, also set PROMETHEUS_MULTIPROC_DIR.
ORIGAMI_METRICS_TOKEN = env_str("ORIGAMI_METRICS_TOKEN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "origami.observability.ContextFilter"},
        # NIR/INS, dates and the current patients' names out of every line, by value.
        "scrub": {"()": "origami.observability.ScrubFilter"},
    },
    "formatters": {"kv": {"()": "origami.observability.KeyValueFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "kv",
            "filters": ["context", "scrub"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("ORIGAMI_LOG_LEVEL", "INFO")},
    "loggers": {
        # Never log request bodies or template contexts: they carry patient data.
        "django.request": {"level": "ERROR"},
        "django.template": {"level": "WARNING"},
        # One line per HTTP exchange is noise next to our own attempt logs.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

from .celery import *  # noqa: E402,F403
from .sentry import init_sentry  # noqa: E402

init_sentry()
