"""The signed assertion, the Bearer token's cache and its refresh, pinned with respx."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable

import httpx
import pytest
import respx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ordoclic_client import OrdoclicClient, PartnerCredentials, TokenCache
from ordoclic_client.models import AuthResponse
from ordoclic_client.results import Ok, Rejected, Unavailable, UnavailableKind
from tests.waiting import join_all

from .conftest import PARTNER_ID, RPPS, auth_answer, make_token, pem

DRUGS_PAGE = {"page": 1, "per_page": 20, "page_count": 0, "total_count": 0, "items": []}


def verify(public_key: rsa.RSAPublicKey, body: dict[str, str]) -> None:
    """What Ordoclic does: rebuild the compact JSON of the three fields and check ``sig``."""
    signed = json.dumps(
        {"partnerId": body["partnerId"], "rpps": body["rpps"], "dateTime": body["dateTime"]},
        separators=(",", ":"),
    ).encode()
    public_key.verify(base64.b64decode(body["sig"]), signed, padding.PKCS1v15(), hashes.SHA512())


@pytest.mark.parametrize(
    "key_format",
    [serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8],
    ids=["pkcs1", "pkcs8"],
)
def test_auth_sends_the_assertion_signed_with_the_partner_key(
    api: respx.MockRouter,
    make_client: Callable[..., OrdoclicClient],
    partner_key: rsa.RSAPrivateKey,
    key_format: serialization.PrivateFormat,
) -> None:
    credentials = PartnerCredentials(
        partner_id=PARTNER_ID, private_key_pem=pem(partner_key, key_format)
    )

    result = make_client(credentials=credentials).auth(rpps=RPPS)

    assert isinstance(result, Ok)
    assert result.value.identity.professional.rpps == RPPS
    request = api["auth"].calls.last.request
    raw = request.content.decode()
    assert raw.startswith('{"partnerId":"' + PARTNER_ID + '","rpps":"' + RPPS + '","dateTime":"')
    body = json.loads(raw)
    assert list(body) == ["partnerId", "rpps", "dateTime", "sig"]
    assert request.headers["Content-Type"] == "application/json"
    assert "origami" in request.headers["User-Agent"]
    verify(partner_key.public_key(), body)


def test_a_signature_from_another_key_does_not_verify(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    client.auth(rpps=RPPS)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(InvalidSignature):
        verify(other.public_key(), json.loads(api["auth"].calls.last.request.content))


def test_the_token_is_sent_as_bearer_and_reused_until_it_nears_expiry(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    token = make_token()
    api["auth"].mock(return_value=httpx.Response(200, json=auth_answer(token)))
    drugs = api.get("/drugbase/v1/drugs").mock(return_value=httpx.Response(200, json=DRUGS_PAGE))

    client.drug_search(rpps=RPPS, text="doli")
    client.drug_search(rpps=RPPS, text="dolip")

    assert api["auth"].call_count == 1
    assert [c.request.headers["Authorization"] for c in drugs.calls] == [f"Bearer {token}"] * 2


def test_a_token_about_to_expire_is_replaced_before_use(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    fresh = make_token()
    api["auth"].mock(
        side_effect=[
            httpx.Response(200, json=auth_answer(make_token(lifetime=30))),
            httpx.Response(200, json=auth_answer(fresh)),
        ]
    )
    drugs = api.get("/drugbase/v1/drugs").mock(return_value=httpx.Response(200, json=DRUGS_PAGE))

    client.drug_search(rpps=RPPS, text="doli")
    client.drug_search(rpps=RPPS, text="dolip")

    assert api["auth"].call_count == 2
    assert drugs.calls.last.request.headers["Authorization"] == f"Bearer {fresh}"


def test_tokens_are_kept_per_professional(api: respx.MockRouter, client: OrdoclicClient) -> None:
    api.get("/drugbase/v1/drugs").mock(return_value=httpx.Response(200, json=DRUGS_PAGE))

    client.drug_search(rpps=RPPS, text="doli")
    client.drug_search(rpps="10100004562", text="doli")
    client.drug_search(rpps=RPPS, text="doli")

    asked_for = [json.loads(c.request.content)["rpps"] for c in api["auth"].calls]
    assert asked_for == [RPPS, "10100004562"]


def test_a_401_refreshes_the_token_once_and_replays_the_request(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    stale, fresh = make_token(), make_token(lifetime=7200)
    api["auth"].mock(
        side_effect=[
            httpx.Response(200, json=auth_answer(stale)),
            httpx.Response(200, json=auth_answer(fresh)),
        ]
    )
    drugs = api.get("/drugbase/v1/drugs").mock(
        side_effect=[httpx.Response(401, json={"errors": []}), httpx.Response(200, json=DRUGS_PAGE)]
    )

    result = client.drug_search(rpps=RPPS, text="doli")

    assert isinstance(result, Ok)
    sent = [c.request.headers["Authorization"] for c in drugs.calls]
    assert sent == [f"Bearer {stale}", f"Bearer {fresh}"]


def test_a_second_401_is_rejected_without_looping(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    drugs = api.get("/drugbase/v1/drugs").mock(
        return_value=httpx.Response(
            401, json={"errors": [{"code": "token_invalid", "message": "Jeton refusé"}]}
        )
    )

    result = client.drug_search(rpps=RPPS, text="doli")

    assert isinstance(result, Rejected)
    assert result.status == 401
    assert result.message == "Jeton refusé"
    assert drugs.call_count == 2
    assert api["auth"].call_count == 2


def test_a_refused_assertion_is_rejected(api: respx.MockRouter, client: OrdoclicClient) -> None:
    api["auth"].mock(
        return_value=httpx.Response(
            401, json={"errors": [{"code": "bad_signature", "message": "Signature invalide"}]}
        )
    )
    drugs = api.get("/drugbase/v1/drugs")

    result = client.drug_search(rpps=RPPS, text="doli")

    assert isinstance(result, Rejected)
    assert result.status == 401
    assert result.errors[0].code == "bad_signature"
    assert not drugs.called


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", make_token(lifetime=0).rsplit(".", 2)[0] + ".e30.sig"],
    ids=["garbage", "no-exp-claim"],
)
def test_a_token_without_a_readable_expiry_is_unavailable(
    api: respx.MockRouter, client: OrdoclicClient, token: str
) -> None:
    api["auth"].mock(return_value=httpx.Response(200, json=auth_answer(token)))

    result = client.auth(rpps=RPPS)

    assert isinstance(result, Unavailable)
    assert result.reason.startswith("malformed response")


def test_concurrent_callers_fetch_one_token(api: respx.MockRouter, client: OrdoclicClient) -> None:
    api.get("/drugbase/v1/drugs").mock(return_value=httpx.Response(200, json=DRUGS_PAGE))
    results = []

    def search() -> None:
        results.append(client.drug_search(rpps=RPPS, text="doli"))

    threads = [threading.Thread(target=search) for _ in range(8)]
    for thread in threads:
        thread.start()
    join_all(threads, what="concurrent drug searches")

    assert all(isinstance(r, Ok) for r in results)
    assert api["auth"].call_count == 1


def test_token_cache_forgets_a_refused_token_only_once() -> None:
    cache = TokenCache(clock=lambda: 1000.0)
    cache.put((RPPS, None), "old", 1000.0 + 3600)
    cache.put((RPPS, None), "new", 1000.0 + 3600)

    cache.discard((RPPS, None), "old")  # another thread already replaced it

    assert cache.get((RPPS, None)) == "new"


def test_auth_answer_model_reads_the_identity() -> None:
    answer = AuthResponse.model_validate(auth_answer(activated=False) | {"extra": 1})

    assert answer.identity.professional.activated is False
    assert answer.identity.partner_id == PARTNER_ID


@pytest.mark.parametrize(
    ("auth_fails", "reason", "kind"),
    [
        (httpx.Response(503), "server error (HTTP 503)", UnavailableKind.SERVER_ERROR),
        (httpx.ReadTimeout("slow"), "read timeout", UnavailableKind.TIMEOUT),
        (
            httpx.Response(200, text="<html>"),
            "malformed response: not JSON",
            UnavailableKind.BAD_RESPONSE,
        ),
    ],
    ids=["5xx", "read-timeout", "malformed"],
)
def test_a_call_whose_token_cannot_be_had_was_not_sent(
    api: respx.MockRouter,
    client: OrdoclicClient,
    auth_fails: httpx.Response | Exception,
    reason: str,
    kind: UnavailableKind,
) -> None:
    api["auth"].mock(side_effect=[auth_fails])
    drugs = api.get("/drugbase/v1/drugs")

    result = client.drug_search(rpps=RPPS, text="doli")

    assert result == Unavailable(reason, sent=False, kind=kind)
    assert not drugs.called


def test_an_unusable_partner_key_is_said_plainly(
    api: respx.MockRouter, make_client: Callable[..., OrdoclicClient]
) -> None:
    broken = PartnerCredentials(partner_id=PARTNER_ID, private_key_pem=b"-----BEGIN nonsense")

    result = make_client(credentials=broken).drug_search(rpps=RPPS, text="doli")

    assert result == Unavailable(
        "the partner private key is unusable", sent=False, kind=UnavailableKind.CONFIGURATION
    )
    assert not api["auth"].called
