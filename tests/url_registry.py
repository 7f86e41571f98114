"""How the URL sweep (tests/test_url_permissions.py) builds the URLs that take arguments.

Add an entry here for every URL name that has path arguments: `make(owner)` receives a
prescriber account (User with practitioner and exercise context) and returns the URL's kwargs,
pointing at objects that belong to that prescriber. `owner_only=True` means another prescriber
must not reach it (403 or 404); False means every user of the allowed roles may (e.g. patients
of the host record, shared by all prescribers).

The sweep fails, naming the URL, when a pattern with arguments has no entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.factories import PatientFactory


@dataclass(frozen=True)
class ObjectUrl:
    make: Callable[[Any], dict[str, Any]]
    owner_only: bool = True


def _draft(owner: Any) -> Any:
    from prescriptions.drafting.services import prescription_create_draft

    return prescription_create_draft(
        patient=PatientFactory(),
        prescriber=owner.practitioner,
        acting_user=owner,
        exercise_context=owner.practitioner.exercise_contexts.first(),
    )


def _draft_with_line(owner: Any) -> dict[str, Any]:
    from prescriptions.drafting.services import LineInput, prescription_line_add
    from prescriptions.drugs.catalogue import DrugChoice

    prescription = _draft(owner)
    line = prescription_line_add(
        prescription=prescription,
        acting_user=owner,
        version=prescription.version,
        drug=DrugChoice(
            code="60234100",
            label="DOLIPRANE 1000 mg, comprimé",
            substance="paracétamol",
            form="comprimé",
            default_unit="comprimé",
        ),
        data=LineInput(posology="1 cp le matin"),
    )
    return {"pk": prescription.pk, "line_id": line.pk}


def _draft_with_alert(owner: Any) -> dict[str, Any]:
    from prescriptions.models import Alert, AlertLevel, AnalysisOutcome, AnalysisRun

    prescription = _draft(owner)
    run = AnalysisRun.objects.create(
        prescription=prescription, version=prescription.version, outcome=AnalysisOutcome.DONE
    )
    alert = Alert.objects.create(
        prescription=prescription,
        analysis_run=run,
        version=prescription.version,
        ordoclic_alert_id="sweep-1",
        level=AlertLevel.PE,
        type="drug_interaction",
        title="Interaction",
        message="Précaution d'emploi",
        raw={},
    )
    return {"pk": prescription.pk, "alert_id": alert.pk}


def _prescription(owner: Any) -> dict[str, Any]:
    return {"pk": _draft(owner).pk}


def _allergy(owner: Any) -> dict[str, Any]:
    from tests.factories import AllergyFactory

    allergy = AllergyFactory()
    return {"patient_id": allergy.patient_id, "allergy_id": allergy.pk}


def _treatment(owner: Any) -> dict[str, Any]:
    from tests.factories import CurrentTreatmentFactory

    treatment = CurrentTreatmentFactory()
    return {"patient_id": treatment.patient_id, "treatment_id": treatment.pk}


def _favourite(owner: Any) -> dict[str, Any]:
    from prescriptions.drafting.favourites import favourite_create_from_line
    from prescriptions.models import PrescriptionLine

    line = PrescriptionLine.objects.get(pk=_draft_with_line(owner)["line_id"])
    return {"favourite_id": favourite_create_from_line(line=line, acting_user=owner).pk}


def _protocol_with_line(owner: Any) -> Any:
    """A personal protocol of the owner, with one line."""
    from prescriptions.drafting.favourites import protocol_create
    from prescriptions.models import Prescription

    source = Prescription.objects.get(pk=_draft_with_line(owner)["pk"])
    return protocol_create(acting_user=owner, name="Angine adulte", from_prescription=source)


def _protocol(owner: Any) -> dict[str, Any]:
    return {"protocol_id": _protocol_with_line(owner).pk}


def _protocol_line(owner: Any) -> dict[str, Any]:
    protocol = _protocol_with_line(owner)
    return {"protocol_id": protocol.pk, "line_id": protocol.lines.get().pk}


def _draft_and_protocol(owner: Any) -> dict[str, Any]:
    return {"pk": _draft(owner).pk, "protocol_id": _protocol_with_line(owner).pk}


OBJECT_URLS: dict[str, ObjectUrl] = {
    # Patients are the host application's record: every prescriber may open them.
    "patients:detail": ObjectUrl(lambda owner: {"patient_id": PatientFactory().pk}, False),
    # the clinical context of the host record: every prescriber may update it (each change traced)
    "patients:clinical_context": ObjectUrl(
        lambda owner: {"patient_id": PatientFactory().pk}, False
    ),
    "patients:allergy_add": ObjectUrl(lambda owner: {"patient_id": PatientFactory().pk}, False),
    "patients:allergy_remove": ObjectUrl(_allergy, False),
    "patients:treatment_add": ObjectUrl(lambda owner: {"patient_id": PatientFactory().pk}, False),
    "patients:treatment_remove": ObjectUrl(_treatment, False),
    "prescriptions:create": ObjectUrl(lambda owner: {"patient_id": PatientFactory().pk}, False),
    # the patient's card: every prescriber may open it, each sees only their own prescriptions
    "prescriptions:patient_history": ObjectUrl(
        lambda owner: {"patient_id": PatientFactory().pk}, False
    ),
    "prescriptions:detail": ObjectUrl(_prescription),
    "prescriptions:fhir_download": ObjectUrl(_prescription),
    # the host's API: a token, no session (an unknown prescription is a 404 OperationOutcome)
    "fhir:bundle": ObjectUrl(lambda owner: {"bundle_id": "00000000-0000-0000-0000-000000000000"}),
    # figures of the whole structure, for every administrator
    "prescriptions:insight_export": ObjectUrl(lambda owner: {"figure": "depassements"}, False),
    "prescriptions:drug_search": ObjectUrl(_prescription),
    "prescriptions:drug_preview": ObjectUrl(_prescription),
    "prescriptions:draft_watch": ObjectUrl(_prescription),
    "prescriptions:live": ObjectUrl(_prescription),
    "prescriptions:line_add": ObjectUrl(_prescription),
    "prescriptions:line_update": ObjectUrl(_draft_with_line),
    "prescriptions:line_remove": ObjectUrl(_draft_with_line),
    "prescriptions:line_edit": ObjectUrl(_draft_with_line),
    "prescriptions:options": ObjectUrl(_prescription),
    "prescriptions:analyse": ObjectUrl(_prescription),
    "prescriptions:alert_decide": ObjectUrl(_draft_with_alert),
    "prescriptions:waive": ObjectUrl(_prescription),
    "prescriptions:sign": ObjectUrl(_prescription),
    "prescriptions:paper": ObjectUrl(_prescription),
    "prescriptions:cancel": ObjectUrl(_prescription),
    "prescriptions:reissue": ObjectUrl(_prescription),
    "prescriptions:reissue_keep_both": ObjectUrl(_prescription),
    "prescriptions:held_release": ObjectUrl(_prescription),
    # favourites and protocols: a prescriber's own (a protocol shared in a structure is seen by
    # its prescribers, tests/prescriptions/drafting/test_favourites.py), renewal of one's own
    "prescriptions:favourite_from_line": ObjectUrl(_draft_with_line),
    "prescriptions:favourite_rename": ObjectUrl(_favourite),
    "prescriptions:favourite_delete": ObjectUrl(_favourite),
    "prescriptions:protocol_insert": ObjectUrl(_draft_and_protocol),
    "prescriptions:protocol_from_draft": ObjectUrl(_prescription),
    "prescriptions:protocol": ObjectUrl(_protocol),
    "prescriptions:protocol_update": ObjectUrl(_protocol),
    "prescriptions:protocol_delete": ObjectUrl(_protocol),
    "prescriptions:protocol_drug_search": ObjectUrl(_protocol),
    "prescriptions:protocol_line_add": ObjectUrl(_protocol),
    "prescriptions:protocol_line_remove": ObjectUrl(_protocol_line),
    "prescriptions:renew": ObjectUrl(_prescription),
    # Admin only: any submission id (the sweep checks every other role is refused).
    "prescriptions:submission_requeue": ObjectUrl(lambda owner: {"submission_id": 1}, False),
}
