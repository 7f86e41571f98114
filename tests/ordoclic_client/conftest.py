"""Fixtures for the client's exact HTTP exchanges (respx) and its shared breaker (Redis)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
import redis
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client

BASE_URL = "https://ordoclic.test"
PARTNER_ID = "5b0c3a52-7a4e-4f43-9b7a-0f5f7e0a1c11"
RPPS = "10100001238"
PROFESSIONAL_ID = "0d9a1c2e-3b4f-4a5b-8c6d-7e8f9a0b1c2d"


@pytest.fixture(scope="session")
def partner_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


@pytest.fixture
def credentials(partner_key: rsa.RSAPrivateKey) -> PartnerCredentials:
    return PartnerCredentials(
        partner_id=PARTNER_ID,
        private_key_pem=pem(partner_key, serialization.PrivateFormat.TraditionalOpenSSL),
    )


def make_token(*, lifetime: float = 8 * 3600, rpps: str = RPPS) -> str:
    identity = json.dumps({"professional": {"rpps": rpps}})
    claims = {"exp": int(time.time() + lifetime), "identity": identity, "role": "third-party"}
    return jwt.encode(claims, "a-sandbox-secret-that-is-not-ordoclics-own", algorithm="HS256")


def auth_answer(token: str | None = None, *, activated: bool = True) -> dict[str, Any]:
    return {
        "token": token or make_token(),
        "identity": {
            "professional": {
                "id": PROFESSIONAL_ID,
                "rpps": RPPS,
                "firstName": "Claire",
                "lastName": "MARTIN",
                "activated": activated,
            },
            "partnerId": PARTNER_ID,
            "entityId": None,
        },
    }


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """Every request must match a route (unmocked calls fail); auth answers a fresh token."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        router.post("/v1/auth", name="auth").mock(
            side_effect=lambda request: httpx.Response(200, json=auth_answer())
        )
        yield router


@pytest.fixture
def make_client(credentials: PartnerCredentials) -> Iterator[Callable[..., OrdoclicClient]]:
    made: list[OrdoclicClient] = []

    def make(**kwargs: Any) -> OrdoclicClient:
        timeouts = {"connect_timeout": 1.0, "read_timeout": 2.0}
        client = OrdoclicClient(
            http=build_http_client(base_url=BASE_URL, **timeouts),
            credentials=kwargs.pop("credentials", credentials),
            **kwargs,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., OrdoclicClient]) -> OrdoclicClient:
    return make_client()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """This engineer's Redis database (REDIS_URL); each test uses its own breaker name."""
    connection = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    yield connection
    connection.close()


@pytest.fixture
def breaker_name(redis_client: redis.Redis) -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex}"
    yield name
    keys = list(redis_client.scan_iter(f"breaker:{name}:*"))
    if keys:
        redis_client.delete(*keys)
