"""Settings for the test suite: real PostgreSQL and Redis, fast password hashing."""

from .base import *  # noqa: F403
from .base import DATABASE_OWNER_ROLE, DATABASES
from .env import env_str

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# Not the development app's Redis database (/0): the tests' cache, circuit breaker and broker
# live in their own, unless REDIS_URL says otherwise.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "origami-test",
    }
}
ORDOCLIC_SANDBOX_CREDENTIALS = ""

# pytest-django creates, migrates and flushes the test database: as the owner, like `migrate`.
# Tests that prove what the app's role may not do open their own connection as that role
# (tests/origami/test_db_roles.py). The test backend lets the flush between transactional tests
# through the append-only tables' TRUNCATE trigger (tests/db_backend).
DATABASES = {
    "default": {
        **DATABASES["default"],
        "ENGINE": "tests.db_backend",
        "USER": DATABASE_OWNER_ROLE,
        "PASSWORD": env_str("POSTGRES_OWNER_PASSWORD", ""),
    }
}
