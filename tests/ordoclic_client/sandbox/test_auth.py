import json
import stat
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from ordoclic_client.sandbox import Sandbox

from .conftest import CLAIRE, SOPHIE, TEST_RPPS, UNKNOWN, errors, signed_assertion


def test_first_start_writes_partner_files_with_a_private_key_only_the_owner_reads(
    sandbox: Sandbox,
) -> None:
    partner = json.loads((sandbox.app.state_dir / "partner.json").read_text())
    assert partner == {
        "partnerId": sandbox.partner_id,
        "privateKeyPath": str(sandbox.private_key_path),
    }
    assert sandbox.private_key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert stat.S_IMODE(sandbox.private_key_path.stat().st_mode) == 0o600


def test_a_restart_keeps_the_partner_identity(sandbox: Sandbox) -> None:
    again = Sandbox(sandbox.app.state_dir)
    assert (again.partner_id, again.private_key_pem) == (
        sandbox.partner_id,
        sandbox.private_key_pem,
    )


def test_auth_with_a_pkcs1_key_gives_a_third_party_token_for_the_professional(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    response = api.post(
        "/v1/auth", json=signed_assertion(sandbox.private_key_pem, sandbox.partner_id, CLAIRE)
    )
    assert response.status_code == 200
    body = response.json()
    professional = body["identity"]["professional"]
    assert (professional["rpps"], professional["lastName"], professional["activated"]) == (
        CLAIRE,
        "MARTIN",
        True,
    )
    assert body["identity"]["partnerId"] == sandbox.partner_id
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["role"] == "third-party"
    assert json.loads(claims["identity"]) == body["identity"]
    lifetime = claims["exp"] - datetime.now(UTC).timestamp()
    assert timedelta(hours=7) < timedelta(seconds=lifetime) <= timedelta(hours=8)


def test_auth_with_the_same_key_in_pkcs8_is_accepted(sandbox: Sandbox, api: httpx.Client) -> None:
    key = serialization.load_pem_private_key(sandbox.private_key_pem, password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    response = api.post("/v1/auth", json=signed_assertion(pkcs8, sandbox.partner_id, CLAIRE))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "date_time",
    [
        "{now:%Y-%m-%dT%H:%M:%S}Z",
        "{now:%Y-%m-%dT%H:%M:%S.%f}+00:00",
        "{paris:%Y-%m-%dT%H:%M:%S}+01:00",
        "{now:%Y-%m-%d %H:%M:%S}",
    ],
)
def test_auth_accepts_the_date_time_shapes_of_the_sample_clients(
    sandbox: Sandbox, api: httpx.Client, date_time: str
) -> None:
    now = datetime.now(UTC)
    text = date_time.format(now=now, paris=now + timedelta(hours=1))
    body = signed_assertion(sandbox.private_key_pem, sandbox.partner_id, CLAIRE, text)
    assert api.post("/v1/auth", json=body).status_code == 200


def test_a_forged_signature_is_refused(sandbox: Sandbox, api: httpx.Client) -> None:
    body = signed_assertion(sandbox.private_key_pem, sandbox.partner_id, CLAIRE)
    body["rpps"] = "10100004562"  # signed for Claire, sent for Karim
    response = api.post("/v1/auth", json=body)
    assert response.status_code == 401
    assert errors(response)[0]["code"] == "invalid_signature"


def test_a_signature_from_another_key_is_refused(
    sandbox: Sandbox, api: httpx.Client, tmp_path
) -> None:
    other = Sandbox(tmp_path / "other")
    body = signed_assertion(other.private_key_pem, sandbox.partner_id, CLAIRE)
    assert api.post("/v1/auth", json=body).status_code == 401


@pytest.mark.parametrize("minutes", [-6, 6])
def test_an_assertion_more_than_five_minutes_off_is_refused(
    sandbox: Sandbox, api: httpx.Client, minutes: int
) -> None:
    moment = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
    body = signed_assertion(sandbox.private_key_pem, sandbox.partner_id, CLAIRE, moment)
    response = api.post("/v1/auth", json=body)
    assert response.status_code == 401
    assert errors(response)[0] == {
        "code": "clock_skew",
        "message": "dateTime is more than 5 minutes away from now.",
        "field": "dateTime",
    }


def test_an_unknown_rpps_gets_404_at_auth(sandbox: Sandbox, api: httpx.Client) -> None:
    body = signed_assertion(sandbox.private_key_pem, sandbox.partner_id, UNKNOWN)
    response = api.post("/v1/auth", json=body)
    assert response.status_code == 404
    assert errors(response)[0]["code"] == "professional_not_found"


def test_a_deactivated_professional_gets_a_token_marked_not_activated(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    body = signed_assertion(sandbox.private_key_pem, sandbox.partner_id, SOPHIE)
    response = api.post("/v1/auth", json=body)
    assert response.status_code == 200
    assert response.json()["identity"]["professional"]["activated"] is False


def test_the_staging_test_number_is_known_and_activated(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    body = signed_assertion(sandbox.private_key_pem, sandbox.partner_id, TEST_RPPS)
    assert api.post("/v1/auth", json=body).json()["identity"]["professional"]["activated"]


def test_calls_without_a_token_are_refused(api: httpx.Client) -> None:
    response = api.get("/drugbase/v1/drugs", params={"q": "doliprane"})
    assert response.status_code == 401
    assert errors(response)[0]["code"] == "missing_token"


def test_an_expired_token_is_refused(sandbox: Sandbox, api: httpx.Client) -> None:
    identity = {"professional": {"rpps": CLAIRE}, "partnerId": sandbox.partner_id}
    token = jwt.encode(
        {
            "exp": int((datetime.now(UTC) - timedelta(minutes=1)).timestamp()),
            "identity": json.dumps(identity),
            "role": "third-party",
        },
        sandbox.app.partner.token_secret,
        algorithm="HS256",
    )
    response = api.get(
        "/drugbase/v1/drugs",
        params={"q": "doliprane"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401
    assert errors(response)[0]["code"] == "token_expired"


def test_a_token_signed_with_another_secret_is_refused(sandbox: Sandbox, api: httpx.Client) -> None:
    identity = {"professional": {"rpps": CLAIRE}, "partnerId": sandbox.partner_id}
    forged = jwt.encode(
        {
            "exp": int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
            "identity": json.dumps(identity),
            "role": "third-party",
        },
        "guessed-secret-of-32-bytes-at-least!",
        algorithm="HS256",
    )
    response = api.get(
        "/drugbase/v1/drugs",
        params={"q": "doliprane"},
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert response.status_code == 401
    assert errors(response)[0]["code"] == "invalid_token"


def test_another_partner_id_is_refused(sandbox: Sandbox, api: httpx.Client) -> None:
    body = signed_assertion(sandbox.private_key_pem, "00000000-0000-4000-8000-000000000000", CLAIRE)
    response = api.post("/v1/auth", json=body)
    assert response.status_code == 401
    assert errors(response)[0]["code"] == "unknown_partner"
