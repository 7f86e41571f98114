"""Signed webhook delivery (dispensing updates, cancellations), off the request thread.

Signature as :mod:`ordoclic_client.contract` states: ``X-Ordoclic-Timestamp`` (Unix seconds)
and ``X-Ordoclic-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>." + raw body``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ordoclic_client.contract import WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER

logger = logging.getLogger(__name__)

ATTEMPTS = 4
BACKOFF_SECONDS = (0.5, 2.0, 5.0)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str


class WebhookSender:
    """One background thread posting events in order; failures are logged and retried."""

    def __init__(self, client_factory: Callable[[], httpx.Client] | None = None) -> None:
        self._client_factory = client_factory or (lambda: httpx.Client(timeout=5.0))
        self._queue: queue.Queue[tuple[WebhookTarget, dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, target: WebhookTarget, event: dict[str, Any]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sandbox-webhooks", daemon=True
                )
                self._thread.start()
        self._queue.put((target, event))

    @property
    def pending(self) -> int:
        """Events queued or being delivered."""
        return self._queue.unfinished_tasks

    def join(self, timeout: float = 10.0) -> int:
        """Wait (at most ``timeout`` seconds) until every queued event was delivered or given
        up; returns how many are still pending (0 when drained)."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.pending

    def close(self, timeout: float = 10.0) -> int:
        """Deliver what is queued (at most ``timeout`` seconds), then stop the thread: nothing
        is posted after this returns, unless events were still pending (their count is
        returned; the daemon thread then ends with the process)."""
        left = self.join(timeout)
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=max(0.1, timeout))
        return left

    def _run(self) -> None:
        with self._client_factory() as client:
            while True:
                item = self._queue.get()
                try:
                    if item is None:
                        return
                    self._deliver(client, *item)
                finally:
                    self._queue.task_done()

    def _deliver(self, client: httpx.Client, target: WebhookTarget, event: dict[str, Any]) -> None:
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        for attempt in range(ATTEMPTS):
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                WEBHOOK_TIMESTAMP_HEADER: str(timestamp),
                WEBHOOK_SIGNATURE_HEADER: sign(target.secret, timestamp, body),
            }
            try:
                response = client.post(target.url, content=body, headers=headers)
                if response.status_code < 300:
                    return
                problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            logger.warning(
                "webhook %s (%s) attempt %d failed: %s",
                event.get("eventId"),
                event.get("type"),
                attempt + 1,
                problem,
            )
            if attempt < ATTEMPTS - 1:
                time.sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)])
        logger.error("webhook %s given up after %d attempts", event.get("eventId"), ATTEMPTS)
