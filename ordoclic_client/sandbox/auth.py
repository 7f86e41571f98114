"""Ordoclic's "third-party" authentication, server side (DOMAIN.md §2).

The partner signs the compact JSON ``{"partnerId","rpps","dateTime"}`` (those keys, that order,
no spaces) with RSASSA-PKCS1-v1_5 / SHA-512 and posts the same fields plus ``sig``; the server
rebuilds those bytes from the received fields to verify. The answer is an HS256 JWT (``exp``
about 8 hours ahead, ``identity`` as a JSON string, ``role: "third-party"``).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TOKEN_LIFETIME = timedelta(hours=8)
MAX_SKEW = timedelta(minutes=5)
ROLE = "third-party"
_PARIS = ZoneInfo("Europe/Paris")


def signed_bytes(partner_id: str, rpps: str, date_time: str) -> bytes:
    return json.dumps(
        {"partnerId": partner_id, "rpps": rpps, "dateTime": date_time},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def verify_signature(public_key: rsa.RSAPublicKey, message: bytes, sig_b64: str) -> bool:
    try:
        signature = base64.b64decode(sig_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA512())
    except InvalidSignature:
        return False
    return True


def parse_date_time(text: str) -> list[datetime]:
    """The instants a sample client may have meant: RFC 3339 (with or without fractional
    seconds, ``Z`` or an offset) or PHP's ``Y-m-d H:i:s`` (no zone: read as UTC or as Paris
    time, the samples' servers being either). Empty when unreadable."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return []
    if parsed.tzinfo is not None:
        return [parsed]
    return [parsed.replace(tzinfo=UTC), parsed.replace(tzinfo=_PARIS)]


def within_skew(text: str, now: datetime) -> bool:
    return any(abs(now - moment) <= MAX_SKEW for moment in parse_date_time(text))


def issue_token(
    *, secret: bytes, identity: dict[str, Any], now: datetime, lifetime: timedelta = TOKEN_LIFETIME
) -> str:
    claims = {
        "exp": int((now + lifetime).timestamp()),
        "iat": int(now.timestamp()),
        "identity": json.dumps(identity, separators=(",", ":")),
        "role": ROLE,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


class TokenError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def read_token(*, secret: bytes, authorization: str | None) -> dict[str, Any]:
    """The identity carried by a valid, unexpired, unforged Bearer token."""
    if not authorization or not authorization.startswith("Bearer "):
        raise TokenError("missing_token", "Authorization: Bearer <token> is required.")
    token = authorization.removeprefix("Bearer ").strip()
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "identity"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("token_expired", "The token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("invalid_token", "The token is invalid.") from exc
    if claims.get("role") != ROLE:
        raise TokenError("invalid_token", "The token is invalid.")
    try:
        identity = json.loads(claims["identity"])
    except (TypeError, ValueError) as exc:
        raise TokenError("invalid_token", "The token is invalid.") from exc
    if not isinstance(identity, dict):
        raise TokenError("invalid_token", "The token is invalid.")
    return identity
