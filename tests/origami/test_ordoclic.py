"""The process's Ordoclic client, built from settings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client
from ordoclic_client.results import Unavailable, UnavailableKind
from origami.ordoclic import get_breaker, get_client, override_client, reset_client

PARTNER_ID = "5b0c3a52-7a4e-4f43-9b7a-0f5f7e0a1c11"


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "partner.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture(autouse=True)
def fresh_client() -> Iterator[None]:
    reset_client()
    yield
    get_breaker().reset()
    reset_client()


def test_without_a_partner_id_the_sandbox_credentials_file_is_used(
    tmp_path: Path, key_path: Path
) -> None:
    credentials = tmp_path / "sandbox.json"
    credentials.write_text(json.dumps({"partnerId": PARTNER_ID, "privateKeyPath": str(key_path)}))

    with override_settings(ORDOCLIC_PARTNER_ID="", ORDOCLIC_SANDBOX_CREDENTIALS=str(credentials)):
        client = get_client()

        assert client is get_client()  # one per process
        assert client.partner_id == PARTNER_ID


def test_configured_credentials_win(key_path: Path) -> None:
    with override_settings(ORDOCLIC_PARTNER_ID="p-1", ORDOCLIC_PRIVATE_KEY_PATH=str(key_path)):
        assert get_client().partner_id == "p-1"


def test_a_sandbox_not_started_yet_is_explained(tmp_path: Path) -> None:
    with (
        override_settings(
            ORDOCLIC_PARTNER_ID="", ORDOCLIC_SANDBOX_CREDENTIALS=str(tmp_path / "missing.json")
        ),
        pytest.raises(ImproperlyConfigured, match=r"python -m ordoclic_client\.sandbox"),
    ):
        get_client()


def test_an_unreadable_key_is_explained(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with (
        override_settings(ORDOCLIC_PARTNER_ID="p-1", ORDOCLIC_PRIVATE_KEY_PATH=str(missing)),
        pytest.raises(ImproperlyConfigured, match="Cannot read the Ordoclic partner key"),
    ):
        get_client()


def test_override_client(key_path: Path) -> None:
    mine = OrdoclicClient(
        http=build_http_client(base_url="https://ordoclic.test"),
        credentials=PartnerCredentials.from_key_file(partner_id="x", private_key_path=key_path),
    )

    with override_client(mine):
        assert get_client() is mine


def test_the_breaker_follows_the_settings_and_is_shared(key_path: Path) -> None:
    with (
        override_settings(
            ORDOCLIC_BASE_URL="https://ordoclic.test",
            ORDOCLIC_PARTNER_ID="p-1",
            ORDOCLIC_PRIVATE_KEY_PATH=str(key_path),
            ORDOCLIC_BREAKER_FAILURES=1,
            ORDOCLIC_BREAKER_RESET_SECONDS=60,
        ),
        respx.mock(base_url="https://ordoclic.test") as api,
    ):
        auth = api.post("/v1/auth").mock(return_value=httpx.Response(503))

        first = get_client().drug_search(rpps="10100001238", text="doli")
        second = get_client().drug_search(rpps="10100001238", text="doli")

        assert first == Unavailable(  # only auth was tried
            "server error (HTTP 503)", sent=False, kind=UnavailableKind.SERVER_ERROR
        )
        assert isinstance(second, Unavailable)
        assert second.kind == UnavailableKind.BREAKER_OPEN
        assert auth.call_count == 1
        assert get_breaker().state() == "open"
        assert get_breaker().last_error() == "server error (HTTP 503)"
