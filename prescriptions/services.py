"""Writes on prescriptions. Each takes the acting user, checks that they may act on the object,
writes its audit event in the same transaction, and refuses a form sent for an older version of
the draft (another tab, another device) instead of overwriting what was typed since."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ordoclic_client import OrdoclicClient, contract
from origami.patients.models import Patient
from practitioners.models import ExerciseContext, Practitioner
from practitioners.ordoclic import practitioner_ordoclic_current

from . import payloads
from .delivery import submission_after_sign, submission_send
from .models import (
    Alert,
    AlertDecision,
    AnalysisOutcome,
    AnalysisRun,
    BusinessStatus,
    Decision,
    Prescription,
    PrescriptionLine,
    Submission,
    TransmissionStatus,
)
from .posology import Posology, PosologyError, posology_parse, posology_sentence
from .records import analysis_rows, analysis_rows_save, audit_record, decision_record
from .rules import level_needs_justification, non_substitution_error
from .selectors import (
    analysis_request_for,
    current_treatment_lines,
    prescription_lock_for_change,
    prescription_screen,
    user_may_change,
)

logger = logging.getLogger(__name__)


class PrescriptionError(Exception):
    """A refusal the prescriber reads as is (French), with the form field it concerns."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleVersion(PrescriptionError):
    def __init__(self) -> None:
        super().__init__(
            _(
                "Cette ordonnance a été modifiée entre-temps (autre onglet ou autre poste). "
                "Votre saisie est conservée : vérifiez l'ordonnance à jour puis validez à nouveau."
            )
        )


def ordoclic_for_request() -> OrdoclicClient:
    """The Ordoclic client bounded by the web request's budget (ORDOCLIC_REQUEST_BUDGET): a
    call that may first fetch a token makes two requests, each given half of it."""
    from origami.ordoclic import get_client

    half = settings.ORDOCLIC_REQUEST_BUDGET / 2
    return get_client().with_timeout(
        read=half, connect=min(half, settings.ORDOCLIC_CONNECT_TIMEOUT)
    )


def _locked_draft(*, prescription_id: int, acting_user: Any, version: int | None) -> Prescription:
    """The draft, locked for this transaction, after the ownership and version checks."""
    prescription = prescription_lock_for_change(prescription_id=prescription_id, user=acting_user)
    if not prescription.is_draft:
        raise PrescriptionError(_("Cette ordonnance est signée : elle ne peut plus être modifiée."))
    if version is not None and version != prescription.version:
        raise StaleVersion()
    return prescription


def _bump(prescription: Prescription) -> None:
    prescription.version = F("version") + 1
    prescription.save(update_fields=["version", "updated_at"])
    prescription.refresh_from_db(fields=["version"])


# --- drafts and lines ---------------------------------------------------------------------------


@transaction.atomic
def prescription_create_draft(
    *,
    patient: Patient,
    prescriber: Practitioner,
    acting_user: Any,
    exercise_context: ExerciseContext | None = None,
    replaces: Prescription | None = None,
) -> Prescription:
    if prescriber.user_id != acting_user.pk:
        raise PermissionDenied
    if exercise_context is not None and exercise_context.practitioner_id != prescriber.pk:
        raise PermissionDenied
    prescription = Prescription.objects.create(
        patient=patient,
        prescriber=prescriber,
        exercise_context=exercise_context,
        replaces=replaces,
    )
    audit_record(actor=acting_user, action="draft_created", prescription=prescription)
    return prescription


@dataclass(frozen=True)
class DrugChoice:
    """The drug of a line, as the drug search (or a lookup by code) returned it."""

    code: str
    label: str
    substance: str = ""
    form: str = ""
    route: str = ""
    code_system: str = "cis"
    default_unit: str = ""

    @classmethod
    def from_drug(cls, drug: contract.Drug) -> DrugChoice:
        return cls(
            code=drug.cis,
            label=drug.label,
            substance=", ".join(s.name.lower() for s in drug.substances),
            form=drug.form,
            route=drug.routes[0] if drug.routes else "",
            default_unit=_unit_for_form(drug.form),
        )


