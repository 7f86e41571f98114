"""Shared fixtures. Tests run on real PostgreSQL and Redis (see README: running the tests)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from django.test import Client

from ordoclic_client.sandbox.process import spawn

if TYPE_CHECKING:
    from ordoclic_client import OrdoclicClient
    from ordoclic_client.sandbox import Sandbox


@pytest.fixture
def logged_in_client(client: Client) -> Callable[..., Client]:
    """`logged_in_client(user)` returns the test client logged in as `user`, second factor
    passed (see tests/helpers.py)."""
    from practitioners.models import User
    from tests.helpers import login

    def _login(user: User) -> Client:
        return login(client, user)

    return _login


# --- Ordoclic sandbox ------------------------------------------------------------------------
# `sandbox`: the sandbox in this process, fresh per test (its SQLite state in tmp_path); plug
# `sandbox.transport` into an httpx.Client. `served_sandbox`: the sandbox as a separate HTTP
# process (one per test session, on a free port), reset through POST /_sandbox/reset before
# each test. Control API (faults, ledger, dispense, reset): README, "Ordoclic sandbox".


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    from ordoclic_client.sandbox import Sandbox

    instance = Sandbox(tmp_path / "sandbox")
    yield instance
    instance.close()


@dataclass(frozen=True)
class ServedSandbox:
    base_url: str
    partner_id: str
    private_key_path: Path
    state_dir: Path

    @property
    def private_key_pem(self) -> bytes:
        return self.private_key_path.read_bytes()

    def control(self) -> httpx.Client:
        """A client for the /_sandbox/ control API."""
        return httpx.Client(base_url=self.base_url, timeout=10)


@pytest.fixture(scope="session")
def served_sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSandbox]:
    state = tmp_path_factory.mktemp("served-sandbox")
    log = (state / "server.log").open("w")  # request lines, startup errors
    try:
        process, base_url = spawn(state=state, stderr=log)
    except RuntimeError:
        log.close()
        raise RuntimeError(
            f"the served sandbox did not start: {(state / 'server.log').read_text()[-2000:]}"
        ) from None
    partner = json.loads((state / "partner.json").read_text())
    yield ServedSandbox(
        base_url=base_url,
        partner_id=partner["partnerId"],
        private_key_path=Path(partner["privateKeyPath"]),
        state_dir=state,
    )
    process.terminate()
    process.wait(timeout=10)
    log.close()


WEBHOOK_DRAIN_SECONDS = 20.0


@pytest.fixture
def served_sandbox(served_sandbox_process: ServedSandbox) -> Iterator[ServedSandbox]:
    with served_sandbox_process.control() as control:
        control.post("/_sandbox/reset").raise_for_status()
    yield served_sandbox_process
    # The sandbox posts its webhooks from a thread of its own: wait until the ones this test
    # caused were delivered, so that no live-server thread writes to the database once the test
    # is over (its flush, and the next test, would meet those writes), then stop sending.
    with served_sandbox_process.control() as control:
        drained = control.post(
            "/_sandbox/webhook/drain",
            json={"timeout": WEBHOOK_DRAIN_SECONDS},
            timeout=WEBHOOK_DRAIN_SECONDS + 10,
        )
        drained.raise_for_status()
        control.post("/_sandbox/webhook", json={"url": None}).raise_for_status()
    pending = drained.json()["pending"]
    assert pending == 0, (
        f"{pending} sandbox webhook(s) still undelivered {WEBHOOK_DRAIN_SECONDS:.0f} s after the "
        "test: a live server may still be handling them"
    )


# --- Ordoclic client -------------------------------------------------------------------------
# `ordoclic`: the in-process sandbox wired into `origami.ordoclic.get_client()` for the test;
# `ordoclic.client` is that client, `ordoclic.sandbox` the sandbox (control API, state).


@dataclass(frozen=True)
class OrdoclicWiring:
    sandbox: Sandbox
    client: OrdoclicClient


@pytest.fixture
def ordoclic(sandbox: Sandbox) -> Iterator[OrdoclicWiring]:
    from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client
    from origami.ordoclic import override_client

    client = OrdoclicClient(
        http=build_http_client(base_url="http://sandbox", transport=sandbox.transport),
        credentials=PartnerCredentials(
            partner_id=sandbox.partner_id, private_key_pem=sandbox.private_key_pem
        ),
    )
    with override_client(client):
        yield OrdoclicWiring(sandbox=sandbox, client=client)
    client.close()


@pytest.fixture
def served_ordoclic(served_sandbox: ServedSandbox) -> Iterator[ServedSandbox]:
    """`origami.ordoclic.get_client()` talks to the served sandbox over HTTP (for every thread,
    the live server's included)."""
    from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client
    from origami.ordoclic import override_client

    client = OrdoclicClient(
        http=build_http_client(base_url=served_sandbox.base_url),
        credentials=PartnerCredentials(
            partner_id=served_sandbox.partner_id, private_key_pem=served_sandbox.private_key_pem
        ),
    )
    with override_client(client):
        yield served_sandbox
    client.close()
