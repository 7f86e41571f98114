"""What the analysis and the registration are sent: the patient's state as the analysis reads
it, a fingerprint that tells when the record changed, and only what the prescriber decided."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from ordoclic_client import contract
from prescriptions.drafting import payloads
from prescriptions.drafting.selectors import analysis_request_for, current_treatment_lines
from prescriptions.models import AlertDecision, Decision, Prescription
from tests.factories import AllergyFactory

from .test_services import SIMVA, add, draft_for

pytestmark = pytest.mark.django_db


def request_for(prescription: Prescription) -> contract.AnalysisRequest:
    prescription = Prescription.objects.select_related("patient").get(pk=prescription.pk)
    return analysis_request_for(
        prescription=prescription,
        lines=list(prescription.lines.all()),
        running=current_treatment_lines(patient_id=prescription.patient_id, exclude=prescription),
    )


def test_the_analysis_reads_the_patients_state_and_each_line(prescriber: Any, patient: Any) -> None:
    patient.weight_kg = 21
    patient.save()
    AllergyFactory(patient=patient, substance="amoxicilline")
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir 1 mois")
    request = request_for(prescription)
    assert request.patient.birth_date == patient.birth_date
    assert request.patient.weight_kg == 21
    assert request.patient.allergies == ["amoxicilline"]
    [line] = request.lines
    assert (line.drug.code, line.dose, line.frequency_count) == ("69094525", 1, 1)


def test_the_fingerprint_follows_the_record_not_the_order_it_is_read_in(
    prescriber: Any, patient: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    AllergyFactory(patient=patient, substance="pénicilline")
    AllergyFactory(patient=patient, substance="aspirine")
    before = payloads.analysis_fingerprint(request_for(prescription))
    shuffled = request_for(prescription)
    shuffled.patient.allergies.reverse()
    assert payloads.analysis_fingerprint(shuffled) == before
    AllergyFactory(patient=patient, substance="codéine")
    assert payloads.analysis_fingerprint(request_for(prescription)) != before


def test_the_registration_acknowledges_only_the_alerts_maintained(
    prescriber: Any, patient: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    decisions = [
        AlertDecision(ordoclic_alert_id="kept", level="CI", decision=Decision.MAINTAIN, reason="r"),
        AlertDecision(ordoclic_alert_id="changed", level="PE", decision=Decision.MODIFY),
    ]
    prescription = Prescription.objects.select_related("patient").get(pk=prescription.pk)
    request = payloads.registration_request(
        prescription=prescription,
        lines=prescription.lines.all(),
        decisions=decisions,
        issued_at=timezone.now(),
    )
    assert [a.alert_id for a in request.acknowledged_alerts] == ["kept"]
    assert request.external_id == str(prescription.external_id)
    # The INS goes only with a qualified identity.
    assert (request.patient.ins != "") == (patient.identity_status == "qualified")