def _unit_for_form(form: str) -> str:
    form = form.lower()
    for word, unit in (
        ("comprimé", "comprimé"),
        ("gélule", "gélule"),
        ("sachet", "sachet"),
        ("suppositoire", "suppositoire"),
        ("inhal", "bouffée"),
        ("buvable", "ml"),
        ("injectable", "ampoule"),
    ):
        if word in form:
            return unit
    return ""


@dataclass(frozen=True)
class LineInput:
    posology: str
    quantity: str = ""
    renewals: int = 0
    non_substitutable: bool = False
    non_substitutable_reason: str = ""
    ald: bool = False
    instructions: str = ""


def _checked_posology(*, text: str, default_unit: str) -> Posology:
    try:
        return posology_parse(text, default_unit=default_unit)
    except PosologyError as error:
        raise PrescriptionError(str(error), field="posology") from error


def _line_values(
    *, prescription: Prescription, data: LineInput, posology: Posology, substance: str
) -> dict[str, Any]:
    if not 0 <= data.renewals <= 12:
        raise PrescriptionError(_("Le nombre de renouvellements va de 0 à 12."), field="renewals")
    reason = data.non_substitutable_reason if data.non_substitutable else ""
    if data.non_substitutable:
        error = non_substitution_error(
            reason=reason, substance=substance, patient_age=prescription.patient.age
        )
        if error:
            raise PrescriptionError(error, field="non_substitutable_reason")
    return {
        "dose": posology.dose,
        "unit": posology.unit,
        "moments": list(posology.moments),
        "frequency_count": posology.frequency_count,
        "frequency_period": posology.frequency_period,
        "as_needed": posology.as_needed,
        "max_per_24h": posology.max_per_24h,
        "duration_value": posology.duration_value,
        "duration_unit": posology.duration_unit,
        "posology_text": posology_sentence(posology),
        "quantity": data.quantity.strip(),
        "renewals": data.renewals,
        "non_substitutable": data.non_substitutable,
        "non_substitutable_reason": reason,
        "ald": data.ald,
        "instructions": data.instructions.strip(),
    }


@transaction.atomic
def prescription_line_add(
    *,
    prescription: Prescription,
    acting_user: Any,
    version: int,
    drug: DrugChoice,
    data: LineInput,
) -> PrescriptionLine:
    """Add a line. The drug comes from Ordoclic's catalogue (the view looked its code up)."""
    locked = _locked_draft(
        prescription_id=prescription.pk, acting_user=acting_user, version=version
    )
    if not drug.code:
        raise PrescriptionError(_("Choisissez un médicament dans la liste."), field="drug")
    posology = _checked_posology(text=data.posology, default_unit=drug.default_unit)
    values = _line_values(
        prescription=locked, data=data, posology=posology, substance=drug.substance
    )
    position = locked.lines.count()
    line = PrescriptionLine.objects.create(
        prescription=locked,
        position=position,
        drug_code_system=drug.code_system,
        drug_code=drug.code,
        label=drug.label,
        substance=drug.substance,
        form=drug.form,
        route=drug.route,
        **values,
    )
    _bump(locked)
    audit_record(
        actor=acting_user,
        action="line_added",
        prescription=locked,
        details={"line": line.pk, "version": locked.version, "drug_code": drug.code},
    )
    prescription.version = locked.version
    return line


@transaction.atomic
def prescription_line_update(
    *, line: PrescriptionLine, acting_user: Any, version: int, data: LineInput
) -> PrescriptionLine:
    locked = _locked_draft(
        prescription_id=line.prescription_id, acting_user=acting_user, version=version
    )
    line = PrescriptionLine.objects.select_for_update().get(pk=line.pk, prescription=locked)
    posology = _checked_posology(text=data.posology, default_unit=line.unit)
    for name, value in _line_values(
        prescription=locked, data=data, posology=posology, substance=line.substance
    ).items():
        setattr(line, name, value)
    line.save()
    _bump(locked)
    audit_record(
        actor=acting_user,
        action="line_updated",
        prescription=locked,
        details={"line": line.pk, "version": locked.version},
    )
    return line


@transaction.atomic
def prescription_line_remove(*, line: PrescriptionLine, acting_user: Any, version: int) -> None:
    locked = _locked_draft(
        prescription_id=line.prescription_id, acting_user=acting_user, version=version
    )
    line_id = line.pk
    PrescriptionLine.objects.filter(pk=line_id, prescription=locked).delete()
    _bump(locked)
    audit_record(
        actor=acting_user,
        action="line_removed",
        prescription=locked,
        details={"line": line_id, "version": locked.version},
    )


