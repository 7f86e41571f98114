"""Registration, idempotency, refusal of unacknowledged CI alerts, status, cancel, dispense."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from ordoclic_client.contract import ANALYSIS, PRESCRIPTIONS, LineIn, RegisteredPrescription

from .conftest import DOLIPRANE, ZECLAR, ZOCOR, Create, prescription


def ledger(api: httpx.Client) -> dict[str, dict[str, Any]]:
    return {i["externalId"]: i for i in api.get("/_sandbox/ledger").json()["items"]}


def test_registration_returns_an_id_a_unique_number_and_the_qr_payload(create: Create) -> None:
    response = create(prescription(DOLIPRANE))
    assert response.status_code == 201
    registered = RegisteredPrescription.model_validate(response.json())
    uuid.UUID(registered.id)
    assert registered.number.isalnum()
    assert registered.number.isupper()
    assert len(registered.number) >= 12
    assert registered.number in registered.qr_payload
    assert registered.status == "registered"
    assert registered.dispensing.status == "none"
    assert [line.line_id for line in registered.dispensing.lines] == ["l1"]


def test_a_replay_with_the_same_key_and_body_returns_the_first_answer(
    create: Create, api: httpx.Client
) -> None:
    body = prescription(DOLIPRANE)
    first = create(body, key="same-key")
    again = create(body, key="same-key")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert ledger(api)[body["externalId"]]["registered"] == 1
    assert ledger(api)[body["externalId"]]["creationRequests"] == 2


def test_the_same_key_with_another_body_is_refused_with_409(create: Create) -> None:
    create(prescription(DOLIPRANE), key="reused")
    response = create(prescription(ZOCOR), key="reused")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"


def test_a_second_key_for_a_registered_external_id_returns_the_existing_prescription(
    create: Create, api: httpx.Client
) -> None:
    body = prescription(DOLIPRANE)
    first = create(body, key="k1").json()
    second = create(body, key="k2")
    assert second.status_code == 200
    assert second.json()["number"] == first["number"]
    assert ledger(api)[body["externalId"]]["numbers"] == [first["number"]]


def test_the_idempotency_key_is_required(api: httpx.Client, as_claire: dict[str, str]) -> None:
    response = api.post(PRESCRIPTIONS, json=prescription(DOLIPRANE), headers=as_claire)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "idempotency_key_required"


def test_unacknowledged_ci_alerts_are_refused_with_the_alerts(
    create: Create, api: httpx.Client
) -> None:
    body = prescription(ZOCOR, ZECLAR)
    response = create(body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["errors"][0]["code"] == "unacknowledged_alerts"
    assert [(a["level"], a["lineIds"]) for a in payload["alerts"]] == [("CI", ["l1", "l2"])]
    assert ledger(api)[body["externalId"]]["registered"] == 0


def test_acknowledged_ci_alerts_let_the_prescription_register(
    create: Create, api: httpx.Client, as_claire: dict[str, str]
) -> None:
    body = prescription(ZOCOR, ZECLAR)
    # the analysis takes the patient's context and the lines' posology, nothing more (strict)
    line_keys = {field.alias for field in LineIn.model_fields.values()}
    lines = [{k: v for k, v in line.items() if k in line_keys} for line in body["lines"]]
    patient = {"birthDate": body["patient"]["birthDate"]}
    analysis = api.post(
        ANALYSIS, json={"patient": patient, "lines": lines}, headers=as_claire
    ).json()
    body["acknowledgedAlerts"] = [
        {"alertId": a["id"], "level": a["level"], "reason": "Bénéfice supérieur au risque"}
        for a in analysis["alerts"]
    ]
    key = "after-decision"
    assert create(body, key=key).status_code == 201


def test_a_deactivated_professional_cannot_register(
    api: httpx.Client, token_for: Callable[[str], dict[str, str]]
) -> None:
    headers = {**token_for("10100007896"), "Idempotency-Key": "k"}
    response = api.post(PRESCRIPTIONS, json=prescription(DOLIPRANE), headers=headers)
    assert response.status_code == 403


def test_get_find_by_external_id_and_status(
    create: Create, api: httpx.Client, as_claire: dict[str, str]
) -> None:
    body = prescription(DOLIPRANE)
    registered = create(body).json()
    got = api.get(f"{PRESCRIPTIONS}/{registered['id']}", headers=as_claire)
    assert got.json() == registered
    found = api.get(PRESCRIPTIONS, params={"externalId": body["externalId"]}, headers=as_claire)
    assert found.json() == {
        "page": 1,
        "per_page": 20,
        "page_count": 1,
        "total_count": 1,
        "items": [registered],
    }
    none = api.get(PRESCRIPTIONS, params={"externalId": str(uuid.uuid4())}, headers=as_claire)
    assert none.json()["items"] == []
    status = api.get(f"{PRESCRIPTIONS}/{registered['id']}/status", headers=as_claire).json()
    assert (status["number"], status["status"], status["dispensing"]["status"]) == (
        registered["number"],
        "registered",
        "none",
    )


def test_an_unknown_prescription_is_404(api: httpx.Client, as_claire: dict[str, str]) -> None:
    assert api.get(f"{PRESCRIPTIONS}/{uuid.uuid4()}", headers=as_claire).status_code == 404


def test_cancel_then_cancel_again_is_harmless(
    create: Create, api: httpx.Client, as_claire: dict[str, str]
) -> None:
    registered = create(prescription(DOLIPRANE)).json()
    url = f"{PRESCRIPTIONS}/{registered['id']}/cancel"
    first = api.post(url, json={"reason": "erreur_patient"}, headers=as_claire)
    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    assert first.json()["cancelReason"] == "erreur_patient"
    again = api.post(url, json={"reason": "erreur_patient"}, headers=as_claire)
    assert again.json() == first.json()
    assert ledger(api)[registered["externalId"]]["cancelled"] == 1


def test_partial_then_full_dispensing_per_line(
    create: Create, api: httpx.Client, as_claire: dict[str, str]
) -> None:
    registered = create(prescription(DOLIPRANE, "63458349")).json()
    dispense = f"/_sandbox/prescriptions/{registered['number']}/dispense"
    partial = api.post(dispense, json={"lines": ["l1"], "partial": True}).json()
    assert partial["dispensing"]["status"] == "partial"
    assert [line["status"] for line in partial["dispensing"]["lines"]] == ["partial", "none"]
    full = api.post(dispense, json={"lines": [], "partial": False}).json()
    assert full["dispensing"]["status"] == "full"
    status = api.get(f"{PRESCRIPTIONS}/{registered['id']}/status", headers=as_claire).json()
    assert status["dispensing"] == full["dispensing"]


def test_a_dispensed_prescription_can_no_longer_be_cancelled(
    create: Create, api: httpx.Client, as_claire: dict[str, str]
) -> None:
    registered = create(prescription(DOLIPRANE)).json()
    api.post(
        f"/_sandbox/prescriptions/{registered['number']}/dispense",
        json={"lines": [{"lineId": "l1", "status": "substituted"}]},
    )
    response = api.post(
        f"{PRESCRIPTIONS}/{registered['id']}/cancel", json={"reason": "x"}, headers=as_claire
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "already_dispensed"


def test_a_cancelled_prescription_cannot_be_dispensed(
    create: Create, api: httpx.Client, as_claire: dict[str, str]
) -> None:
    registered = create(prescription(DOLIPRANE)).json()
    api.post(f"{PRESCRIPTIONS}/{registered['id']}/cancel", json={"reason": "x"}, headers=as_claire)
    response = api.post(f"/_sandbox/prescriptions/{registered['number']}/dispense", json={})
    assert response.status_code == 409


def test_dispensing_an_unknown_line_is_refused(create: Create, api: httpx.Client) -> None:
    registered = create(prescription(DOLIPRANE)).json()
    response = api.post(
        f"/_sandbox/prescriptions/{registered['number']}/dispense", json={"lines": ["nope"]}
    )
    assert response.status_code == 422
