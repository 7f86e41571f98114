"""The served sandbox (a separate process): same handler, faults felt over a real socket."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import httpx
import pytest

from ordoclic_client.contract import PRESCRIPTIONS

from .conftest import CLAIRE, signed_assertion

pytestmark = pytest.mark.served


def _token(served_sandbox, client: httpx.Client) -> dict[str, str]:
    body = signed_assertion(served_sandbox.private_key_pem, served_sandbox.partner_id, CLAIRE)
    response = client.post("/v1/auth", json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _prescription(external_id: str) -> dict:
    return {
        "externalId": external_id,
        "patient": {"birthDate": str(date(1980, 5, 17)), "lastName": "DUPONT", "firstName": "Anne"},
        "lines": [
            {
                "lineId": "l1",
                "drug": {"codeSystem": "cis", "code": "60234100"},
                "dose": "1",
                "unit": "comprimé",
                "frequencyCount": 3,
                "label": "DOLIPRANE 1000 mg, comprimé",
                "posologyText": "1 comprimé 3 fois par jour",
            }
        ],
        "softwareVersion": "0.1.0",
        "issuedAt": datetime.now(UTC).isoformat(),
    }


def test_served_sandbox_answers_several_requests_and_authenticates(served_sandbox) -> None:
    with httpx.Client(base_url=served_sandbox.base_url, timeout=5) as client:
        headers = _token(served_sandbox, client)
        response = client.get("/drugbase/v1/drugs", params={"q": "zeclar"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["items"][0]["cis"] == "67997205"


def test_down_refuses_every_api_call_but_not_the_control_api(served_sandbox) -> None:
    with httpx.Client(base_url=served_sandbox.base_url, timeout=5) as client:
        client.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
        assert client.post("/v1/auth", json={}).status_code == 503
        assert client.get("/_sandbox/ledger").status_code == 200


def test_hang_outlasts_a_short_client_timeout(served_sandbox) -> None:
    with httpx.Client(base_url=served_sandbox.base_url, timeout=5) as client:
        headers = _token(served_sandbox, client)
        client.post("/_sandbox/faults", json={"mode": "hang"}).raise_for_status()
        with pytest.raises(httpx.ReadTimeout):
            client.get(
                "/drugbase/v1/drugs",
                params={"q": "zeclar"},
                headers=headers,
                timeout=httpx.Timeout(5, read=0.3),
            )
        client.post("/_sandbox/faults", json={"mode": "ok"}).raise_for_status()


def test_commit_then_drop_registers_then_closes_the_connection(served_sandbox) -> None:
    external_id = str(uuid.uuid4())
    with httpx.Client(base_url=served_sandbox.base_url, timeout=5) as client:
        headers = _token(served_sandbox, client)
        client.post("/_sandbox/faults", json={"mode": "commit_then_drop"}).raise_for_status()
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(
                PRESCRIPTIONS,
                json=_prescription(external_id),
                headers={**headers, "Idempotency-Key": "key-1"},
            )
        client.post("/_sandbox/faults", json={"mode": "ok"}).raise_for_status()
        ledger = client.get("/_sandbox/ledger").json()
    assert ledger["items"] == [
        {
            "externalId": external_id,
            "creationRequests": 1,
            "resendsWithoutLookup": 0,
            "idempotencyKeys": ["key-1"],
            "registered": 1,
            "numbers": ledger["items"][0]["numbers"],
            "cancelled": 0,
        }
    ]


def test_concurrent_creations_for_one_external_id_register_once(served_sandbox) -> None:
    external_id = str(uuid.uuid4())
    with httpx.Client(base_url=served_sandbox.base_url, timeout=10) as client:
        headers = _token(served_sandbox, client)

    def send(key: str) -> int:
        with httpx.Client(base_url=served_sandbox.base_url, timeout=10) as own:
            response = own.post(
                PRESCRIPTIONS,
                json=_prescription(external_id),
                headers={**headers, "Idempotency-Key": key},
            )
            return response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(send, [f"key-{i}" for i in range(6)]))
    assert statuses == [200] * 5 + [201]
    with served_sandbox.control() as control:
        [item] = control.get("/_sandbox/ledger").json()["items"]
    assert (item["creationRequests"], item["registered"]) == (6, 1)