@transaction.atomic
def prescription_options_update(
    *,
    prescription: Prescription,
    acting_user: Any,
    version: int,
    exercise_context: ExerciseContext | None,
    dispensing_follow_up_objection: bool,
    share_with_dmp: bool,
) -> Prescription:
    """The exercise context and the patient's choices (objection, Mon espace santé)."""
    locked = _locked_draft(
        prescription_id=prescription.pk, acting_user=acting_user, version=version
    )
    if exercise_context is not None and exercise_context.practitioner_id != locked.prescriber_id:
        raise PrescriptionError(_("Ce lieu d'exercice n'est pas le vôtre."), field="context")
    locked.exercise_context = exercise_context
    locked.dispensing_follow_up_objection = dispensing_follow_up_objection
    locked.share_with_dmp = share_with_dmp
    locked.save(
        update_fields=[
            "exercise_context",
            "dispensing_follow_up_objection",
            "share_with_dmp",
            "updated_at",
        ]
    )
    _bump(locked)
    audit_record(
        actor=acting_user,
        action="options_updated",
        prescription=locked,
        details={
            "version": locked.version,
            "objection": dispensing_follow_up_objection,
            "share_with_dmp": share_with_dmp,
        },
    )
    return locked


# --- analysis and decisions ---------------------------------------------------------------------


def prescription_analyse(*, prescription: Prescription, acting_user: Any) -> AnalysisRun:
    """Analyse the current version at Ordoclic and store its alerts, tied to that version.

    The call happens outside any transaction (it may take the whole request budget); the result
    is stored only if the draft has not changed meanwhile. When the analysis could not run, the
    run says so ("analyse non effectuée"): never an empty list of alerts.
    """
    if not user_may_change(user=acting_user, prescription=prescription):
        raise PermissionDenied
    version = prescription.version
    lines = list(prescription.lines.all().order_by("position", "pk"))
    request, context = None, ""
    if lines:
        prescription.patient = Patient.objects.prefetch_related(
            "allergies", "pathologies", "current_treatments"
        ).get(pk=prescription.patient_id)
        running = current_treatment_lines(patient_id=prescription.patient_id, exclude=prescription)
        request = analysis_request_for(prescription=prescription, lines=lines, running=running)
        context = payloads.analysis_fingerprint(request)
    # Done for this version and this state of the record (empty: runs from before the
    # fingerprint): it stands.
    existing = AnalysisRun.objects.filter(
        prescription=prescription,
        version=version,
        outcome=AnalysisOutcome.DONE,
        context__in=[context, ""],
    ).first()
    if existing is not None:
        return existing
    result: Any = None
    if request is not None:
        result = ordoclic_for_request().prescription_analyse(
            rpps=prescription.prescriber.rpps, request=request
        )
    return _store_analysis(
        prescription_id=prescription.pk,
        version=version,
        result=result,
        acting_user=acting_user,
        context=context,
    )


@transaction.atomic
def _store_analysis(
    *, prescription_id: int, version: int, result: Any, acting_user: Any, context: str = ""
) -> AnalysisRun:
    prescription = Prescription.objects.select_for_update(of=("self",)).get(pk=prescription_id)
    rows = analysis_rows(
        prescription=prescription,
        version=version,
        result=result,
        acting_user=acting_user,
        context=context,
    )
    analysis_rows_save([rows])
    rows.audit.save()
    return rows.run


@transaction.atomic
def alert_decide(
    *, alert: Alert, acting_user: Any, decision: str, reason: str, version: int
) -> AlertDecision:
    """Record the prescriber's call on an alert of the current version (append-only)."""
    locked = _locked_draft(
        prescription_id=alert.prescription_id, acting_user=acting_user, version=version
    )
    if alert.version != locked.version:
        raise StaleVersion()
    reason = reason.strip()
    if decision not in Decision.values:
        raise PrescriptionError(_("Décision inconnue."), field="decision")
    if decision == Decision.MAINTAIN and level_needs_justification(alert.level) and not reason:
        raise PrescriptionError(
            _("Justifiez le maintien : c'est obligatoire pour une alerte de niveau %(level)s.")
            % {"level": alert.level},
            field="reason",
        )
    return decision_record(
        alert=alert, prescription=locked, decision=decision, reason=reason, acting_user=acting_user
    )


