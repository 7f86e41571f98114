"""The applications that read prescriptions in FHIR: created by an administrator with a bearer
token shown once, checked on every read, rate-limited per application (a counter per minute in
Redis), every read an audit event."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from practitioners.models import User

from ..models import FhirClient


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def fhir_client_create(*, name: str, acting_user: User) -> tuple[FhirClient, str]:
    """A new application and its token (the only time the token exists in clear)."""
    token = secrets.token_urlsafe(32)
    client = FhirClient.objects.create(
        name=name.strip()[:120],
        token_sha256=_digest(token),
        token_hint=token[:8],
        created_by=acting_user,
    )
    return client, token


def fhir_client_for_token(authorization: str) -> FhirClient | None:
    """The active application whose bearer token this is, None otherwise."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        return None
    digest = _digest(token.strip())
    client = FhirClient.objects.filter(token_sha256=digest, is_active=True).first()
    if client is None or not hmac.compare_digest(client.token_sha256, digest):
        return None
    FhirClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


def fhir_rate_exceeded(client: FhirClient) -> bool:
    """Counts this read; True beyond FHIR_RATE_LIMIT reads in the current minute."""
    key = f"fhir:rate:{client.pk}:{int(time.time() // 60)}"
    try:
        cache.add(key, 0, timeout=120)
        count = cache.incr(key)
    except Exception:  # the cache is down: do not lock the host record out
        return False
    return int(count) > settings.FHIR_RATE_LIMIT
