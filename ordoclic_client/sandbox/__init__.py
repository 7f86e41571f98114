"""A faithful local stand-in for Ordoclic's integrator API (see README, "Ordoclic sandbox").

In-process::

    sandbox = Sandbox(tmp_path)
    http = httpx.Client(base_url="http://sandbox", transport=sandbox.transport)

Served: ``python -m ordoclic_client.sandbox --host 127.0.0.1 --port 8765 --state var/sandbox``.
Nothing in origami's production code imports this package.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from ordoclic_client.sandbox.app import SandboxApp
from ordoclic_client.sandbox.transport import make_transport
from ordoclic_client.sandbox.webhooks import WebhookSender, WebhookTarget

__all__ = ["Sandbox", "SandboxApp", "WebhookTarget"]


class Sandbox:
    """The sandbox in this process: its state under ``state_dir`` and an httpx transport."""

    def __init__(
        self,
        state_dir: Path,
        *,
        webhook: WebhookTarget | None = None,
        webhook_sender: WebhookSender | None = None,
    ) -> None:
        self.app = SandboxApp(Path(state_dir), webhook=webhook, webhook_sender=webhook_sender)
        self.transport: httpx.MockTransport = make_transport(self.app)

    @property
    def partner_id(self) -> str:
        return self.app.partner.partner_id

    @property
    def private_key_pem(self) -> bytes:
        return self.app.partner.private_key_pem

    @property
    def private_key_path(self) -> Path:
        return self.app.partner.private_key_path

    def control(self) -> httpx.Client:
        """A client for the ``/_sandbox/`` control API (faults, ledger, dispense, reset)."""
        return httpx.Client(base_url="http://sandbox", transport=self.transport)

    def close(self) -> None:
        self.app.webhooks.close()
        self.app.store.close()
