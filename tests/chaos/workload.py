"""Prescriptions signed the way a prescriber signs them: through the services (draft, lines,
analysis, decisions or "sign without analysis", signing), never by inserting rows. Shared by the
delivery tests and the chaos driver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prescriptions.delivery import signing
from prescriptions.drafting import services
from prescriptions.drafting.selectors import prescription_screen
from prescriptions.drugs.catalogue import DrugChoice
from prescriptions.models import AnalysisOutcome, Decision, Prescription

CLAIRE_MARTIN = "10100001238"
KARIM_BENALI = "10100004562"


@dataclass(frozen=True)
class Drug:
    cis: str
    label: str
    substance: str
    form: str
    posology: str
    # False: picked from origami's drug memory while Ordoclic did not answer (checked at sending)
    verified: bool = True


DOLIPRANE = Drug(
    "60234100", "DOLIPRANE 1000 mg, comprimé", "paracétamol", "comprimé", "1 cp 3 fois par jour 5j"
)
SIMVASTATINE = Drug(
    "67037301",
    "ZOCOR 20 mg, comprimé pelliculé",
    "simvastatine",
    "comprimé pelliculé",
    "1 cp le soir 1 mois",
)
CLARITHROMYCINE = Drug(
    "67997205",
    "ZECLAR 500 mg, comprimé pelliculé",
    "clarithromycine",
    "comprimé pelliculé",
    "1 cp matin et soir 7j",
)


def prescriber_linked(rpps: str) -> Any:
    """A prescriber account for an RPPS the sandbox knows, linked to Ordoclic for real."""
    from practitioners.ordoclic import practitioner_link_ordoclic
    from tests.factories import PrescriberFactory

    user: Any = PrescriberFactory(practitioner_record__rpps=rpps)
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    user.practitioner.refresh_from_db()
    if user.practitioner.ordoclic_link_status != "linked":
        raise RuntimeError(f"{rpps} could not be linked: {user.practitioner.ordoclic_last_error}")
    return user


def draft(user: Any, drugs: tuple[Drug, ...] = (DOLIPRANE,), patient: Any = None) -> Prescription:
    from tests.factories import PatientFactory

    practitioner = user.practitioner
    chosen: Any = patient or PatientFactory()
    prescription = services.prescription_create_draft(
        patient=chosen,
        prescriber=practitioner,
        acting_user=user,
        exercise_context=practitioner.exercise_contexts.first(),
    )
    for drug in drugs:
        services.prescription_line_add(
            prescription=prescription,
            acting_user=user,
            version=prescription.version,
            drug=DrugChoice(
                code=drug.cis,
                label=drug.label,
                substance=drug.substance,
                form=drug.form,
                default_unit="comprimé",
                verified=drug.verified,
            ),
            data=services.LineInput(posology=drug.posology),
        )
        prescription.refresh_from_db()
    return prescription


def ready_to_sign(user: Any, prescription: Prescription) -> Prescription:
    """Analyse; when Ordoclic cannot, sign without analysis (the prescriber's acknowledgement);
    maintain every alert that needs a decision, with a justification."""
    run = services.prescription_analyse(prescription=prescription, acting_user=user)
    prescription.refresh_from_db()
    if run.outcome != AnalysisOutcome.DONE:
        services.prescription_analysis_waive(
            prescription=prescription, acting_user=user, version=prescription.version
        )
    screen = prescription_screen(prescription=prescription)
    for view in screen.alerts:
        if view.needs_decision and not view.decided:
            services.alert_decide(
                alert=view.alert,
                acting_user=user,
                decision=Decision.MAINTAIN,
                reason="Bénéfice attendu supérieur au risque, surveillance prévue",
                version=prescription.version,
            )
    prescription.refresh_from_db()
    return prescription


def sign(user: Any, prescription: Prescription) -> signing.SignOutcome:
    return signing.prescription_sign(
        prescription=prescription, acting_user=user, version=prescription.version
    )