@transaction.atomic
def prescription_analysis_waive(
    *, prescription: Prescription, acting_user: Any, version: int
) -> None:
    """The prescriber acknowledges signing this version without an analysis."""
    locked = _locked_draft(
        prescription_id=prescription.pk, acting_user=acting_user, version=version
    )
    locked.analysis_waived_version = locked.version
    locked.save(update_fields=["analysis_waived_version", "updated_at"])
    audit_record(
        actor=acting_user,
        action="analysis_waived",
        prescription=locked,
        details={"version": locked.version},
    )


# --- signing and sending ------------------------------------------------------------------------


def _account_current(practitioner: Practitioner) -> bool:
    """Linked and active at Ordoclic, re-verified with a short cache. It spends at most a quarter
    of the signing request's budget: the rest is for the send attempt."""
    return practitioner_ordoclic_current(
        practitioner=practitioner, timeout=settings.ORDOCLIC_REQUEST_BUDGET / 4
    )


@dataclass(frozen=True)
class SignOutcome:
    prescription: Prescription
    already_signed: bool = False


def prescription_sign(*, prescription: Prescription, acting_user: Any, version: int) -> SignOutcome:
    """Freeze the draft and create its submission in one transaction; after the commit, one
    send attempt within the request budget. Signing twice (double click, two tabs, back button)
    gives the same prescription and the same single submission."""
    if prescription.status != BusinessStatus.DRAFT:
        if not user_may_change(user=acting_user, prescription=prescription):
            raise PermissionDenied
        return SignOutcome(prescription=prescription, already_signed=True)
    # One budget for the whole request: the account check, then the send attempt.
    deadline = time.monotonic() + settings.ORDOCLIC_REQUEST_BUDGET
    # Verified before taking any lock: it may call Ordoclic (short cache).
    account_current = _account_current(prescription.prescriber)
    return _sign(
        prescription_id=prescription.pk,
        acting_user=acting_user,
        version=version,
        account_current=account_current,
        deadline=deadline,
    )


@transaction.atomic
def _sign(
    *, prescription_id: int, acting_user: Any, version: int, account_current: bool, deadline: float
) -> SignOutcome:
    prescription = prescription_lock_for_change(prescription_id=prescription_id, user=acting_user)
    if prescription.status != BusinessStatus.DRAFT:
        return SignOutcome(prescription=prescription, already_signed=True)
    if version != prescription.version:
        raise StaleVersion()
    screen = prescription_screen(prescription=prescription, account_current=account_current)
    if screen.blockers:
        raise PrescriptionError(" ".join(screen.blockers))
    now = timezone.now()
    prescription.status = BusinessStatus.SIGNED
    prescription.transmission_status = TransmissionStatus.QUEUED
    prescription.signed_at = now
    prescription.software_version = settings.ORIGAMI_VERSION
    prescription.save(
        update_fields=[
            "status",
            "transmission_status",
            "signed_at",
            "software_version",
            "updated_at",
        ]
    )
    submission = Submission.objects.create(
        prescription=prescription,
        external_id=prescription.external_id,
        next_attempt_at=now,
    )
    audit_record(
        actor=acting_user,
        action="signed",
        prescription=prescription,
        details={
            "version": prescription.version,
            "software_version": prescription.software_version,
            "submission": submission.pk,
            "analysis_waived": screen.analysis_waived and not screen.analysis_done,
        },
    )
    # After the commit: one attempt within the request budget (delivery.py owns the rest).
    transaction.on_commit(
        lambda: submission_after_sign(
            submission_id=submission.pk, budget=max(0.0, deadline - time.monotonic())
        )
    )
    return SignOutcome(prescription=prescription)


__all__ = [
    "DrugChoice",
    "LineInput",
    "PrescriptionError",
    "SignOutcome",
    "StaleVersion",
    "alert_decide",
    "prescription_analyse",
    "prescription_analysis_waive",
    "prescription_create_draft",
    "prescription_line_add",
    "prescription_line_remove",
    "prescription_line_update",
    "prescription_options_update",
    "prescription_sign",
    "submission_send",
]
