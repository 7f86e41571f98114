"""Production layer: refuses the local-only defaults and turns on transport security."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASE_APP_ROLE, DATABASE_OWNER_ROLE, SECRET_KEY
from .env import env_bool, env_int, env_str

if SECRET_KEY.startswith("local-only"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")

if DATABASE_APP_ROLE in ("postgres", DATABASE_OWNER_ROLE):
    raise ImproperlyConfigured(
        "POSTGRES_USER must be the app's own role (no superuser, not the owner of the tables): "
        "see scripts/db_roles.sh."
    )

DEBUG = False
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Orchestrators and Prometheus probe over plain HTTP (origami.health also answers these paths
# before the redirect; this keeps them exempt should the middleware order change).
SECURE_REDIRECT_EXEMPT = [r"^sante/", r"^metriques/$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# `preload` in the HSTS header: the domain may be submitted to the browsers' preload list (then
# plain HTTP is never tried, even on a first visit). Leaving the list later takes months: turn
# it off for a domain that may not serve HTTPS everywhere, subdomains included.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
# Real Ordoclic by default; a demo deployment may still point at a sandbox's credentials file.
ORDOCLIC_SANDBOX_CREDENTIALS = env_str("ORDOCLIC_SANDBOX_CREDENTIALS", "")
