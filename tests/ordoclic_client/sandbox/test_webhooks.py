"""Dispensing and cancellation reach the partner as signed webhooks, retried on failure."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from ordoclic_client.contract import (
    PRESCRIPTIONS,
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TIMESTAMP_HEADER,
    WebhookEvent,
)
from ordoclic_client.sandbox import Sandbox, WebhookTarget

from .conftest import CLAIRE, DOLIPRANE, prescription, signed_assertion

SECRET = "webhook-shared-secret"


class Receiver:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                status = 500 if receiver.failures > 0 else 204
                receiver.failures -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ordoclic/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver()
    yield instance
    instance.server.shutdown()


def _registered(sandbox: Sandbox) -> tuple[httpx.Client, dict[str, str], dict[str, Any]]:
    api = httpx.Client(base_url="http://sandbox", transport=sandbox.transport)
    token = api.post(
        "/v1/auth", json=signed_assertion(sandbox.private_key_pem, sandbox.partner_id, CLAIRE)
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    registered = api.post(
        PRESCRIPTIONS, json=prescription(DOLIPRANE), headers={**headers, "Idempotency-Key": "k"}
    ).json()
    return api, headers, registered


def verify(headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers[WEBHOOK_TIMESTAMP_HEADER]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers[WEBHOOK_SIGNATURE_HEADER], "sha256=" + expected.hexdigest())


def test_dispensing_posts_a_signed_event(tmp_path: Path, receiver: Receiver) -> None:
    sandbox = Sandbox(tmp_path / "s", webhook=WebhookTarget(url=receiver.url, secret=SECRET))
    api, _, registered = _registered(sandbox)
    api.post(f"/_sandbox/prescriptions/{registered['number']}/dispense", json={"partial": True})
    sandbox.app.webhooks.join()
    [(headers, body)] = receiver.received
    assert verify(headers, body)
    event = WebhookEvent.model_validate_json(body)
    assert (event.type, event.external_id) == (
        "prescription.dispensing_updated",
        registered["externalId"],
    )
    assert event.prescription.dispensing.status == "partial"


def test_cancellation_set_through_the_control_api_is_delivered_after_a_failure(
    sandbox: Sandbox,
) -> None:
    receiver = Receiver(failures=1)
    api, headers, registered = _registered(sandbox)
    api.post("/_sandbox/webhook", json={"url": receiver.url, "secret": SECRET})
    api.post(f"{PRESCRIPTIONS}/{registered['id']}/cancel", json={"reason": "x"}, headers=headers)
    sandbox.app.webhooks.join()
    receiver.server.shutdown()
    assert len(receiver.received) == 2
    assert all(verify(h, b) for h, b in receiver.received)
    assert json.loads(receiver.received[1][1])["type"] == "prescription.cancelled"


def test_a_tampered_body_does_not_verify(tmp_path: Path, receiver: Receiver) -> None:
    sandbox = Sandbox(tmp_path / "s", webhook=WebhookTarget(url=receiver.url, secret=SECRET))
    api, _, registered = _registered(sandbox)
    api.post(f"/_sandbox/prescriptions/{registered['number']}/dispense", json={})
    sandbox.app.webhooks.join()
    [(headers, body)] = receiver.received
    assert not verify(headers, body.replace(b"full", b"none"))


def test_the_drain_returns_once_every_webhook_reached_the_partner(sandbox: Sandbox) -> None:
    """What a test calls before it ends (tests/conftest.py, served_sandbox): after the drain,
    nothing more reaches the partner, even a delivery that needed a retry."""
    receiver = Receiver(failures=1)
    api, headers, registered = _registered(sandbox)
    api.post("/_sandbox/webhook", json={"url": receiver.url, "secret": SECRET})
    api.post(f"{PRESCRIPTIONS}/{registered['id']}/cancel", json={"reason": "x"}, headers=headers)
    drained = api.post("/_sandbox/webhook/drain", json={"timeout": 20}).json()
    delivered = len(receiver.received)
    receiver.server.shutdown()
    assert drained == {"pending": 0}
    assert delivered == 2  # the failed post and its retry, both before the drain returned


def test_closing_the_sandbox_stops_its_webhook_thread(tmp_path: Path, receiver: Receiver) -> None:
    sandbox = Sandbox(tmp_path / "s", webhook=WebhookTarget(url=receiver.url, secret=SECRET))
    api, _, registered = _registered(sandbox)
    api.post(f"/_sandbox/prescriptions/{registered['number']}/dispense", json={})
    sender = sandbox.app.webhooks._thread
    assert sender is not None
    sandbox.close()
    assert len(receiver.received) == 1  # delivered before closing returned
    assert not sender.is_alive()
