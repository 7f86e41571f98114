"""Liveness and readiness for an orchestrator or a load balancer, and the metrics endpoint.

- ``/sante/`` (liveness): the process answers; touches no dependency, so that a database outage
  does not make the orchestrator restart every web instance in a loop.
- ``/sante/pret/`` (readiness): PostgreSQL answers, every migration of this code is applied, Redis
  answers. Ordoclic's circuit breaker is reported but never makes the app "not ready": degraded
  mode (signing queued, paper copy marked as not yet registered) is a normal state, and taking
  the instances out of the load balancer would stop the prescribers working.
- ``/metriques/``: Prometheus text format, with ``Authorization: Bearer $ORIGAMI_METRICS_TOKEN``
  (404 when no token is configured, 401 without the right one).

Probes come from the orchestrator over plain HTTP, with no cookie and with whatever Host header
it uses (often the instance's own address, which is not in ALLOWED_HOSTS). So
:class:`ProbeMiddleware`, first in the chain, answers these paths itself: no host validation, no
HTTPS redirect, no session, no CSRF. The URL patterns exist too (``reverse()``, the URL sweep).
The answers carry no patient data and no secret: check names, states and exception type names.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from origami import exposition
from origami.ordoclic import get_breaker
from practitioners.permissions import public

logger = logging.getLogger(__name__)

LIVE_PATH = "/sante/"
READY_PATH = "/sante/pret/"
METRICS_PATH = "/metriques/"

# Once every migration is applied it stays so for the life of this process (new migrations come
# with new code, hence a new process): the migration graph is read from disk only until then.
_migrations_applied = False


def _check_database() -> str | None:
    """None when PostgreSQL answers, else what failed (an exception type name, no message: a
    database error's text may quote data)."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return type(exc).__name__
    return None


def _check_migrations() -> str | None:
    global _migrations_applied
    if _migrations_applied:
        return None
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return type(exc).__name__
    if pending:
        return f"{len(pending)} migration(s) en attente"
    _migrations_applied = True
    return None


def _check_redis() -> str | None:
    try:
        connection = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5
        )
        try:
            connection.ping()
        finally:
            connection.close()
    except Exception as exc:
        return type(exc).__name__
    return None


def _ordoclic_state() -> str:
    """The shared breaker's state (closed, open, half_open), or "non configuré"."""
    try:
        return get_breaker().snapshot().state
    except ImproperlyConfigured:
        return "non configuré"
    except Exception as exc:
        return type(exc).__name__


@public
@never_cache
@require_GET
def health_live(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok", "version": settings.ORIGAMI_VERSION})


@public
@never_cache
@require_GET
def health_ready(request: HttpRequest) -> HttpResponse:
    database = _check_database()
    checks: dict[str, str | None] = {
        "database": database,
        # Without the database the migrations cannot be read: say so once, not twice.
        "migrations": _check_migrations() if database is None else "base indisponible",
        "redis": _check_redis(),
    }
    ready = all(problem is None for problem in checks.values())
    if not ready:
        logger.warning(
            "not ready: %s", ", ".join(name for name, problem in checks.items() if problem)
        )
    body: dict[str, Any] = {
        "status": "ready" if ready else "not_ready",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
        # Reported only: degraded mode is a normal state, never a reason to stop serving.
        "ordoclic": {"breaker": _ordoclic_state()},
        "version": settings.ORIGAMI_VERSION,
    }
    return JsonResponse(body, status=200 if ready else 503)


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@public
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition; refused without the configured bearer token."""
    expected = settings.ORIGAMI_METRICS_TOKEN
    if not expected:
        return HttpResponse("Métriques désactivées.", status=404, content_type="text/plain")
    if not hmac.compare_digest(_bearer_token(request).encode(), expected.encode()):
        response = HttpResponse("Jeton requis.", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="origami-metrics"'
        return response
    payload, content_type = exposition.render(breaker_state=_ordoclic_state)
    return HttpResponse(payload, content_type=content_type)


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    LIVE_PATH: health_live,
    READY_PATH: health_ready,
    METRICS_PATH: metrics,
}


class ProbeMiddleware:
    """Answers the probe and metrics paths before host validation, the HTTPS redirect and the
    session (see the module docstring). Installed first in MIDDLEWARE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = PROBES.get(request.path_info)
        if view is None:
            return self.get_response(request)
        return view(request)
