"""Our rows as the assumed Ordoclic contract wants them (analysis request, registration)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from ordoclic_client import contract
from origami.patients.models import CurrentTreatment, Patient
from origami.patients.posology import PosologyError, posology_parse

from ..models import AlertDecision, CodeSystem, Decision, Prescription, PrescriptionLine

_BREASTFEEDING = {
    "none": contract.Breastfeeding.NONE,
    "under_1_month": contract.Breastfeeding.UNDER_ONE_MONTH,
    "over_1_month": contract.Breastfeeding.OVER_ONE_MONTH,
}


def patient_context(patient: Patient) -> dict[str, object]:
    """The physiological state of the patient, as the analysis reads it. Expects
    `allergies` and `pathologies` prefetched."""
    return {
        "birth_date": patient.birth_date,
        "sex": contract.Sex(patient.sex) if patient.sex in {"F", "M"} else contract.Sex.UNKNOWN,
        "weight_kg": patient.weight_kg,
        "height_cm": patient.height_cm,
        "pregnancy_weeks": patient.pregnancy_weeks,
        "breastfeeding": _BREASTFEEDING.get(patient.breastfeeding, contract.Breastfeeding.NONE),
        "creatinine_clearance": patient.creatinine_clearance,
        "hepatic_insufficiency": contract.HepaticInsufficiency(patient.hepatic_insufficiency),
        "allergies": [a.substance for a in patient.allergies.all()],
        "pathologies": [p.cim10_code for p in patient.pathologies.all()],
    }


def drug_ref(line: PrescriptionLine) -> contract.DrugRef:
    """A product by its code, or a DCI line by its substances, strength and form (analysed
    through its substances, registered as it is: the pharmacist dispenses a product of it)."""
    if line.drug_code_system == CodeSystem.DCI:
        return contract.DrugRef(
            code_system=contract.CodeSystem.DCI,
            code=line.drug_code,
            dosage=line.dosage,
            form=line.form,
        )
    return contract.DrugRef(
        code_system=contract.CodeSystem(line.drug_code_system), code=line.drug_code
    )


def line_in(line: PrescriptionLine, *, line_id: str | None = None) -> contract.LineIn:
    return contract.LineIn(
        line_id=line_id or line.line_ref,
        drug=drug_ref(line),
        dose=line.dose,
        unit=line.unit,
        frequency_count=line.frequency_count,
        frequency_period=contract.FrequencyPeriod(line.frequency_period),
        as_needed=line.as_needed,
        max_per_24h=line.max_per_24h,
        duration_value=line.duration_value,
        duration_unit=contract.DurationUnit(line.duration_unit),
        route=line.route,
    )


def current_treatment_ref(line: PrescriptionLine) -> str:
    """Line id of a line of an earlier prescription, sent as a current treatment."""
    return f"t{line.pk}"


def recorded_treatment_ref(treatment: CurrentTreatment) -> str:
    """Line id of a treatment recorded in the host patient record, sent as a current treatment."""
    return f"record-{treatment.pk}"


def recorded_treatment_in(treatment: CurrentTreatment) -> contract.LineIn:
    """A coded treatment of the host record as a current treatment, with the posology the
    record gives (quick entry, e.g. « 4 cp 1 fois par semaine »): dose-dependent interactions
    are then judged at the dose taken. Without one (or one that does not read), one unit a
    day, no duration. Current treatments are never checked for dose or patient context."""
    dose, unit, count, period = Decimal(1), "unité", 1, contract.FrequencyPeriod.DAY
    if treatment.posology.strip():
        try:
            posology = posology_parse(treatment.posology, default_unit="unité")
        except PosologyError:
            pass  # validated when recorded; a record filled in elsewhere may not be
        else:
            dose, unit = posology.dose, posology.unit or "unité"
            count = posology.frequency_count
            period = contract.FrequencyPeriod(posology.frequency_period)
    return contract.LineIn(
        line_id=recorded_treatment_ref(treatment),
        drug=contract.DrugRef(code_system=contract.CodeSystem.CIS, code=treatment.cis),
        dose=dose,
        unit=unit,
        frequency_count=count,
        frequency_period=period,
    )


def analysis_request(
    *,
    prescription: Prescription,
    lines: Iterable[PrescriptionLine],
    current_treatments: Iterable[PrescriptionLine],
    recorded_treatments: Iterable[CurrentTreatment],
) -> contract.AnalysisRequest:
    """``recorded_treatments``: coded treatments of the host record (see
    ``selectors.recorded_treatments_analysed``)."""
    return contract.AnalysisRequest(
        patient=contract.PatientContext(**patient_context(prescription.patient)),  # type: ignore[arg-type]
        lines=[line_in(line) for line in lines],
        current_treatments=[
            *(line_in(line, line_id=current_treatment_ref(line)) for line in current_treatments),
            *(recorded_treatment_in(treatment) for treatment in recorded_treatments),
        ],
    )


def analysis_fingerprint(request: contract.AnalysisRequest) -> str:
    """What an analysis saw, in 64 hexadecimal characters (kept on the run, compared with the
    request the record would give now). Lists whose order means nothing are sorted first, so
    that the same state of the record always gives the same fingerprint."""
    data = request.model_dump(mode="json")
    data["patient"]["allergies"] = sorted(data["patient"]["allergies"])
    data["patient"]["pathologies"] = sorted(data["patient"]["pathologies"])
    data["current_treatments"] = sorted(
        data["current_treatments"], key=lambda line: str(line["line_id"])
    )
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def registration_request(
    *,
    prescription: Prescription,
    lines: Iterable[PrescriptionLine],
    decisions: Iterable[AlertDecision],
    issued_at: datetime,
) -> contract.PrescriptionCreate:
    patient = prescription.patient
    qualified = patient.identity_status == "qualified"
    identity = contract.PatientIdentity(
        **patient_context(patient),  # type: ignore[arg-type]
        last_name=patient.last_name,
        first_name=patient.first_name,
        ins=patient.nir if qualified else "",
        ins_oid=patient.ins_oid if qualified else "",
    )
    return contract.PrescriptionCreate(
        external_id=str(prescription.external_id),
        patient=identity,
        lines=[
            contract.PrescriptionLineIn(
                **line_in(line).model_dump(),
                label=line.label,
                posology_text=line.posology_text,
                quantity=line.quantity,
                renewals=line.renewals,
                non_substitutable=line.non_substitutable,
                non_substitutable_reason=(
                    contract.NonSubstitutableReason(line.non_substitutable_reason)
                    if line.non_substitutable
                    else None
                ),
                ald=line.ald,
                instructions=line.instructions,
                non_reimbursable=line.non_reimbursable,
            )
            for line in lines
        ],
        acknowledged_alerts=[
            contract.AcknowledgedAlert(
                alert_id=d.ordoclic_alert_id, level=contract.AlertLevel(d.level), reason=d.reason
            )
            for d in decisions
            if d.decision == Decision.MAINTAIN
        ],
        software_name="origami",
        software_version=prescription.software_version or settings.ORIGAMI_VERSION,
        issued_at=issued_at,
        dispensing_follow_up_objection=prescription.dispensing_follow_up_objection,
        share_with_dmp=prescription.share_with_dmp,
    )
