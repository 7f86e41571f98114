"""The control API in process: faults, ledger paging, reset, webhook configuration."""

from __future__ import annotations

import uuid

import httpx
import pytest

from ordoclic_client.contract import PRESCRIPTIONS
from ordoclic_client.sandbox import Sandbox

from .conftest import CLAIRE, DOLIPRANE, Create, prescription, signed_assertion

SEARCH = "/drugbase/v1/drugs"


def set_faults(api: httpx.Client, **faults: object) -> None:
    response = api.post("/_sandbox/faults", json=faults)
    assert response.status_code == 200, response.text


def test_faults_default_to_ok_and_read_back(api: httpx.Client) -> None:
    assert api.get("/_sandbox/faults").json() == {"mode": "ok", "latency_ms": 0, "error_rate": 0.0}
    set_faults(api, mode="flaky", error_rate=0.5, latency_ms=10)
    assert api.get("/_sandbox/faults").json() == {
        "mode": "flaky",
        "latency_ms": 10,
        "error_rate": 0.5,
    }


def test_an_unknown_fault_mode_is_refused(api: httpx.Client) -> None:
    response = api.post("/_sandbox/faults", json={"mode": "explode"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mode"


@pytest.mark.parametrize(("mode", "status"), [("down", 503), ("error", 500)])
def test_down_and_error_refuse_api_calls_but_not_the_control_api(
    api: httpx.Client, as_claire: dict[str, str], mode: str, status: int
) -> None:
    set_faults(api, mode=mode)
    assert api.get(SEARCH, params={"q": "doli"}, headers=as_claire).status_code == status
    assert api.get("/_sandbox/ledger").status_code == 200


@pytest.mark.parametrize(("rate", "status"), [(1.0, 503), (0.0, 200)])
def test_flaky_fails_the_given_fraction(
    api: httpx.Client, as_claire: dict[str, str], rate: float, status: int
) -> None:
    set_faults(api, mode="flaky", error_rate=rate)
    statuses = {api.get(SEARCH, params={"q": "doli"}, headers=as_claire).status_code for _ in "abc"}
    assert statuses == {status}


def test_hang_raises_a_read_timeout_after_the_request_timeout(
    api: httpx.Client, as_claire: dict[str, str]
) -> None:
    set_faults(api, mode="hang")
    with pytest.raises(httpx.ReadTimeout):
        api.get(
            SEARCH, params={"q": "doli"}, headers=as_claire, timeout=httpx.Timeout(1, read=0.05)
        )


def test_slow_answers_later_than_the_read_timeout_time_out(
    api: httpx.Client, as_claire: dict[str, str]
) -> None:
    set_faults(api, mode="slow", latency_ms=500)
    with pytest.raises(httpx.ReadTimeout):
        api.get(
            SEARCH, params={"q": "doli"}, headers=as_claire, timeout=httpx.Timeout(1, read=0.05)
        )
    answered = api.get(SEARCH, params={"q": "doli"}, headers=as_claire, timeout=2)
    assert answered.status_code == 200


def test_commit_then_drop_registers_before_dropping(
    api: httpx.Client, create: Create, as_claire: dict[str, str]
) -> None:
    body = prescription(DOLIPRANE)
    set_faults(api, mode="commit_then_drop")
    with pytest.raises(httpx.RemoteProtocolError):
        create(body, key="ambiguous")
    set_faults(api, mode="ok")
    found = api.get(PRESCRIPTIONS, params={"externalId": body["externalId"]}, headers=as_claire)
    assert found.json()["total_count"] == 1
    retried = create(body, key="ambiguous")
    assert retried.json()["number"] == found.json()["items"][0]["number"]


def test_the_ledger_counts_arrivals_and_registrations_and_pages(
    api: httpx.Client, create: Create
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for external_id in ids:
        create(prescription(DOLIPRANE, external_id=external_id))
    set_faults(api, mode="down")
    create(prescription(DOLIPRANE, external_id=ids[0]))  # refused before reaching the registry
    page = api.get("/_sandbox/ledger", params={"page": 2, "per_page": 2}).json()
    assert {k: page[k] for k in ("page", "per_page", "page_count", "total_count")} == {
        "page": 2,
        "per_page": 2,
        "page_count": 2,
        "total_count": 3,
    }
    assert [(i["externalId"], i["creationRequests"], i["registered"]) for i in page["items"]] == [
        (ids[2], 1, 1)
    ]


def test_the_ledger_tells_resends_without_a_lookup_and_the_keys_received(
    api: httpx.Client, create: Create, as_claire: dict[str, str]
) -> None:
    external_id = str(uuid.uuid4())
    body = prescription(DOLIPRANE, external_id=external_id)

    def entry() -> tuple[int, int, list[str]]:
        [item] = api.get("/_sandbox/ledger").json()["items"]
        return item["creationRequests"], item["resendsWithoutLookup"], item["idempotencyKeys"]

    set_faults(api, mode="down")
    create(body, key="key-a")  # refused by the fault: its key is still noted
    set_faults(api, mode="ok")
    create(body, key="key-a")
    assert entry() == (1, 0, ["key-a"])
    api.get(PRESCRIPTIONS, params={"externalId": external_id}, headers=as_claire)
    create(body, key="key-a")  # looked up first
    assert entry() == (2, 0, ["key-a"])
    create(body, key="key-b")  # sent again blind, under another key
    assert entry() == (3, 1, ["key-a", "key-b"])


def test_reset_empties_prescriptions_faults_and_restores_professionals(
    sandbox: Sandbox, api: httpx.Client, create: Create, as_claire: dict[str, str]
) -> None:
    create(prescription(DOLIPRANE))
    claire = api.post(
        "/v1/professionals/validate", json={"rpps": "10100001238"}, headers=as_claire
    ).json()
    api.post(
        f"/v1/professionals/{claire['id']}/deactivate", json={"reason": "test"}, headers=as_claire
    )
    set_faults(api, mode="down")
    assert api.post("/_sandbox/reset").status_code == 200
    assert api.get("/_sandbox/ledger").json()["total_count"] == 0
    assert api.get("/_sandbox/faults").json()["mode"] == "ok"
    again = api.post("/v1/professionals/validate", json={"rpps": "10100001238"}, headers=as_claire)
    assert again.json()["activated"] is True
    assert again.json()["id"] == claire["id"]
    assert api.get(SEARCH, params={"q": "doliprane"}, headers=as_claire).json()["total_count"] > 0


def test_webhook_target_is_set_and_cleared(api: httpx.Client) -> None:
    assert api.get("/_sandbox/webhook").json() == {"url": None}
    response = api.post("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s"})
    assert response.json() == {"url": "http://127.0.0.1:9/hook"}
    assert api.post("/_sandbox/webhook", json={"url": "ftp://x", "secret": "s"}).status_code == 422
    assert api.post("/_sandbox/webhook", json={"url": None}).json() == {"url": None}


def test_an_unexpected_sandbox_error_is_a_plain_500(
    sandbox: Sandbox, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("ordoclic_client.sandbox.catalogue.search", broken)
    token = api.post(
        "/v1/auth", json=signed_assertion(sandbox.private_key_pem, sandbox.partner_id, CLAIRE)
    ).json()["token"]
    response = api.get(SEARCH, params={"q": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert response.json()["errors"][0]["code"] == "internal_error"
