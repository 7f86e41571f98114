"""Every HTTP exchange of the client and every way it can fail, pinned with respx."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from ordoclic_client import OrdoclicClient
from ordoclic_client.contract import (
    AlertLevel,
    AnalysisAlert,
    AnalysisRequest,
    DrugRef,
    LineIn,
    PatientContext,
    PatientIdentity,
    PrescriptionCreate,
    PrescriptionLineIn,
    Sex,
)
from ordoclic_client.results import FieldError, Ok, Rejected, Unavailable, UnavailableKind

from .conftest import PROFESSIONAL_ID, RPPS

PRESCRIPTION_ID = "7c1f6b1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b"
EXTERNAL_ID = "2f0e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"


def registered(**overrides: Any) -> dict[str, Any]:
    return {
        "id": PRESCRIPTION_ID,
        "number": "RX7QK2M9LPA4",
        "externalId": EXTERNAL_ID,
        "qrPayload": "ORDO:RX7QK2M9LPA4",
        "status": "registered",
        "createdAt": "2026-11-27T15:00:00.123456Z",
        "dispensing": {"status": "none", "lines": []},
    } | overrides


def prescription() -> PrescriptionCreate:
    return PrescriptionCreate(
        external_id=EXTERNAL_ID,
        patient=PatientIdentity(
            last_name="DUPONT", first_name="Jeanne", birth_date=date(1950, 3, 2), sex=Sex.FEMALE
        ),
        lines=[
            PrescriptionLineIn(
                line_id="l1",
                drug=DrugRef(code="60234100"),
                dose=Decimal(1),
                unit="comprimé",
                frequency_count=3,
                label="DOLIPRANE 1000 mg, comprimé",
                posology_text="1 comprimé 3 fois par jour pendant 5 jours",
            )
        ],
        software_version="0.1.0",
        issued_at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
    )


def analysis_request() -> AnalysisRequest:
    lines = [
        LineIn(line_id="l1", drug=DrugRef(code="60234100"), dose=Decimal(1), unit="comprimé"),
    ]
    return AnalysisRequest(patient=PatientContext(birth_date=date(1950, 3, 2)), lines=lines)


ALERT = {
    "id": "ddi-simvastatine-clarithromycine-l1-l2",
    "type": "drug_interaction",
    "level": "CI",
    "title": "Simvastatine + clarithromycine",
    "message": "Risque majoré de rhabdomyolyse.",
    "lineIds": ["l1", "l2"],
}


# --- requests ------------------------------------------------------------------------------------


def test_drug_search_sends_the_query_and_reads_the_envelope(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    route = api.get("/drugbase/v1/drugs").mock(
        return_value=httpx.Response(
            200,
            json={
                "page": 2,
                "per_page": 5,
                "page_count": 3,
                "total_count": 12,
                "items": [{"cis": "60234100", "label": "DOLIPRANE 1000 mg, comprimé", "new": 1}],
            },
        )
    )

    result = client.drug_search(rpps=RPPS, text="doli prane", page=2, per_page=5)

    assert isinstance(result, Ok)
    assert result.value.total_count == 12
    assert result.value.items[0].label == "DOLIPRANE 1000 mg, comprimé"
    params = route.calls.last.request.url.params
    assert dict(params) == {"q": "doli prane", "page": "2", "per_page": "5"}
    assert route.calls.last.request.headers["Accept"] == "application/json"


def test_drug_by_code_gives_none_when_no_drug_has_it(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    empty = {"page": 1, "per_page": 20, "page_count": 0, "total_count": 0, "items": []}
    route = api.get("/drugbase/v1/drugs").mock(return_value=httpx.Response(200, json=empty))

    assert client.drug_by_code(rpps=RPPS, code="3400935955838") == Ok(None)
    assert route.calls.last.request.url.params["code"] == "3400935955838"


def test_analysis_posts_camel_case_json(api: respx.MockRouter, client: OrdoclicClient) -> None:
    route = api.post("/v1/prescriptions/analysis").mock(
        return_value=httpx.Response(
            200,
            json={
                "analysisId": "a1",
                "analysedAt": "2026-11-27T15:00:00.123456Z",
                "alerts": [ALERT],
            },
        )
    )

    result = client.prescription_analyse(rpps=RPPS, request=analysis_request())

    assert isinstance(result, Ok)
    assert result.value.alerts[0].level is AlertLevel.CI
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.content)
    assert body["patient"]["birthDate"] == "1950-03-02"
    assert body["lines"][0]["lineId"] == "l1"
    assert body["lines"][0]["drug"] == {"codeSystem": "cis", "code": "60234100"}


def test_create_sends_the_idempotency_key_on_every_attempt(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    route = api.post("/v1/prescriptions").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(401, json={"errors": []}),  # the token expired meanwhile
            httpx.Response(201, json=registered()),
        ]
    )
    key = str(uuid.uuid4())

    first = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key=key)
    second = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key=key)

    assert isinstance(first, Unavailable)
    assert isinstance(second, Ok)
    assert second.value.number == "RX7QK2M9LPA4"
    assert [c.request.headers["Idempotency-Key"] for c in route.calls] == [key] * 3
    bodies = {c.request.content for c in route.calls}
    assert len(bodies) == 1
    assert json.loads(bodies.pop())["externalId"] == EXTERNAL_ID


def test_find_by_external_id(api: respx.MockRouter, client: OrdoclicClient) -> None:
    envelope = {"page": 1, "per_page": 20, "page_count": 1, "total_count": 1}
    route = api.get("/v1/prescriptions").mock(
        side_effect=[
            httpx.Response(200, json=envelope | {"items": [registered()]}),
            httpx.Response(200, json=envelope | {"items": [], "total_count": 0}),
        ]
    )

    found = client.prescription_find_by_external_id(rpps=RPPS, external_id=EXTERNAL_ID)
    missing = client.prescription_find_by_external_id(rpps=RPPS, external_id="other")

    assert isinstance(found, Ok)
    assert found.value is not None
    assert found.value.id == PRESCRIPTION_ID
    assert missing == Ok(None)
    assert route.calls[0].request.url.params["externalId"] == EXTERNAL_ID


def test_cancel_posts_the_reason(api: respx.MockRouter, client: OrdoclicClient) -> None:
    route = api.post(f"/v1/prescriptions/{PRESCRIPTION_ID}/cancel").mock(
        return_value=httpx.Response(
            200,
            json=registered(status="cancelled", cancelledAt="2026-11-27T16:00:00Z"),
        )
    )

    result = client.prescription_cancel(
        rpps=RPPS, prescription_id=PRESCRIPTION_ID, reason="error", comment="doublon"
    )

    assert isinstance(result, Ok)
    assert result.value.status == "cancelled"
    assert json.loads(route.calls.last.request.content) == {"reason": "error", "comment": "doublon"}


def test_status_and_get(api: respx.MockRouter, client: OrdoclicClient) -> None:
    api.get(f"/v1/prescriptions/{PRESCRIPTION_ID}").mock(
        return_value=httpx.Response(200, json=registered())
    )
    api.get(f"/v1/prescriptions/{PRESCRIPTION_ID}/status").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": PRESCRIPTION_ID,
                "number": "RX7QK2M9LPA4",
                "status": "registered",
                "dispensing": {
                    "status": "partial",
                    "lines": [{"lineId": "l1", "status": "partial"}],
                },
                "updatedAt": "2026-11-27T16:00:00.000001Z",
            },
        )
    )

    got = client.prescription_get(rpps=RPPS, prescription_id=PRESCRIPTION_ID)
    status = client.prescription_status(rpps=RPPS, prescription_id=PRESCRIPTION_ID)

    assert isinstance(got, Ok)
    assert got.value.number == "RX7QK2M9LPA4"
    assert isinstance(status, Ok)
    assert status.value.dispensing.lines[0].status == "partial"


def test_professional_validate_reads_the_professional(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    route = api.post("/v1/professionals/validate").mock(
        return_value=httpx.Response(
            200,
            json={"id": PROFESSIONAL_ID, "rpps": "10100004562", "activated": True, "x": {}},
        )
    )

    result = client.professional_validate(rpps=RPPS, professional_rpps="10100004562")

    assert isinstance(result, Ok)
    assert str(result.value.id) == PROFESSIONAL_ID
    assert json.loads(route.calls.last.request.content) == {"rpps": "10100004562"}


def test_professional_and_entity_calls(api: respx.MockRouter, client: OrdoclicClient) -> None:
    professional = {"id": PROFESSIONAL_ID, "rpps": RPPS, "activated": False}
    entity_id = "9e8d7c6b-5a49-4837-a625-140f0e0d0c0b"
    api.get(f"/v1/professionals/{RPPS}").mock(return_value=httpx.Response(200, json=professional))
    deactivate = api.post(f"/v1/professionals/{PROFESSIONAL_ID}/deactivate").mock(
        return_value=httpx.Response(200, json=professional)
    )
    api.post(f"/v1/professionals/{PROFESSIONAL_ID}/activate").mock(
        return_value=httpx.Response(200, json=professional | {"activated": True})
    )
    entities = api.post("/v1/entities").mock(
        return_value=httpx.Response(
            201, json={"id": entity_id, "name": "SAMU 75", "admins": [PROFESSIONAL_ID]}
        )
    )

    assert isinstance(client.professional_get(rpps=RPPS, ref=RPPS), Ok)
    off = client.professional_deactivate(rpps=RPPS, professional_id=PROFESSIONAL_ID, reason="left")
    on = client.professional_activate(rpps=RPPS, professional_id=PROFESSIONAL_ID)
    entity = client.entity_create(rpps=RPPS, name="SAMU 75", admins=[PROFESSIONAL_ID])

    assert isinstance(off, Ok)
    assert off.value.activated is False
    assert isinstance(on, Ok)
    assert on.value.activated is True
    assert json.loads(deactivate.calls.last.request.content) == {"reason": "left"}
    assert isinstance(entity, Ok)
    assert str(entity.value.id) == entity_id
    assert json.loads(entities.calls.last.request.content) == {
        "name": "SAMU 75",
        "admins": [PROFESSIONAL_ID],
    }


# --- refusals --------------------------------------------------------------------------------


def test_400_carries_the_field_errors(api: respx.MockRouter, client: OrdoclicClient) -> None:
    api.post("/v1/prescriptions/analysis").mock(
        return_value=httpx.Response(
            400,
            json={
                "errors": [
                    {"code": "required", "message": "Dose manquante", "field": "lines[0].dose"},
                    {"message": "Unité inconnue"},
                ]
            },
        )
    )

    result = client.prescription_analyse(rpps=RPPS, request=analysis_request())

    assert result == Rejected(
        status=400,
        errors=(
            FieldError("Dose manquante", code="required", field="lines[0].dose"),
            FieldError("Unité inconnue"),
        ),
    )


@pytest.mark.parametrize("status", [403, 404, 409, 410])
def test_other_4xx_are_rejected(api: respx.MockRouter, client: OrdoclicClient, status: int) -> None:
    route = api.get(f"/v1/prescriptions/{PRESCRIPTION_ID}").mock(
        return_value=httpx.Response(status, json={"errors": [{"message": "Non"}]})
    )

    result = client.prescription_get(rpps=RPPS, prescription_id=PRESCRIPTION_ID)

    assert result == Rejected(status=status, errors=(FieldError("Non"),))
    assert route.call_count == 1  # never retried


def test_a_4xx_with_an_html_body_is_still_rejected(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    api.get(f"/v1/prescriptions/{PRESCRIPTION_ID}").mock(
        return_value=httpx.Response(404, text="<html>Not Found</html>")
    )

    result = client.prescription_get(rpps=RPPS, prescription_id=PRESCRIPTION_ID)

    assert result == Rejected(status=404)
    assert result.message == "HTTP 404"


def test_idempotency_conflict_is_rejected(api: respx.MockRouter, client: OrdoclicClient) -> None:
    api.post("/v1/prescriptions").mock(
        return_value=httpx.Response(
            409, json={"errors": [{"code": "idempotency_conflict", "message": "Clé réutilisée"}]}
        )
    )

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert isinstance(result, Rejected)
    assert result.status == 409
    assert result.errors[0].code == "idempotency_conflict"


def test_422_carries_the_unacknowledged_alerts(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    api.post("/v1/prescriptions").mock(
        return_value=httpx.Response(
            422,
            json={
                "errors": [{"code": "unacknowledged_alerts", "message": "Alertes non décidées"}],
                "alerts": [ALERT],
            },
        )
    )

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert isinstance(result, Rejected)
    assert result.status == 422
    alerts = result.details["alerts"]
    assert isinstance(alerts, list)
    assert alerts == [AnalysisAlert.model_validate(ALERT)]


def test_422_with_unreadable_alerts_is_not_taken_as_a_plain_refusal(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    broken = dict(ALERT, level="VERY_BAD")
    api.post("/v1/prescriptions").mock(
        return_value=httpx.Response(422, json={"errors": [], "alerts": [broken]})
    )

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert isinstance(result, Unavailable)
    assert "alerts" in result.reason


# --- unavailability ----------------------------------------------------------------------------


def test_429_with_retry_after_seconds(api: respx.MockRouter, client: OrdoclicClient) -> None:
    api.get("/drugbase/v1/drugs").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "12"})
    )

    result = client.drug_search(rpps=RPPS, text="doli")

    assert result == Unavailable(
        "rate limited (HTTP 429)", retry_after=12.0, sent=False, kind=UnavailableKind.RATE_LIMITED
    )


def test_429_with_retry_after_as_an_http_date(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    api.get("/drugbase/v1/drugs").mock(
        return_value=httpx.Response(429, headers={"Retry-After": format_datetime(later, True)})
    )

    result = client.drug_search(rpps=RPPS, text="doli")

    assert isinstance(result, Unavailable)
    assert result.retry_after is not None
    assert 100 < result.retry_after <= 120


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable_and_may_have_been_processed(
    api: respx.MockRouter, client: OrdoclicClient, status: int
) -> None:
    route = api.post("/v1/prescriptions").mock(return_value=httpx.Response(status))

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert result == Unavailable(
        f"server error (HTTP {status})", sent=True, kind=UnavailableKind.SERVER_ERROR
    )
    assert route.call_count == 1


def test_503_passes_retry_after_on(api: respx.MockRouter, client: OrdoclicClient) -> None:
    api.get("/drugbase/v1/drugs").mock(
        return_value=httpx.Response(503, headers={"Retry-After": "30"})
    )

    result = client.drug_search(rpps=RPPS, text="doli")

    assert isinstance(result, Unavailable)
    assert result.retry_after == 30.0


def test_a_read_timeout_may_have_been_sent(api: respx.MockRouter, client: OrdoclicClient) -> None:
    route = api.post("/v1/prescriptions").mock(side_effect=httpx.ReadTimeout("slow"))

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert result == Unavailable("read timeout", sent=True, kind=UnavailableKind.TIMEOUT)
    assert route.call_count == 1


def test_a_connect_timeout_was_not_sent(api: respx.MockRouter, client: OrdoclicClient) -> None:
    route = api.post("/v1/prescriptions").mock(side_effect=httpx.ConnectTimeout("no route"))

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert result == Unavailable("connect timeout", sent=False, kind=UnavailableKind.CONNECT)
    assert route.call_count == 1


def test_a_dropped_connection_after_sending_may_have_been_sent(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    api.post("/v1/prescriptions").mock(
        side_effect=httpx.RemoteProtocolError("Server disconnected without sending a response.")
    )

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert result == Unavailable(
        "connection dropped", sent=True, kind=UnavailableKind.CONNECTION_LOST
    )


def test_a_refused_connection_is_retried_once(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    route = api.post("/v1/prescriptions").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json=registered())]
    )

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert isinstance(result, Ok)
    assert route.call_count == 2


def test_a_connection_refused_twice_is_unavailable_and_not_sent(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    route = api.post("/v1/prescriptions").mock(side_effect=httpx.ConnectError("refused"))

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert result == Unavailable("connection refused", sent=False, kind=UnavailableKind.CONNECT)
    assert route.call_count == 2


def test_auth_endpoint_down_makes_the_call_unavailable(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    api["auth"].mock(side_effect=httpx.ConnectError("refused"))
    drugs = api.get("/drugbase/v1/drugs")

    result = client.drug_search(rpps=RPPS, text="doli")

    assert result == Unavailable("connection refused", sent=False, kind=UnavailableKind.CONNECT)
    assert not drugs.called


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(200, text="<html>proxy error</html>"), "malformed response: not JSON"),
        (httpx.Response(200, content=b""), "malformed response: empty body"),
        (httpx.Response(200, json=[1, 2, 3]), "malformed response: unexpected Page[Drug]"),
        (
            httpx.Response(200, json={"page": "one", "items": {}}),
            "malformed response: unexpected Page[Drug]",
        ),
        (
            httpx.Response(
                200,
                json={
                    "page": 1,
                    "per_page": 1,
                    "page_count": 1,
                    "total_count": 1,
                    "items": [{"cis": 60234100}],
                },
            ),
            "malformed response: unexpected Page[Drug]",
        ),
        (httpx.Response(200, content=b"[" * 100_000), "malformed response: not JSON"),
        (
            httpx.Response(200, content=b" " * (5 * 1024 * 1024)),
            "malformed response: body too large",
        ),
    ],
    ids=["html", "empty", "list", "wrong-types", "wrong-item-type", "deep-nesting", "huge"],
)
def test_malformed_or_hostile_bodies_are_unavailable(
    api: respx.MockRouter, client: OrdoclicClient, response: httpx.Response, reason: str
) -> None:
    api.get("/drugbase/v1/drugs").mock(return_value=response)

    result = client.drug_search(rpps=RPPS, text="doli")

    assert isinstance(result, Unavailable)
    assert result.reason.startswith(reason)
    assert result.sent is True


def test_a_malformed_answer_does_not_quote_the_body(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    api.post("/v1/prescriptions").mock(
        return_value=httpx.Response(201, json=registered(number=None, patient="DUPONT Jeanne"))
    )

    result = client.prescription_create(rpps=RPPS, request=prescription(), idempotency_key="k")

    assert isinstance(result, Unavailable)
    assert "number" in result.reason
    assert "DUPONT" not in result.reason


def test_a_bug_in_a_transport_never_raises_out(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    api.get("/drugbase/v1/drugs").mock(side_effect=RuntimeError("boom"))

    result = client.drug_search(rpps=RPPS, text="doli")

    assert isinstance(result, Unavailable)


def test_with_timeout_shortens_every_request_and_shares_the_token(
    api: respx.MockRouter, client: OrdoclicClient
) -> None:
    page = {"page": 1, "per_page": 20, "page_count": 0, "total_count": 0, "items": []}
    drugs = api.get("/drugbase/v1/drugs").mock(return_value=httpx.Response(200, json=page))
    budget = client.with_timeout(read=1.5)

    assert isinstance(budget.drug_search(rpps=RPPS, text="doli"), Ok)
    assert isinstance(client.drug_search(rpps=RPPS, text="doli"), Ok)

    auth_timeout = api["auth"].calls.last.request.extensions["timeout"]
    short, default = (c.request.extensions["timeout"] for c in drugs.calls)
    assert auth_timeout["read"] == short["read"] == 1.5
    assert short["connect"] == 1.0  # the client's own connect timeout was already shorter
    assert default["read"] == 2.0
    assert api["auth"].call_count == 1
