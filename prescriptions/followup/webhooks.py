"""Ordoclic's webhook: signed status events (dispensing updates, cancellations).

``POST /ordonnances/webhooks/ordoclic/`` with ``X-Ordoclic-Timestamp`` (Unix seconds) and
``X-Ordoclic-Signature: sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>." + raw body`` with the
shared secret ``ORDOCLIC_WEBHOOK_SECRET`` (see ordoclic_client.contract). No session, no CSRF
token: the signature is the authentication. Answers:

- 200 the event was applied (or was older than the state already known: nothing changed);
- 400 missing or malformed headers or body; 401 wrong signature; 403 timestamp outside the
  tolerance (``ORDOCLIC_WEBHOOK_TOLERANCE`` seconds: a captured request cannot be replayed later);
- 404 webhooks are not configured here, or the prescription is unknown (Ordoclic may retry);
- 409 this event id was already received (a replay is never applied twice).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from ordoclic_client import contract
from practitioners.permissions import public

from ..models import Prescription, WebhookReceipt
from .dispensing import ApplyOutcome, Source, dispensing_apply

logger = logging.getLogger(__name__)


class WebhookRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def expected_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_verify(*, headers: Any, body: bytes, now: float | None = None) -> int:
    """Check the signature and the timestamp; returns the timestamp or raises WebhookRefused."""
    secret = settings.ORDOCLIC_WEBHOOK_SECRET
    if not secret:
        raise WebhookRefused(404, "not_configured", "Webhooks are not enabled here.")
    timestamp = headers.get(contract.WEBHOOK_TIMESTAMP_HEADER, "").strip()
    signature = headers.get(contract.WEBHOOK_SIGNATURE_HEADER, "").strip()
    if not timestamp or not signature:
        raise WebhookRefused(400, "missing_signature", "Timestamp and signature are required.")
    if not timestamp.isdigit():
        raise WebhookRefused(400, "malformed_timestamp", "The timestamp is Unix seconds.")
    expected = expected_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise WebhookRefused(401, "bad_signature", "The signature does not match.")
    moment = int(timestamp)
    now = time.time() if now is None else now
    if abs(now - moment) > settings.ORDOCLIC_WEBHOOK_TOLERANCE:
        raise WebhookRefused(403, "stale_timestamp", "The timestamp is outside the tolerance.")
    return moment


def webhook_event_receive(*, event: contract.WebhookEvent) -> ApplyOutcome:
    """Record the event (its id once only) and apply the state it carries, in one transaction."""
    prescription = Prescription.objects.filter(ordoclic_id=event.prescription.id).first()
    if prescription is None:
        raise WebhookRefused(404, "unknown_prescription", "No such prescription here.")
    try:
        with transaction.atomic():
            receipt = WebhookReceipt.objects.create(
                event_id=event.event_id,
                type=event.type.value,
                occurred_at=event.occurred_at,
                prescription=prescription,
                outcome="received",
            )
            outcome = dispensing_apply(
                prescription_id=prescription.pk,
                state=event.prescription,
                source=Source.WEBHOOK,
                event_id=event.event_id,
            )
            receipt.outcome = outcome.value
            receipt.save(update_fields=["outcome"])
    except IntegrityError as exc:
        raise WebhookRefused(409, "replayed", "This event was already received.") from exc
    return outcome


@public  # authenticated by its HMAC signature, not by a session
@csrf_exempt
@require_POST
def ordoclic_webhook(request: HttpRequest) -> JsonResponse:
    body = request.body
    try:
        webhook_verify(headers=request.headers, body=body)
        try:
            event = contract.WebhookEvent.model_validate_json(body)
        except ValidationError as exc:
            raise WebhookRefused(
                400, "malformed_event", "The body is not a webhook event."
            ) from exc
        outcome = webhook_event_receive(event=event)
    except WebhookRefused as refused:
        logger.warning("webhook refused", extra={"code": refused.code, "status": refused.status})
        return JsonResponse(
            {"errors": [{"code": refused.code, "message": refused.message, "field": ""}]},
            status=refused.status,
        )
    logger.info("webhook applied", extra={"event_id": event.event_id, "outcome": outcome.value})
    return JsonResponse({"status": outcome.value})
