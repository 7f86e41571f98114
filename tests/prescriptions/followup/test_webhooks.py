"""Ordoclic's signed webhook: the served sandbox posts to the live server when a pharmacist
dispenses; forged, stale, replayed, repeated and out-of-order events change nothing."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ordoclic_client.sandbox.webhooks import sign
from prescriptions.models import AuditEvent, Prescription, WebhookReceipt

from ..conftest import WEBHOOK_SECRET, registered_prescription

URL = "/ordonnances/webhooks/ordoclic/"


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    """Wait until `check()` is truthy (the sandbox delivers webhooks from a thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def _dispensing(prescription: Prescription) -> tuple[str, list[str]]:
    prescription.refresh_from_db()
    return prescription.dispensing_status, [
        line.dispensing_status for line in prescription.lines.order_by("position")
    ]


@pytest.mark.served
@pytest.mark.django_db(transaction=True)
def test_dispensing_reaches_the_app_by_webhook(
    served_ordoclic: Any, martin: Any, live_server: Any, settings: Any
) -> None:
    settings.ORDOCLIC_WEBHOOK_SECRET = WEBHOOK_SECRET
    prescription = registered_prescription(user=martin)
    first, second = [line.line_ref for line in prescription.lines.order_by("position")]
    with served_ordoclic.control() as control:
        control.post(
            "/_sandbox/webhook", json={"url": live_server.url + URL, "secret": WEBHOOK_SECRET}
        ).raise_for_status()
        control.post(
            f"/_sandbox/prescriptions/{prescription.number}/dispense",
            json={"lines": [{"lineId": first, "status": "full"}]},
        ).raise_for_status()
        assert wait_for(lambda: _dispensing(prescription)[0] == "partial")
        assert _dispensing(prescription) == ("partial", ["full", "none"])

        control.post(
            f"/_sandbox/prescriptions/{prescription.number}/dispense",
            json={"lines": [{"lineId": second, "status": "substituted"}]},
        ).raise_for_status()
        assert wait_for(lambda: _dispensing(prescription)[0] == "full")
    assert _dispensing(prescription) == ("full", ["full", "substituted"])
    assert WebhookReceipt.objects.filter(prescription=prescription).count() == 2
    assert list(
        AuditEvent.objects.filter(prescription=prescription, action="dispensing_updated")
        .order_by("pk")
        .values_list("details__status", flat=True)
    ) == ["partial", "full"]


# --- the endpoint, event by event (the prescription registered at the in-process sandbox) -------


@pytest.fixture
def registered(ordoclic: Any, martin: Any, settings: Any) -> Prescription:
    settings.ORDOCLIC_WEBHOOK_SECRET = WEBHOOK_SECRET
    return registered_prescription(user=martin)


def event(
    prescription: Prescription,
    *,
    at: datetime,
    statuses: tuple[str, ...],
    overall: str,
    event_id: str | None = None,
    state: str = "registered",
    kind: str = "prescription.dispensing_updated",
) -> dict[str, Any]:
    lines = prescription.lines.order_by("position")
    return {
        "eventId": event_id or str(uuid.uuid4()),
        "type": kind,
        "occurredAt": at.isoformat(),
        "externalId": str(prescription.external_id),
        "prescription": {
            "id": prescription.ordoclic_id,
            "number": prescription.number,
            "status": state,
            "updatedAt": at.isoformat(),
            "dispensing": {
                "status": overall,
                "updatedAt": at.isoformat(),
                "lines": [
                    {"lineId": line.line_ref, "status": status, "dispensedAt": at.isoformat()}
                    for line, status in zip(lines, statuses, strict=True)
                ],
            },
        },
    }


def post(
    payload: dict[str, Any] | bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "HTTP_X_ORDOCLIC_TIMESTAMP": str(timestamp),
        "HTTP_X_ORDOCLIC_SIGNATURE": signature or sign(secret, timestamp, body),
    }
    return Client().post(URL, data=body, content_type="application/json", **headers)


def now() -> datetime:
    from django.utils import timezone

    return timezone.now()


@pytest.mark.django_db
def test_a_signed_event_is_applied(registered: Prescription) -> None:
    response = post(event(registered, at=now(), statuses=("partial", "none"), overall="partial"))
    assert response.status_code == 200
    assert response.json() == {"status": "applied"}
    assert _dispensing(registered) == ("partial", ["partial", "none"])


@pytest.mark.django_db
def test_a_wrong_signature_is_refused_and_changes_nothing(registered: Prescription) -> None:
    payload = event(registered, at=now(), statuses=("full", "full"), overall="full")
    response = post(payload, secret="pas-le-bon-secret")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "bad_signature"
    # the body altered after signing
    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    forged = post(
        body.replace(b'"full"', b'"none"'), signature=sign(WEBHOOK_SECRET, timestamp, body)
    )
    assert forged.status_code == 401
    assert _dispensing(registered) == ("none", ["none", "none"])
    assert not WebhookReceipt.objects.exists()


@pytest.mark.django_db
def test_missing_or_malformed_headers_and_bodies_are_400(registered: Prescription) -> None:
    payload = json.dumps(event(registered, at=now(), statuses=("full", "full"), overall="full"))
    no_headers = Client().post(URL, data=payload, content_type="application/json")
    assert no_headers.status_code == 400
    bad_timestamp = post(payload.encode(), timestamp=0, signature="sha256=00")
    assert bad_timestamp.status_code == 401
    not_an_event = post(b'{"hello": "world"}')
    assert not_an_event.status_code == 400
    assert not_an_event.json()["errors"][0]["code"] == "malformed_event"
    assert Client().get(URL).status_code == 405
    assert _dispensing(registered)[0] == "none"


@pytest.mark.django_db
def test_a_stale_timestamp_is_refused(registered: Prescription) -> None:
    payload = event(registered, at=now(), statuses=("full", "full"), overall="full")
    response = post(payload, timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "stale_timestamp"
    future = post(payload, timestamp=int(time.time()) + 6 * 60)
    assert future.status_code == 403
    assert _dispensing(registered)[0] == "none"


@pytest.mark.django_db
def test_a_replayed_event_id_is_refused_and_applied_once(registered: Prescription) -> None:
    payload = event(registered, at=now(), statuses=("partial", "none"), overall="partial")
    assert post(payload).status_code == 200
    replay = post(payload)
    assert replay.status_code == 409
    assert replay.json()["errors"][0]["code"] == "replayed"
    assert (
        AuditEvent.objects.filter(prescription=registered, action="dispensing_updated").count() == 1
    )


@pytest.mark.django_db
def test_out_of_order_events_never_take_the_state_back(registered: Prescription) -> None:
    start = now()
    newer = event(
        registered, at=start + timedelta(seconds=5), statuses=("full", "full"), overall="full"
    )
    older = event(registered, at=start, statuses=("partial", "none"), overall="partial")
    assert post(newer).json() == {"status": "applied"}
    assert post(older).json() == {"status": "stale"}
    assert _dispensing(registered) == ("full", ["full", "full"])
    registered.refresh_from_db()
    assert registered.dispensing_event_id == newer["eventId"]
    # the same state delivered again under another id (a retry by the sender)
    again = {**newer, "eventId": str(uuid.uuid4())}
    assert post(again).json() == {"status": "unchanged"}


@pytest.mark.django_db
def test_a_newer_event_cannot_undo_a_delivered_line(registered: Prescription) -> None:
    start = now()
    post(event(registered, at=start, statuses=("full", "none"), overall="partial"))
    post(
        event(
            registered,
            at=start + timedelta(seconds=1),
            statuses=("none", "partial"),
            overall="partial",
        )
    )
    assert _dispensing(registered) == ("partial", ["full", "partial"])


@pytest.mark.django_db
def test_a_newer_event_saying_partial_never_takes_a_full_dispensing_back(
    registered: Prescription,
) -> None:
    """Fully dispensed stays fully dispensed for the prescriber and in the audit trail, even if
    a later event (a pharmacy's correction, a sender's bug) says "partial"."""
    start = now()
    full = event(registered, at=start, statuses=("full", "full"), overall="full")
    assert post(full).json() == {"status": "applied"}
    later = event(
        registered, at=start + timedelta(seconds=1), statuses=("full", "full"), overall="partial"
    )
    assert post(later).status_code == 200
    assert _dispensing(registered) == ("full", ["full", "full"])
    assert list(
        AuditEvent.objects.filter(prescription=registered, action="dispensing_updated")
        .order_by("pk")
        .values_list("details__status", flat=True)
    ) == ["full"]


@pytest.mark.django_db
def test_unknown_prescription_or_webhooks_off_are_404(
    registered: Prescription, settings: Any
) -> None:
    payload = event(registered, at=now(), statuses=("full", "full"), overall="full")
    payload["prescription"]["id"] = str(uuid.uuid4())
    response = post(payload)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "unknown_prescription"
    settings.ORDOCLIC_WEBHOOK_SECRET = ""
    off = post(event(registered, at=now(), statuses=("full", "full"), overall="full"))
    assert off.status_code == 404
    assert _dispensing(registered)[0] == "none"


@pytest.mark.django_db
def test_a_cancelled_event_marks_the_prescription_cancelled(registered: Prescription) -> None:
    payload = event(
        registered,
        at=now(),
        statuses=("none", "none"),
        overall="none",
        state="cancelled",
        kind="prescription.cancelled",
    )
    assert post(payload).status_code == 200
    registered.refresh_from_db()
    assert registered.status == "cancelled"
    assert registered.cancelled_at is not None
    assert reverse("prescriptions:ordoclic_webhook") == URL
