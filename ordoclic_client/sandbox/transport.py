"""In-process use: an ``httpx.MockTransport`` over the sandbox's handler.

Faults behave as a client would see them over a network, without blocking a test forever:
``hang`` raises ``httpx.ReadTimeout`` once the request's read timeout has passed,
``commit_then_drop`` processes the request then raises ``httpx.RemoteProtocolError``, and a
``slow`` answer later than the read timeout raises ``httpx.ReadTimeout`` (after processing).
"""

from __future__ import annotations

import time

import httpx

from ordoclic_client.sandbox.app import SandboxApp
from ordoclic_client.sandbox.faults import HANG_MAX_SECONDS


def _read_timeout(request: httpx.Request) -> float:
    timeout = request.extensions.get("timeout", {})
    read = timeout.get("read") if isinstance(timeout, dict) else None
    return HANG_MAX_SECONDS if read is None else min(float(read), HANG_MAX_SECONDS)


def make_transport(app: SandboxApp) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        outcome = app.handle(request)
        decision = outcome.decision
        read_timeout = _read_timeout(request)
        if decision.hang:
            app.faults.wait_for_change(read_timeout)
            raise httpx.ReadTimeout("sandbox fault: hang", request=request)
        if decision.drop_after_processing:
            raise httpx.RemoteProtocolError(
                "sandbox fault: connection dropped after processing", request=request
            )
        if decision.delay_seconds:
            if decision.delay_seconds > read_timeout:
                time.sleep(read_timeout)
                raise httpx.ReadTimeout("sandbox fault: slow", request=request)
            time.sleep(decision.delay_seconds)
        return outcome.response

    return httpx.MockTransport(handler)
