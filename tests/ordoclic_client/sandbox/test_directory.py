"""Professionals (validate, get, activate, deactivate, create) and entities."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ordoclic_client.sandbox import Sandbox
from ordoclic_client.sandbox.directory import professional_id

from .conftest import CLAIRE, KARIM, SOPHIE, UNKNOWN, errors, signed_assertion


def test_validate_resolves_the_ordoclic_id_of_an_rpps(
    api: httpx.Client, as_claire: dict[str, str]
) -> None:
    response = api.post("/v1/professionals/validate", json={"rpps": KARIM}, headers=as_claire)
    assert response.status_code == 200
    assert response.json()["id"] == professional_id(KARIM)
    assert (response.json()["firstName"], response.json()["activated"]) == ("Karim", True)


def test_validate_an_unknown_or_malformed_rpps(
    api: httpx.Client, as_claire: dict[str, str]
) -> None:
    unknown = api.post("/v1/professionals/validate", json={"rpps": UNKNOWN}, headers=as_claire)
    assert unknown.status_code == 404
    malformed = api.post("/v1/professionals/validate", json={"rpps": "1234"}, headers=as_claire)
    assert malformed.status_code == 422
    assert errors(malformed)[0]["field"] == "rpps"


def test_get_by_uuid_or_rpps(api: httpx.Client, as_claire: dict[str, str]) -> None:
    by_rpps = api.get(f"/v1/professionals/{SOPHIE}", headers=as_claire).json()
    by_id = api.get(f"/v1/professionals/{by_rpps['id']}", headers=as_claire).json()
    assert by_rpps == by_id
    assert by_rpps["activated"] is False


def test_deactivation_needs_a_reason_and_stops_prescribing_until_reactivated(
    api: httpx.Client, as_claire: dict[str, str], token_for: Callable[[str], dict[str, str]]
) -> None:
    karim_id = professional_id(KARIM)
    no_reason = api.post(f"/v1/professionals/{karim_id}/deactivate", json={}, headers=as_claire)
    assert no_reason.status_code == 422
    done = api.post(
        f"/v1/professionals/{karim_id}/deactivate", json={"reason": "départ"}, headers=as_claire
    )
    assert (done.json()["activated"], done.json()["deactivationReason"]) == (False, "départ")
    analysis = {"patient": {"birthDate": "1990-01-01"}, "lines": []}
    as_karim = token_for(KARIM)
    assert (
        api.post("/v1/prescriptions/analysis", json=analysis, headers=as_karim).status_code == 403
    )
    api.post(f"/v1/professionals/{karim_id}/activate", headers=as_claire)
    assert (
        api.post("/v1/prescriptions/analysis", json=analysis, headers=as_karim).status_code == 200
    )


def test_create_a_professional_once(api: httpx.Client, as_claire: dict[str, str]) -> None:
    body = {"rpps": UNKNOWN, "firstName": "Léa", "lastName": "PETIT", "profession": "Médecin"}
    created = api.post("/v1/professionals", json=body, headers=as_claire)
    assert created.status_code == 201
    assert created.json()["activated"] is False
    assert api.post("/v1/professionals", json=body, headers=as_claire).status_code == 409


def test_an_entity_scopes_the_token_of_its_members(
    sandbox: Sandbox, api: httpx.Client, as_claire: dict[str, str]
) -> None:
    entity = api.post(
        "/v1/entities",
        json={"name": "SAMU 75", "admins": [professional_id(CLAIRE)]},
        headers=as_claire,
    ).json()
    assert entity["admins"] == [professional_id(CLAIRE)]
    added = api.post(
        f"/v1/entities/{entity['id']}/professionals",
        json={"professionalId": professional_id(KARIM)},
        headers=as_claire,
    ).json()
    assert sorted(added["professionals"]) == sorted(
        [professional_id(CLAIRE), professional_id(KARIM)]
    )
    body = signed_assertion(sandbox.private_key_pem, sandbox.partner_id, KARIM)
    scoped = api.post("/v1/auth", json={**body, "entityId": entity["id"]})
    assert scoped.json()["identity"]["entityId"] == entity["id"]
    outsider = signed_assertion(sandbox.private_key_pem, sandbox.partner_id, SOPHIE)
    refused = api.post("/v1/auth", json={**outsider, "entityId": entity["id"]})
    assert refused.status_code == 403
