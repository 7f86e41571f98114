"""A signed prescription as a FHIR R4 Bundle, validated with fhir.resources (R4B models, the same
as R4 for these resources): every kind of line keeps what the host record needs."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest

from prescriptions.fhir.bundle import IDNPS_SYSTEM, prescription_bundle
from prescriptions.models import Prescription, PrescriptionLine
from tests.factories import PatientFactory

from ..conftest import registered_prescription

pytestmark = pytest.mark.django_db


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_a_registered_prescription_round_trips_through_fhir_validation(
    ordoclic: Any, martin: Any
) -> None:
    patient = PatientFactory(identity_status="qualified", ins_oid="1.2.250.1.213.1.4.8")
    prescription = registered_prescription(user=martin, patient=patient)
    # Every kind of line: renewals, non-substitutable with its reason, ALD, a narcotic's
    # quantity in letters, a line in DCI.
    first, second = prescription.lines.order_by("position")
    PrescriptionLine.objects.filter(pk=first.pk).update(
        renewals=2, non_substitutable=True, non_substitutable_reason="CIF", quantity="2 boîtes"
    )
    PrescriptionLine.objects.filter(pk=second.pk).update(
        ald=True,
        quantity="vingt-huit (28) comprimés",
        drug_code_system="dci",
        drug_code="phloroglucinol",
        dosage="80 mg",
        label="phloroglucinol 80 mg, comprimé",
    )
    prescription = Prescription.objects.get(pk=prescription.pk)

    bundle = prescription_bundle(prescription)
    Bundle.model_validate(bundle)  # raises on anything FHIR R4 would refuse

    assert bundle["identifier"]["value"] == prescription.number
    [patient_json] = resources(bundle, "Patient")
    assert patient_json["identifier"][0]["system"] == "urn:oid:1.2.250.1.213.1.4.8"
    assert patient_json["identifier"][0]["value"] == patient.nir
    [practitioner] = resources(bundle, "Practitioner")
    assert {"system": IDNPS_SYSTEM, "value": f"8{martin.practitioner.rpps}"}.items() <= (
        practitioner["identifier"][0].items()
    )
    requests = resources(bundle, "MedicationRequest")
    assert len(requests) == 2
    renewed, ald = (MedicationRequest.model_validate(r) for r in requests)
    assert renewed.dispenseRequest.numberOfRepeatsAllowed == 2
    assert renewed.substitution.allowedBoolean is False
    assert renewed.substitution.reason.text == "CIF"
    assert renewed.dispenseRequest.quantity.value == 2
    assert renewed.dosageInstruction[0].text == first.posology_text
    assert renewed.groupIdentifier.value == prescription.number
    assert renewed.requester.reference.startswith("PractitionerRole/")
    assert ald.extension[0].valueBoolean is True
    assert ald.substitution.allowedBoolean is True
    assert ald.dispenseRequest.quantity.value == 28  # the narcotic's figure, not its letters
    assert ald.medicationCodeableConcept.text == "phloroglucinol 80 mg, comprimé"
    assert not ald.medicationCodeableConcept.coding  # a DCI line names no product


def test_an_unqualified_identity_sends_no_ins_and_a_cancelled_one_says_so(
    ordoclic: Any, martin: Any
) -> None:
    prescription = registered_prescription(
        user=martin, patient=PatientFactory(identity_status="provisional")
    )
    Prescription.objects.filter(pk=prescription.pk).update(status="cancelled")
    bundle = prescription_bundle(Prescription.objects.get(pk=prescription.pk))
    Bundle.model_validate(bundle)
    [patient_json] = resources(bundle, "Patient")
    assert "identifier" not in patient_json
    assert {r["status"] for r in resources(bundle, "MedicationRequest")} == {"cancelled"}
