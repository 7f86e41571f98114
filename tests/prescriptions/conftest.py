from __future__ import annotations

from typing import Any

import pytest

from ordoclic_client import contract
from ordoclic_client.sandbox.catalogue import curated_records
from prescriptions.drugs.catalogue import DrugChoice
from tests.chaos import workload
from tests.factories import PatientFactory, PrescriberFactory

# --- the consultation (drafts, lines, analysis, signing) against the in-process sandbox ------


@pytest.fixture
def prescriber(ordoclic: Any) -> Any:
    """Dr Claire MARTIN, linked at the in-process sandbox through the real link service."""
    return workload.prescriber_linked(workload.CLAIRE_MARTIN)


def other_prescriber() -> Any:
    """Dr Karim BENALI, linked at the Ordoclic in place: someone else's account."""
    return workload.prescriber_linked(workload.KARIM_BENALI)


@pytest.fixture
def patient() -> Any:
    return PatientFactory()


def catalogue_drug(cis: str) -> DrugChoice:
    """A drug of the sandbox's catalogue (real CIS), as the drug search hands it to a line."""
    [record] = [r for r in curated_records() if r["cis"] == cis]
    return DrugChoice.from_drug(contract.Drug.model_validate(record))


def sandbox_fault(ordoclic: Any, mode: str, **extra: Any) -> None:
    """Switch the sandbox's fault mode (ok, down, slow, hang, ...)."""
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": mode, **extra}).raise_for_status()


def sandbox_ledger(ordoclic: Any) -> dict[str, tuple[int, int]]:
    """Per external id: (creation requests received, prescriptions registered)."""
    with ordoclic.sandbox.control() as control:
        items = control.get("/_sandbox/ledger").json()["items"]
    return {i["externalId"]: (i["creationRequests"], i["registered"]) for i in items}


# --- follow-up (dispensing, webhooks, cancellation, reissue, lookup) ---------------------------

CLAIRE_MARTIN = "10100001238"
WEBHOOK_SECRET = "secret-de-test-des-webhooks"
DOLIPRANE = ("60234100", "DOLIPRANE 1000 mg, comprimé", "paracétamol", "comprimé")
SPASFON = ("68081368", "SPASFON, comprimé enrobé", "phloroglucinol", "comprimé enrobé")


@pytest.fixture
def martin() -> Any:
    """Dr Claire MARTIN, linked at Ordoclic (the client in place must reach a sandbox)."""
    from practitioners.ordoclic import practitioner_link_ordoclic

    user = PrescriberFactory(
        first_name="Claire", last_name="Martin", practitioner_record__rpps=CLAIRE_MARTIN
    )
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    user.practitioner.refresh_from_db()
    return user


def registered_prescription(
    *,
    user: Any,
    patient: Any = None,
    drugs: tuple[tuple[str, str, str, str], ...] = (DOLIPRANE, SPASFON),
    objection: bool = False,
    replaces: Any = None,
) -> Any:
    """A prescription written, analysed, signed and registered at the Ordoclic in place."""
    prescription = draft_with_lines(
        user=user, patient=patient, drugs=drugs, objection=objection, replaces=replaces
    )
    return sign_and_register(user=user, prescription=prescription)


def draft_with_lines(
    *,
    user: Any,
    patient: Any = None,
    drugs: tuple[tuple[str, str, str, str], ...] = (DOLIPRANE, SPASFON),
    objection: bool = False,
    replaces: Any = None,
) -> Any:
    from prescriptions.drafting import services

    context = user.practitioner.exercise_contexts.first()
    prescription = services.prescription_create_draft(
        patient=patient or PatientFactory(),
        prescriber=user.practitioner,
        acting_user=user,
        exercise_context=context,
        replaces=replaces,
    )
    for code, label, substance, form in drugs:
        services.prescription_line_add(
            prescription=prescription,
            acting_user=user,
            version=prescription.version,
            drug=DrugChoice(
                code=code, label=label, substance=substance, form=form, default_unit="comprimé"
            ),
            data=services.LineInput(posology="1 cp matin et soir 5 jours"),
        )
    if objection:
        services.prescription_options_update(
            prescription=prescription,
            acting_user=user,
            version=prescription.version,
            exercise_context=context,
            dispensing_follow_up_objection=True,
            share_with_dmp=True,
        )
        prescription.refresh_from_db()
    return prescription


def sign_and_register(*, user: Any, prescription: Any) -> Any:
    from prescriptions.delivery import signing, submissions
    from prescriptions.drafting import services
    from prescriptions.models import Prescription, TransmissionStatus

    prescription.refresh_from_db()
    services.prescription_analyse(prescription=prescription, acting_user=user)
    prescription.refresh_from_db()
    signing.prescription_sign(
        prescription=prescription, acting_user=user, version=prescription.version
    )
    submissions.submission_send(submission_id=prescription.submission.pk)
    prescription = Prescription.objects.get(pk=prescription.pk)
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    return prescription
