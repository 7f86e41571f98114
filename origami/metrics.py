"""Metrics in the Prometheus text format (served by ``origami.health.metrics``).

Where each figure lives decides whether it is right whichever instance answers the scrape:

- **Read from PostgreSQL at scrape time** (:class:`DeliveryCollector`): queue depth and age of the
  oldest queued submission and cancellation, held prescriptions, analyses not done. The same
  answer from every web instance.
- **Shared counters in Redis** (:class:`SharedCounters`): Ordoclic calls (latency histogram and
  outcomes, by kind of call) and login failures. They are counted where they happen, in a web
  process or a Celery worker, into Redis, and read at scrape time: the workers serve no HTTP,
  yet their calls show. A Redis restart starts them over, which Prometheus' ``rate()`` treats
  as a counter reset. Writing never raises and never waits more than Redis' short timeouts.
- **Per process** (:data:`REQUEST_LATENCY`): request latency per view, observed by
  :class:`RequestMetricsMiddleware`. With several gunicorn workers, set
  ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory per instance, wiped at start): every worker
  writes there and the scrape sums them. Each web instance is scraped as its own target.
- The breaker's state is read from Redis (the breaker's own keys) at scrape time.

No label ever carries a patient or a prescriber identity: views are labelled by their URL name
(never the path, which holds ids), Ordoclic calls by a fixed kind derived from the path template.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import redis
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    Histogram,
)
from redis.backoff import NoBackoff
from redis.retry import Retry

from ordoclic_client import contract

logger = logging.getLogger(__name__)

# --- request latency per view (per process) ---------------------------------------------------

REQUEST_LATENCY = Histogram(
    "origami_http_request_duration_seconds",
    "Durée des requêtes HTTP, par vue (nom d'URL), méthode et famille de statut.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Times every request and labels it with the view's URL name (``prescriptions:sign``),
    never the path: paths carry ids."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else "") or "<non résolue>"
        method = request.method if request.method in _METHODS else "OTHER"
        REQUEST_LATENCY.labels(view, method, f"{response.status_code // 100}xx").observe(
            time.monotonic() - started
        )
        return response


# --- counters shared by every process, in Redis -----------------------------------------------

ORDOCLIC_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
_INF = "+Inf"


class SharedCounters:
    """Counters and one histogram family kept in a Redis hash, written by any process and read
    at scrape time. Field names: ``calls|kind|outcome``, ``bucket|kind|le``, ``sum|kind``,
    ``count|kind``, ``login|step``."""

    def __init__(self, url: str, key: str) -> None:
        self.key = key
        # Short timeouts and no retries: metrics must never slow down what they measure.
        self._redis = redis.Redis.from_url(
            url, socket_connect_timeout=0.2, socket_timeout=0.2, retry=Retry(NoBackoff(), 0)
        )

    def ordoclic_call(self, *, kind: str, outcome: str, seconds: float) -> None:
        le = next((str(b) for b in ORDOCLIC_BUCKETS if seconds <= b), _INF)
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.hincrby(self.key, f"calls|{kind}|{outcome}", 1)
            pipe.hincrby(self.key, f"bucket|{kind}|{le}", 1)
            pipe.hincrbyfloat(self.key, f"sum|{kind}", seconds)
            pipe.hincrby(self.key, f"count|{kind}", 1)
            pipe.execute()
        except redis.RedisError:
            logger.debug("metrics store unreachable: Ordoclic call not counted")

    def login_failure(self, *, step: str) -> None:
        try:
            self._redis.hincrby(self.key, f"login|{step}", 1)
        except redis.RedisError:
            logger.debug("metrics store unreachable: login failure not counted")

    def read(self) -> dict[str, float]:
        raw: dict[bytes, bytes] = self._redis.hgetall(self.key)  # type: ignore[assignment]
        return {k.decode(): float(v) for k, v in raw.items()}

    def clear(self) -> None:
        self._redis.delete(self.key)


_counters: SharedCounters | None = None


def shared_counters() -> SharedCounters:
    global _counters
    if _counters is None or _counters.key != _counters_key():
        _counters = SharedCounters(settings.REDIS_URL, _counters_key())
    return _counters


def _counters_key() -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "origami"
    return f"{prefix}:metrics"


def reset_shared_counters() -> None:
    """Forget the connection (tests that change REDIS_URL)."""
    global _counters
    _counters = None


# --- Ordoclic calls: a transport wrapper on the client's httpx.Client -------------------------


def _route(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[a-z]+\}", "[^/]+", template) + "$")


# (method, path template) -> kind. The kind is a fixed word: never an id, an RPPS or a number.
_KINDS: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", _route(contract.AUTH), "auth"),
    ("POST", _route(contract.ANALYSIS), "analysis"),
    ("POST", _route(contract.PRESCRIPTIONS), "prescription_create"),
    ("GET", _route(contract.PRESCRIPTIONS), "prescription_lookup"),
    ("GET", _route(contract.PRESCRIPTION_STATUS), "prescription_status"),
    ("POST", _route(contract.PRESCRIPTION_CANCEL), "prescription_cancel"),
    ("GET", _route(contract.PRESCRIPTION), "prescription_get"),
    ("GET", _route(contract.DRUGS), "drug_search"),
    ("GET", _route(contract.DRUG), "drug_get"),
    ("POST", _route(contract.PROFESSIONAL_VALIDATE), "professional_validate"),
    ("POST", _route(contract.PROFESSIONAL_ACTIVATE), "professional_activate"),
    ("POST", _route(contract.PROFESSIONAL_DEACTIVATE), "professional_deactivate"),
    ("GET", _route(contract.PROFESSIONAL), "professional_get"),
    ("POST", _route(contract.ENTITIES), "entity_create"),
    ("POST", _route(contract.ENTITY_PROFESSIONALS), "entity_professionals"),
]


def call_kind(method: str, path: str) -> str:
    for known_method, pattern, kind in _KINDS:
        if method == known_method and pattern.match(path):
            return kind
    return "other"


def call_outcome(status_code: int) -> str:
    """The client's own classification: 2xx ok, 429 and 5xx unavailable, other 4xx rejected."""
    if status_code < 400:
        return "ok"
    if status_code == 429 or status_code >= 500:
        return "unavailable"
    return "rejected"


