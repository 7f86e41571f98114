"""The Ordoclic client of this process, built from settings.

By default the app talks to the local sandbox (``ORDOCLIC_BASE_URL``), with the partner id and key
path the sandbox wrote on its first start (``ORDOCLIC_SANDBOX_CREDENTIALS``); real Ordoclic is
reached only by setting ``ORDOCLIC_BASE_URL``, ``ORDOCLIC_PARTNER_ID`` and
``ORDOCLIC_PRIVATE_KEY_PATH``. The circuit breaker lives in Redis (``REDIS_URL``), shared by the
web and worker processes.

Tests swap the client with :func:`override_client` (or the ``ordoclic`` pytest fixture).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.backoff import NoBackoff
from redis.retry import Retry

from ordoclic_client import OrdoclicClient, PartnerCredentials, RedisBreaker, build_http_client
from origami.metrics import OrdoclicCallMetrics

BREAKER_NAME = "ordoclic"

_lock = threading.Lock()
_client: OrdoclicClient | None = None
_breaker: RedisBreaker | None = None
_overrides: list[OrdoclicClient] = []


def get_client() -> OrdoclicClient:
    """The process's client (built on first use). Raises ImproperlyConfigured when no partner
    credentials are configured and the sandbox has not written its own yet."""
    global _client
    if _overrides:
        return _overrides[-1]
    with _lock:
        if _client is None:
            _client = OrdoclicClient(
                http=build_http_client(
                    base_url=settings.ORDOCLIC_BASE_URL,
                    connect_timeout=settings.ORDOCLIC_CONNECT_TIMEOUT,
                    read_timeout=settings.ORDOCLIC_READ_TIMEOUT,
                    # Latency and outcome of every call, by kind, for the metrics endpoint.
                    transport=OrdoclicCallMetrics(httpx.HTTPTransport()),
                ),
                credentials=partner_credentials(),
                breaker=_get_breaker(),
            )
        return _client


def get_breaker() -> RedisBreaker:
    """The shared breaker, for the admin ops page (``state()``, ``last_error()``,
    ``snapshot()``)."""
    with _lock:
        return _get_breaker()


def _get_breaker() -> RedisBreaker:
    global _breaker
    if _breaker is None:
        # Short timeouts and no retries: the breaker must never cost more than the call it guards.
        connection = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=0.5,
            socket_timeout=0.5,
            retry=Retry(NoBackoff(), 0),
        )
        _breaker = RedisBreaker(
            connection,
            name=BREAKER_NAME,
            failures=settings.ORDOCLIC_BREAKER_FAILURES,
            reset_seconds=settings.ORDOCLIC_BREAKER_RESET_SECONDS,
            probe_seconds=settings.ORDOCLIC_CONNECT_TIMEOUT + 2 * settings.ORDOCLIC_READ_TIMEOUT,
        )
    return _breaker


def partner_credentials() -> PartnerCredentials:
    """The configured partner id and key, or else those the local sandbox generated."""
    partner_id = settings.ORDOCLIC_PARTNER_ID
    key_path = settings.ORDOCLIC_PRIVATE_KEY_PATH
    if not partner_id:
        partner_id, key_path = _sandbox_credentials(settings.ORDOCLIC_SANDBOX_CREDENTIALS)
    if not key_path:
        raise ImproperlyConfigured("ORDOCLIC_PRIVATE_KEY_PATH is not set.")
    try:
        return PartnerCredentials.from_key_file(partner_id=partner_id, private_key_path=key_path)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"Cannot read the Ordoclic partner key at {key_path}: {exc.strerror}."
        ) from exc


def _sandbox_credentials(path: str) -> tuple[str, str]:
    if not path:
        raise ImproperlyConfigured(
            "ORDOCLIC_PARTNER_ID is not set and no sandbox credentials file is configured."
        )
    try:
        data: Any = json.loads(Path(path).read_text())
        return str(data["partnerId"]), str(data["privateKeyPath"])
    except OSError as exc:
        raise ImproperlyConfigured(
            f"ORDOCLIC_PARTNER_ID is not set and the sandbox has not written {path} yet "
            "(start it: python -m ordoclic_client.sandbox --state var/sandbox)."
        ) from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"{path} is not a sandbox credentials file.") from exc


@contextmanager
def override_client(client: OrdoclicClient) -> Iterator[OrdoclicClient]:
    """Make :func:`get_client` return ``client`` inside the block (every thread sees it)."""
    _overrides.append(client)
    try:
        yield client
    finally:
        _overrides.remove(client)


def reset_client() -> None:
    """Forget the built client and breaker (they are rebuilt from settings on next use)."""
    global _client, _breaker
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
        _breaker = None


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("ORDOCLIC_") or setting == "REDIS_URL":
        reset_client()
