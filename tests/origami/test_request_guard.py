"""Requests the database or the decoder cannot take (a NUL byte, a body declared in another
charset than UTF-8, a body over the size limit) are refused with a 400 / 413 and a clear message
before any view runs; Ordoclic's webhook gets its own JSON error format for each of them."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from ordoclic_client.sandbox.webhooks import sign
from prescriptions.models import AuditEvent, WebhookReceipt
from tests.factories import PatientFactory, PrescriberFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db

WEBHOOK_URL = "/ordonnances/webhooks/ordoclic/"
SECRET = "secret-de-test-du-garde"


def _raw_post(client: Client, url: str, body: bytes, content_type: str, **extra: Any) -> Any:
    # Client.post re-encodes a body in the declared charset; generic() sends the bytes as they are.
    return client.generic("POST", url, data=body, content_type=content_type, **extra)


def _signed_post(body: bytes, content_type: str = "application/json") -> Any:
    timestamp = int(time.time())
    return _raw_post(
        Client(),
        WEBHOOK_URL,
        body,
        content_type,
        HTTP_X_ORDOCLIC_TIMESTAMP=str(timestamp),
        HTTP_X_ORDOCLIC_SIGNATURE=sign(SECRET, timestamp, body),
    )


def _event(event_id: str, prescription_id: str) -> dict[str, Any]:
    at = "2026-01-05T10:00:00+00:00"
    return {
        "eventId": event_id,
        "type": "prescription.dispensing_updated",
        "occurredAt": at,
        "prescription": {
            "id": prescription_id,
            "number": "ABC",
            "status": "registered",
            "updatedAt": at,
            "dispensing": {"status": "none", "updatedAt": at, "lines": []},
        },
    }


def test_a_nul_byte_in_the_patient_search_is_a_400(client: Client) -> None:
    login(client, PrescriberFactory())
    response = client.get(reverse("patients:search"), {"q": "mar\x00tin"})
    assert response.status_code == 400
    assert "caractère nul" in response.content.decode()


def test_a_nul_byte_in_a_form_field_is_a_400_and_nothing_is_written(client: Client) -> None:
    login(client, PrescriberFactory())
    patient = PatientFactory()
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("prescriptions:create", kwargs={"patient_id": patient.pk}),
        {"comment": "a\x00b"},
    )
    assert response.status_code == 400
    assert AuditEvent.objects.count() == before


def test_a_nul_byte_in_a_field_name_or_the_path_is_a_400(client: Client) -> None:
    login(client, PrescriberFactory())
    assert client.get(reverse("prescriptions:audit"), {"a\x00": "1"}).status_code == 400
    assert client.get("/patients/%00/").status_code == 400


def test_a_nul_byte_in_the_login_form_is_a_400_before_login() -> None:
    response = Client().post(reverse("login"), {"username": "a\x00", "password": "x"})
    assert response.status_code == 400
    assert "caractère nul" in response.content.decode()


def test_a_utf16_form_body_is_refused_with_a_400_before_login() -> None:
    body = "username=a&password=b".encode("utf-16")
    response = _raw_post(
        Client(), reverse("login"), body, "application/x-www-form-urlencoded; charset=utf-16"
    )
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()


@pytest.mark.parametrize("charset", ["utf-16", "latin-1", "no-such-charset"])
def test_any_charset_but_utf8_is_refused(client: Client, charset: str) -> None:
    login(client, PrescriberFactory())
    response = _raw_post(
        client,
        reverse("prescriptions:audit"),
        b"q=abc",
        f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 400


def test_a_form_body_that_is_not_utf8_is_refused() -> None:
    response = _raw_post(
        Client(),
        reverse("login"),
        b"username=\xff\xfe&password=b",
        "application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


def test_utf8_and_accents_still_go_through(client: Client) -> None:
    login(client, PrescriberFactory())
    response = client.get(reverse("patients:search"), {"q": "Hélène"})
    assert response.status_code == 200


def test_a_signed_webhook_with_a_nul_event_id_gets_the_json_error(settings: Any) -> None:
    settings.ORDOCLIC_WEBHOOK_SECRET = SECRET
    body = json.dumps(_event("evt-\x00", "presc-\x00")).encode()
    assert b"\\u0000" in body

    response = _signed_post(body)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["code"] == "nul_character"
    assert not WebhookReceipt.objects.exists()


def test_an_escaped_backslash_before_u0000_is_not_a_nul(settings: Any) -> None:
    settings.ORDOCLIC_WEBHOOK_SECRET = SECRET
    body = json.dumps(_event("evt-\\u0000", "unknown")).encode()
    response = _signed_post(body)
    # Reaches the view: the prescription is unknown there.
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "unknown_prescription"


def test_an_oversized_webhook_body_gets_the_json_error(settings: Any) -> None:
    settings.ORDOCLIC_WEBHOOK_SECRET = SECRET
    body = b'{"eventId": "' + b"x" * (5 * 1024 * 1024) + b'"}'

    response = _signed_post(body)

    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["code"] == "body_too_large"


def test_a_webhook_body_in_another_charset_gets_the_json_error(settings: Any) -> None:
    settings.ORDOCLIC_WEBHOOK_SECRET = SECRET
    body = json.dumps(_event("evt-1", "p")).encode("utf-16")
    response = _signed_post(body, content_type="application/json; charset=utf-16")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "undecodable_body"
    raw = _signed_post(b'{"eventId": "\xff"}')
    assert raw.status_code == 400
    assert raw.json()["errors"][0]["code"] == "undecodable_body"


def test_an_oversized_form_is_a_413_with_a_french_message(client: Client) -> None:
    login(client, PrescriberFactory())
    response = client.post(reverse("prescriptions:audit"), {"q": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "trop volumineuse" in response.content.decode()
