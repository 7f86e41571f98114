"""Ordoclic's "third-party" authentication, as its public sample clients do it.

1. Build the compact JSON ``{"partnerId","rpps","dateTime"}``, keys in that order, no spaces.
2. Sign those exact bytes with the partner's RSA key, RSASSA-PKCS1-v1_5 with SHA-512; base64.
3. ``POST /v1/auth`` with the same three fields plus ``"sig"``.
4. The answer's ``token`` (an HS256 JWT acting for that one professional) goes in
   ``Authorization: Bearer``. We cannot verify HS256 (the secret is Ordoclic's): we only read
   ``exp`` from the payload to know when to fetch a new one.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ordoclic_client.exceptions import InvalidResponseError

# Fetch a new token this long before the current one expires (clock skew, request duration).
EXPIRY_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class PartnerCredentials:
    """The partner id Ordoclic gave us and the matching RSA private key (PKCS#1 or PKCS#8 PEM)."""

    partner_id: str
    private_key_pem: bytes = field(repr=False)

    @classmethod
    def from_key_file(cls, *, partner_id: str, private_key_path: str | Path) -> PartnerCredentials:
        return cls(partner_id=partner_id, private_key_pem=Path(private_key_path).read_bytes())

    def private_key(self) -> rsa.RSAPrivateKey:
        """Load the key; ``load_pem_private_key`` reads both ``BEGIN RSA PRIVATE KEY`` (PKCS#1)
        and ``BEGIN PRIVATE KEY`` (PKCS#8)."""
        key = serialization.load_pem_private_key(self.private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the partner key must be an RSA private key")
        return key


def format_date_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. ``2026-11-27T15:04:05.123456Z``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def assertion_bytes(*, partner_id: str, rpps: str, date_time: str) -> bytes:
    """The exact bytes that are signed: compact JSON, keys in Ordoclic's order."""
    assertion = {"partnerId": partner_id, "rpps": rpps, "dateTime": date_time}
    return json.dumps(assertion, separators=(",", ":"), ensure_ascii=False).encode()


def sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA512())
    return base64.b64encode(signature).decode("ascii")


def auth_body(
    credentials: PartnerCredentials, *, rpps: str, now: datetime | None = None
) -> dict[str, str]:
    """The body of ``POST /v1/auth``: the three signed fields plus ``sig``."""
    date_time = format_date_time(now or datetime.now(UTC))
    message = assertion_bytes(partner_id=credentials.partner_id, rpps=rpps, date_time=date_time)
    return {
        "partnerId": credentials.partner_id,
        "rpps": rpps,
        "dateTime": date_time,
        "sig": sign(credentials.private_key(), message),
    }


def token_expiry(token: str) -> float:
    """The ``exp`` claim (Unix seconds) read without verifying the HS256 signature."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise InvalidResponseError("malformed response: the token is not a JWT") from exc
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise InvalidResponseError("malformed response: the token has no expiry")
    return float(exp)


TokenKey = tuple[str, str | None]  # (rpps, entity id)


class TokenCache:
    """Bearer tokens per (rpps, entity), kept until shortly before they expire. Thread-safe."""

    def __init__(
        self,
        *,
        margin_seconds: float = EXPIRY_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._margin = margin_seconds
        self._clock = clock
        self._tokens: dict[TokenKey, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[TokenKey, threading.Lock] = {}

    def get(self, key: TokenKey) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
        if entry is None:
            return None
        token, expires_at = entry
        if self._clock() >= expires_at - self._margin:
            return None
        return token

    def put(self, key: TokenKey, token: str, expires_at: float) -> None:
        with self._lock:
            self._tokens[key] = (token, expires_at)

    def discard(self, key: TokenKey, token: str) -> None:
        """Forget ``token`` (refused by the server) unless another thread already replaced it."""
        with self._lock:
            entry = self._tokens.get(key)
            if entry is not None and entry[0] == token:
                del self._tokens[key]

    def key_lock(self, key: TokenKey) -> threading.Lock:
        """One lock per professional, so concurrent callers fetch a token once, not each."""
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())


# Fetches a fresh token for a key (performs POST /v1/auth) and returns it with its expiry.
TokenFetcher = Callable[[TokenKey], tuple[str, float]]


class OrdoclicAuth(httpx.Auth):
    """Adds ``Authorization: Bearer`` for one professional; on a 401, fetches a new token and
    sends the request once more (a second 401 is returned as is)."""

    def __init__(self, *, key: TokenKey, cache: TokenCache, fetch: TokenFetcher) -> None:
        self._key = key
        self._cache = cache
        self._fetch = fetch

    def _token(self, *, refused: str | None = None) -> str:
        with self._cache.key_lock(self._key):
            if refused is not None:
                self._cache.discard(self._key, refused)
            token = self._cache.get(self._key)
            if token is None:
                token, expires_at = self._fetch(self._key)
                self._cache.put(self._key, token, expires_at)
            return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != httpx.codes.UNAUTHORIZED:
            return
        request.headers["Authorization"] = f"Bearer {self._token(refused=token)}"
        yield request