class OrdoclicCallMetrics(httpx.BaseTransport):
    """Wraps the transport of the Ordoclic client's ``httpx.Client``: times every exchange (up
    to the response headers) and counts its outcome by kind, including the timeouts and network
    errors that never reach an httpx response hook. Calls the breaker refused never get here:
    the breaker's state is its own metric."""

    def __init__(self, inner: httpx.BaseTransport, *, sink: Callable[..., None] | None = None):
        self._inner = inner
        self._sink = sink

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind = call_kind(request.method, request.url.path)
        started = time.monotonic()
        try:
            response = self._inner.handle_request(request)
        except httpx.TimeoutException:
            self._count(kind, "timeout", started)
            raise
        except httpx.TransportError:
            self._count(kind, "network_error", started)
            raise
        self._count(kind, call_outcome(response.status_code), started)
        return response

    def _count(self, kind: str, outcome: str, started: float) -> None:
        sink = self._sink or shared_counters().ordoclic_call
        sink(kind=kind, outcome=outcome, seconds=time.monotonic() - started)

    def close(self) -> None:
        self._inner.close()


# --- login failures ---------------------------------------------------------------------------


@receiver(user_login_failed)
def _login_failed(*, credentials: dict[str, Any] | None = None, **kwargs: Any) -> None:
    # Only the step: never the username (an identity) nor the address.
    step = str(kwargs.get("step") or "password")
    shared_counters().login_failure(step=step if step.isidentifier() else "other")
