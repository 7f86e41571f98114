"""One contract suite, run against the sandbox in this process and served over HTTP: what the
client expects of the API is what the sandbox (our stand-in for Ordoclic) does."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client
from ordoclic_client.contract import (
    AcknowledgedAlert,
    AlertLevel,
    AlertType,
    AnalysisAlert,
    AnalysisRequest,
    Drug,
    DrugRef,
    LineIn,
    PatientContext,
    PatientIdentity,
    PrescriptionCreate,
    PrescriptionLineIn,
    PrescriptionState,
    Sex,
)
from ordoclic_client.results import Ok, Rejected, Result, Unavailable, UnavailableKind

MARTIN = "10100001238"
DURAND = "10100007896"
UNKNOWN = "10100009991"

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    client: OrdoclicClient
    control: Callable[[], httpx.Client]  # the sandbox's /_sandbox/ control API

    def fault(self, mode: str) -> None:
        with self.control() as control:
            control.post("/_sandbox/faults", json={"mode": mode}).raise_for_status()


@pytest.fixture(params=["in_process", pytest.param("served", marks=pytest.mark.served)])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "in_process":
        sandbox = request.getfixturevalue("sandbox")
        http = build_http_client(base_url="http://sandbox", transport=sandbox.transport)
        credentials = PartnerCredentials(
            partner_id=sandbox.partner_id, private_key_pem=sandbox.private_key_pem
        )
        control = sandbox.control
    else:
        served = request.getfixturevalue("served_sandbox")
        http = build_http_client(base_url=served.base_url, read_timeout=10.0)
        credentials = PartnerCredentials.from_key_file(
            partner_id=served.partner_id, private_key_path=served.private_key_path
        )
        control = served.control
    client = OrdoclicClient(http=http, credentials=credentials)
    yield Target(client=client, control=control)
    client.close()


@pytest.fixture
def api(target: Target) -> OrdoclicClient:
    return target.client


def ok(result: Result[T]) -> T:
    assert isinstance(result, Ok), result
    return result.value


def drug_with(api: OrdoclicClient, substance: str) -> Drug:
    page = ok(api.drug_search(rpps=MARTIN, text=substance, per_page=50))
    for drug in page.items:
        if any(substance in s.name.casefold() for s in drug.substances):
            return drug
    raise AssertionError(f"no drug with {substance} in the sandbox catalogue")


def line(line_id: str, drug: Drug, dose: str = "1") -> PrescriptionLineIn:
    return PrescriptionLineIn(
        line_id=line_id,
        drug=DrugRef(code=drug.cis),
        dose=Decimal(dose),
        unit="comprimé",
        frequency_count=1,
        duration_value=7,
        label=drug.label,
        posology_text="1 comprimé par jour pendant 7 jours",
    )


def patient() -> PatientIdentity:
    return PatientIdentity(
        last_name="ESSAI",
        first_name="Contrat",
        birth_date=date(1961, 5, 14),
        sex=Sex.MALE,
        weight_kg=Decimal(80),
    )


def create(lines: list[PrescriptionLineIn], **overrides: Any) -> PrescriptionCreate:
    fields: dict[str, Any] = {
        "external_id": str(uuid.uuid4()),
        "patient": patient(),
        "lines": lines,
        "software_version": "0.1.0",
        "issued_at": datetime.now(UTC),
    }
    return PrescriptionCreate(**(fields | overrides))


def test_auth_acts_for_the_professional(api: OrdoclicClient) -> None:
    answer = ok(api.auth(rpps=MARTIN))

    assert answer.identity.professional.rpps == MARTIN
    assert answer.identity.professional.activated is True
    assert answer.identity.partner_id == api.partner_id


def test_validate_resolves_known_professionals_and_refuses_unknown_ones(
    api: OrdoclicClient,
) -> None:
    martin = ok(api.professional_validate(rpps=MARTIN))
    durand = ok(api.professional_validate(rpps=MARTIN, professional_rpps=DURAND))
    unknown = api.professional_validate(rpps=MARTIN, professional_rpps=UNKNOWN)

    assert (martin.rpps, martin.activated) == (MARTIN, True)
    assert (durand.rpps, durand.activated) == (DURAND, False)
    assert isinstance(unknown, Rejected)
    assert unknown.status == 404


def test_drug_search_answers_the_list_envelope(api: OrdoclicClient) -> None:
    page = ok(api.drug_search(rpps=MARTIN, text="doliprane", page=1, per_page=2))

    assert page.page == 1
    assert page.per_page == 2
    assert page.total_count >= len(page.items) >= 1
    assert page.page_count >= 1
    assert all(item.cis and item.label for item in page.items)
    found = ok(api.drug_get(rpps=MARTIN, cis=page.items[0].cis))
    assert found.cis == page.items[0].cis


def test_simvastatine_with_clarithromycine_is_a_contraindication(api: OrdoclicClient) -> None:
    statin, macrolide = drug_with(api, "simvastatine"), drug_with(api, "clarithromycine")
    request = AnalysisRequest(
        patient=PatientContext(birth_date=date(1961, 5, 14), sex=Sex.MALE),
        lines=[
            LineIn(line_id="l1", drug=DrugRef(code=statin.cis), dose=Decimal(1), unit="comprimé"),
            LineIn(
                line_id="l2", drug=DrugRef(code=macrolide.cis), dose=Decimal(1), unit="comprimé"
            ),
        ],
    )

    result = ok(api.prescription_analyse(rpps=MARTIN, request=request))

    interactions = [a for a in result.alerts if a.type == AlertType.DRUG_INTERACTION]
    assert [a.level for a in interactions] == [AlertLevel.CI]
    assert sorted(interactions[0].line_ids) == ["l1", "l2"]


def test_registration_is_idempotent_per_key_and_refuses_a_reused_key(
    api: OrdoclicClient,
) -> None:
    paracetamol = drug_with(api, "paracétamol")
    request = create([line("l1", paracetamol)])
    key = str(uuid.uuid4())

    first = ok(api.prescription_create(rpps=MARTIN, request=request, idempotency_key=key))
    replay = ok(api.prescription_create(rpps=MARTIN, request=request, idempotency_key=key))
    other = api.prescription_create(
        rpps=MARTIN, request=create([line("l1", paracetamol, "2")]), idempotency_key=key
    )

    assert first.status == PrescriptionState.REGISTERED
    assert first.number.isalnum()
    assert first.number == first.number.upper()
    assert replay.number == first.number
    assert replay.id == first.id
    assert isinstance(other, Rejected)
    assert other.status == 409


def test_unacknowledged_contraindications_block_registration_until_decided(
    api: OrdoclicClient,
) -> None:
    lines = [
        line("l1", drug_with(api, "simvastatine")),
        line("l2", drug_with(api, "clarithromycine")),
    ]
    request = create(lines)

    refused = api.prescription_create(
        rpps=MARTIN, request=request, idempotency_key=str(uuid.uuid4())
    )

    assert isinstance(refused, Rejected)
    assert refused.status == 422
    alerts = refused.details["alerts"]
    assert isinstance(alerts, list)
    assert all(isinstance(a, AnalysisAlert) for a in alerts)
    assert {a.level for a in alerts} == {AlertLevel.CI}
    decided = request.model_copy(
        update={
            "acknowledged_alerts": [
                AcknowledgedAlert(alert_id=a.id, level=a.level, reason="Bénéfice supérieur")
                for a in alerts
            ]
        }
    )
    registered = ok(
        api.prescription_create(rpps=MARTIN, request=decided, idempotency_key=str(uuid.uuid4()))
    )
    assert registered.external_id == request.external_id


def test_find_status_and_cancel(api: OrdoclicClient) -> None:
    request = create([line("l1", drug_with(api, "paracétamol"))])
    registered = ok(
        api.prescription_create(rpps=MARTIN, request=request, idempotency_key=str(uuid.uuid4()))
    )

    found = ok(api.prescription_find_by_external_id(rpps=MARTIN, external_id=request.external_id))
    missing = ok(api.prescription_find_by_external_id(rpps=MARTIN, external_id=str(uuid.uuid4())))
    got = ok(api.prescription_get(rpps=MARTIN, prescription_id=registered.id))
    status = ok(api.prescription_status(rpps=MARTIN, prescription_id=registered.id))
    cancelled = ok(
        api.prescription_cancel(
            rpps=MARTIN, prescription_id=registered.id, reason="error", comment="test"
        )
    )
    after = ok(api.prescription_status(rpps=MARTIN, prescription_id=registered.id))

    assert found is not None
    assert found.number == registered.number
    assert missing is None
    assert got.qr_payload
    assert status.status == PrescriptionState.REGISTERED
    assert status.dispensing.status == "none"
    assert [entry.line_id for entry in status.dispensing.lines] == ["l1"]
    assert cancelled.status == PrescriptionState.CANCELLED
    assert after.status == PrescriptionState.CANCELLED


def test_a_deactivated_professional_cannot_register(api: OrdoclicClient) -> None:
    request = create([line("l1", drug_with(api, "paracétamol"))])

    result = api.prescription_create(rpps=DURAND, request=request, idempotency_key="k-durand")

    assert isinstance(result, Rejected)
    assert result.status == 403


def test_an_unknown_prescription_is_not_found(api: OrdoclicClient) -> None:
    result = api.prescription_get(rpps=MARTIN, prescription_id=str(uuid.uuid4()))

    assert isinstance(result, Rejected)
    assert result.status == 404


def test_a_registration_whose_answer_was_lost_is_found_and_not_duplicated(target: Target) -> None:
    api = target.client
    request = create([line("l1", drug_with(api, "paracétamol"))])
    key = str(uuid.uuid4())
    ok(api.auth(rpps=MARTIN))  # the token first: the fault drops every write's answer
    target.fault("commit_then_drop")

    lost = api.prescription_create(rpps=MARTIN, request=request, idempotency_key=key)
    target.fault("ok")
    found = ok(api.prescription_find_by_external_id(rpps=MARTIN, external_id=request.external_id))
    again = ok(api.prescription_create(rpps=MARTIN, request=request, idempotency_key=key))

    assert isinstance(lost, Unavailable)
    assert lost.sent is True
    assert found is not None
    assert again.number == found.number
    with target.control() as control:
        ledger = control.get("/_sandbox/ledger").json()["items"]
    [entry] = [e for e in ledger if e["externalId"] == request.external_id]
    assert entry["registered"] == 1


def test_a_hanging_api_is_a_read_timeout_that_may_have_been_sent(target: Target) -> None:
    api = target.client.with_timeout(read=0.5)
    ok(api.auth(rpps=MARTIN))
    target.fault("hang")

    result = api.drug_search(rpps=MARTIN, text="doliprane")

    target.fault("ok")
    assert result == Unavailable("read timeout", sent=True, kind=UnavailableKind.TIMEOUT)


def test_an_api_that_is_down_is_unavailable(target: Target) -> None:
    target.fault("down")

    result = target.client.drug_search(rpps=MARTIN, text="doliprane")

    assert isinstance(result, Unavailable)
    assert result.reason == "server error (HTTP 503)"
