"""Helpers for the sandbox's own tests: raw HTTP against the in-process sandbox."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ordoclic_client.contract import PRESCRIPTIONS
from ordoclic_client.sandbox import Sandbox

CLAIRE = "10100001238"  # activated
KARIM = "10100004562"  # activated
SOPHIE = "10100007896"  # deactivated
UNKNOWN = "10100009991"  # valid RPPS, unknown to Ordoclic
TEST_RPPS = "99700092640"  # Ordoclic staging test number


def signed_assertion(
    key_pem: bytes, partner_id: str, rpps: str, date_time: str | None = None
) -> dict[str, str]:
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    date_time = date_time or datetime.now(UTC).isoformat(timespec="microseconds")
    message = json.dumps(
        {"partnerId": partner_id, "rpps": rpps, "dateTime": date_time}, separators=(",", ":")
    ).encode()
    sig = key.sign(message, padding.PKCS1v15(), hashes.SHA512())
    return {
        "partnerId": partner_id,
        "rpps": rpps,
        "dateTime": date_time,
        "sig": base64.b64encode(sig).decode(),
    }


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url="http://sandbox", transport=sandbox.transport, timeout=5) as client:
        yield client


@pytest.fixture
def token_for(sandbox: Sandbox, api: httpx.Client) -> Callable[[str], dict[str, str]]:
    """`token_for(rpps)` -> the Authorization header of a fresh token for that professional."""

    def _token(rpps: str) -> dict[str, str]:
        body = signed_assertion(sandbox.private_key_pem, sandbox.partner_id, rpps)
        response = api.post("/v1/auth", json=body)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    return _token


@pytest.fixture
def as_claire(token_for: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return token_for(CLAIRE)


def errors(response: httpx.Response) -> list[dict[str, Any]]:
    return list(response.json()["errors"])


Create = Callable[..., httpx.Response]

DOLIPRANE = "60234100"
ZOCOR = "67037301"
ZECLAR = "67997205"


def rx_line(line_id: str, cis: str) -> dict[str, Any]:
    return {
        "lineId": line_id,
        "drug": {"codeSystem": "cis", "code": cis},
        "dose": "1",
        "unit": "comprimé",
        "frequencyCount": 1,
        "label": f"CIS {cis}",
        "posologyText": "1 comprimé par jour",
    }


def prescription(*cis: str, external_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "externalId": external_id or str(uuid.uuid4()),
        "patient": {"birthDate": "1962-09-30", "lastName": "LEROY", "firstName": "Paul"},
        "lines": [rx_line(f"l{i}", c) for i, c in enumerate(cis, start=1)],
        "softwareVersion": "0.1.0",
        "issuedAt": datetime.now(UTC).isoformat(),
        **extra,
    }


@pytest.fixture
def create(api: httpx.Client, as_claire: dict[str, str]) -> Create:
    """`create(body, key=None)` posts a prescription as Claire MARTIN."""

    def _create(body: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {**as_claire, "Idempotency-Key": key or str(uuid.uuid4())}
        return api.post(PRESCRIPTIONS, json=body, headers=headers)

    return _create
