"""Writes on the prescription being written: the draft, its lines and options, the analysis and
the prescriber's decisions on its alerts. Each takes the acting user, checks that they may act
on the object, writes its audit event in the same transaction, and refuses a form sent for an
older version of the draft (another tab, another device) instead of overwriting what was typed
since."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from ordoclic_client import contract
from origami.patients.models import Patient
from origami.patients.posology import Posology, PosologyError, posology_parse, posology_sentence
from origami.text import length_error
from practitioners.models import ExerciseContext, Practitioner, User

from .. import ordoclic
from ..access import prescription_lock_for_change, user_may_change
from ..drugs.catalogue import DrugChoice
from ..drugs.units import unit_for_form, unit_mismatch
from ..errors import PrescriptionError, StaleVersion
from ..models import (
    Alert,
    AlertDecision,
    AnalysisOutcome,
    AnalysisRun,
    AuditAction,
    Decision,
    Prescription,
    PrescriptionLine,
)
from ..records import (
    AnalysisAnswer,
    analysis_rows,
    analysis_rows_save,
    audit_record,
    decision_record,
)
from . import payloads
from .conditions import (
    LineFacts,
    condition_refusal,
    conditions_of,
    duration_days,
    is_narcotic_regime,
    narcotic_overlap,
    needs_confirmation,
    quantity_text,
    total_quantity,
)
from .rules import level_needs_justification, non_substitution_error
from .selectors import analysis_request_for, current_treatment_lines

logger = logging.getLogger(__name__)


def _locked_draft(*, prescription_id: int, acting_user: User, version: int | None) -> Prescription:
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
    acting_user: User,
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
    audit_record(actor=acting_user, action=AuditAction.DRAFT_CREATED, prescription=prescription)
    return prescription


@dataclass(frozen=True)
class LineInput:
    posology: str
    quantity: str = ""
    renewals: int = 0
    non_substitutable: bool = False
    non_substitutable_reason: str = ""
    ald: bool = False
    instructions: str = ""
    non_reimbursable: bool = False
    # the prescriber confirms a restricted product's conditions are met (see conditions.py)
    conditions_confirmed: bool = False
    # express mention allowing a narcotic to overlap an earlier prescription of it
    overlap_allowed: bool = False


def _check_lengths(data: LineInput) -> None:
    """Before anything reads them: a pasted page is refused, never parsed nor quoted back."""
    for field, what in (
        ("posology", _("La posologie")),
        ("quantity", _("La quantité")),
        ("instructions", _("Les instructions")),
    ):
        error = length_error(getattr(data, field), limit=field, what=what)
        if error:
            raise PrescriptionError(error, field=field)


def _checked_posology(
    *, text: str, default_unit: str, form: str, route: str, label: str
) -> Posology:
    try:
        posology = posology_parse(text, default_unit=default_unit)
    except PosologyError as error:
        raise PrescriptionError(str(error), field="posology") from error
    # "1 gel" on sachets would print "1 gélule": the unit must fit the drug's form.
    mismatch = unit_mismatch(unit=posology.unit, form=form, route=route, label=label)
    if mismatch:
        raise PrescriptionError(mismatch, field="posology")
    return posology


def _is_hospital(prescription: Prescription) -> bool:
    context = prescription.exercise_context
    return context is not None and context.is_hospital


def _checked_conditions(
    *,
    prescription: Prescription,
    label: str,
    substance: str,
    conditions: dict[str, Any],
    data: LineInput,
    posology: Posology,
) -> str:
    """Refuse what the product's prescription conditions forbid (conditions.py); the quantity
    to print in full letters for a narcotic or assimilé, "" otherwise."""
    typed = conditions_of(conditions)
    refusal = condition_refusal(
        facts=LineFacts(
            label=label,
            conditions=typed,
            duration_value=posology.duration_value,
            duration_unit=posology.duration_unit,
            renewals=data.renewals,
            confirmed=data.conditions_confirmed,
        ),
        hospital_context=_is_hospital(prescription),
    )
    if refusal is not None:
        message, field = refusal
        raise PrescriptionError(message, field=field)
    if not is_narcotic_regime(typed):
        return ""
    if typed.drug_list == contract.DrugList.NARCOTIC or typed.overlap_forbidden:
        running = current_treatment_lines(patient_id=prescription.patient_id, exclude=prescription)
        overlap = narcotic_overlap(substance=substance or label, running=running)
        if overlap is not None and not data.overlap_allowed:
            raise PrescriptionError(
                _(
                    "Une ordonnance du %(signed)s couvre déjà %(label)s jusqu'au %(until)s : un "
                    "chevauchement n'est permis que par votre mention expresse. Cochez "
                    "« Chevauchement autorisé » si vous le décidez, ou attendez l'échéance."
                )
                % {
                    "signed": date_format(localtime(overlap.signed_at), "j F Y"),
                    "until": date_format(localtime(overlap.until), "j F Y"),
                    "label": label,
                },
                field="overlap_allowed",
            )
    days = duration_days(value=posology.duration_value, unit=posology.duration_unit)
    assert days is not None  # condition_refusal asks a narcotic for its duration
    total = total_quantity(
        dose=posology.dose,
        count=posology.frequency_count,
        period=posology.frequency_period,
        as_needed=posology.as_needed,
        max_per_24h=posology.max_per_24h,
        days=days,
    )
    return quantity_text(total=total, unit=posology.unit)


def _line_values(
    *,
    prescription: Prescription | None,
    data: LineInput,
    posology: Posology,
    label: str,
    substance: str,
    conditions: dict[str, Any],
) -> dict[str, Any]:
    """The line's columns from the entry, checked. Without a prescription (a protocol's line),
    the checks that need the patient or the place of practice (age for EFG, the product's
    prescription conditions) wait for the line's insertion into a draft."""
    if not 0 <= data.renewals <= 12:
        raise PrescriptionError(_("Le nombre de renouvellements va de 0 à 12."), field="renewals")
    reason = data.non_substitutable_reason if data.non_substitutable else ""
    if data.non_substitutable:
        error = non_substitution_error(
            reason=reason,
            substance=substance,
            # no patient yet: the age condition (EFG) is checked when the line is inserted
            patient_age=prescription.patient.age if prescription is not None else 0,
        )
        if error:
            raise PrescriptionError(error, field="non_substitutable_reason")
    secure_quantity = (
        _checked_conditions(
            prescription=prescription,
            label=label,
            substance=substance,
            conditions=conditions,
            data=data,
            posology=posology,
        )
        if prescription is not None
        else ""
    )
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
        # a narcotic's quantity is the one its posology gives, in full letters
        "quantity": secure_quantity or data.quantity.strip(),
        "renewals": data.renewals,
        "non_substitutable": data.non_substitutable,
        "non_substitutable_reason": reason,
        "ald": data.ald,
        "instructions": data.instructions.strip(),
        "non_reimbursable": data.non_reimbursable,
        "conditions_confirmed": data.conditions_confirmed and needs_confirmation(conditions),
        "overlap_allowed": data.overlap_allowed and bool(secure_quantity),
    }


def line_values_checked(
    *, drug: DrugChoice, data: LineInput, prescription: Prescription | None = None
) -> dict[str, Any]:
    """The columns of a line for this drug and entry, checked as on the screen; without a
    prescription, for a line kept outside any (a protocol written from scratch)."""
    if not drug.code:
        raise PrescriptionError(_("Choisissez un médicament dans la liste."), field="drug")
    _check_lengths(data)
    posology = _checked_posology(
        text=data.posology,
        default_unit=drug.default_unit,
        form=drug.form,
        route=drug.route,
        label=drug.label,
    )
    return _line_values(
        prescription=prescription,
        data=data,
        posology=posology,
        label=drug.label,
        substance=drug.substance,
        conditions=drug.conditions,
    )


def _line_audit_details(line: PrescriptionLine, version: int) -> dict[str, Any]:
    details: dict[str, Any] = {"line": line.pk, "version": version}
    if line.conditions_confirmed:
        # what the prescriber confirmed, for the auditor (no patient data)
        typed = conditions_of(line.conditions)
        details["conditions_confirmed"] = [
            name
            for name, met in (
                ("initial_hospital_prescription", typed.initial_hospital_prescription),
                ("specialist_only", typed.specialist_only),
            )
            if met
        ]
    if line.overlap_allowed:
        details["overlap_allowed"] = True
    return details


def _line_create(
    *, prescription: Prescription, position: int, drug: DrugChoice, data: LineInput
) -> PrescriptionLine:
    values = line_values_checked(drug=drug, data=data, prescription=prescription)
    return PrescriptionLine.objects.create(
        prescription=prescription,
        position=position,
        drug_code_system=drug.code_system,
        drug_code=drug.code,
        label=drug.label,
        substance=drug.substance,
        dosage=drug.dosage,
        form=drug.form,
        route=drug.route,
        conditions=drug.conditions,
        drug_verified=drug.verified,
        reimbursable=drug.reimbursable,
        **values,
    )


@transaction.atomic
def prescription_line_add(
    *,
    prescription: Prescription,
    acting_user: User,
    version: int,
    drug: DrugChoice,
    data: LineInput,
) -> PrescriptionLine:
    """Add a line. The drug comes from Ordoclic's catalogue (the view looked its code up), or
    from origami's drug memory while Ordoclic does not answer: the line is then marked
    unverified and checked against Ordoclic before sending."""
    locked = _locked_draft(
        prescription_id=prescription.pk, acting_user=acting_user, version=version
    )
    line = _line_create(prescription=locked, position=locked.lines.count(), drug=drug, data=data)
    _bump(locked)
    audit_record(
        actor=acting_user,
        action=AuditAction.LINE_ADDED,
        prescription=locked,
        details={
            **_line_audit_details(line, locked.version),
            "drug_code": drug.code,
            "code_system": drug.code_system,
            "drug_verified": drug.verified,
        },
    )
    prescription.version = locked.version
    return line


@transaction.atomic
def prescription_lines_insert(
    *,
    prescription: Prescription,
    acting_user: User,
    version: int,
    lines: list[tuple[DrugChoice, LineInput]],
    action: AuditAction,
    details: dict[str, Any],
) -> list[PrescriptionLine]:
    """Add several lines at once (a protocol): one new version, so one analysis of them all.
    Each line is checked like a line typed on the screen; one refused line refuses them all."""
    locked = _locked_draft(
        prescription_id=prescription.pk, acting_user=acting_user, version=version
    )
    start = locked.lines.count()
    created = [
        _line_create(prescription=locked, position=start + offset, drug=drug, data=data)
        for offset, (drug, data) in enumerate(lines)
    ]
    _bump(locked)
    audit_record(
        actor=acting_user,
        action=action,
        prescription=locked,
        details={
            **details,
            "lines": [line.pk for line in created],
            "version": locked.version,
        },
    )
    prescription.version = locked.version
    return created


@transaction.atomic
def prescription_line_update(
    *, line: PrescriptionLine, acting_user: User, version: int, data: LineInput
) -> PrescriptionLine:
    locked = _locked_draft(
        prescription_id=line.prescription_id, acting_user=acting_user, version=version
    )
    line = PrescriptionLine.objects.select_for_update().get(pk=line.pk, prescription=locked)
    _check_lengths(data)
    posology = _checked_posology(
        text=data.posology,
        default_unit=unit_for_form(line.form, line.route, line.label) or line.unit,
        form=line.form,
        route=line.route,
        label=line.label,
    )
    for name, value in _line_values(
        prescription=locked,
        data=data,
        posology=posology,
        label=line.label,
        substance=line.substance,
        conditions=line.conditions,
    ).items():
        setattr(line, name, value)
    line.save()
    _bump(locked)
    audit_record(
        actor=acting_user,
        action=AuditAction.LINE_UPDATED,
        prescription=locked,
        details=_line_audit_details(line, locked.version),
    )
    return line


@transaction.atomic
def prescription_line_remove(*, line: PrescriptionLine, acting_user: User, version: int) -> None:
    locked = _locked_draft(
        prescription_id=line.prescription_id, acting_user=acting_user, version=version
    )
    line_id = line.pk
    PrescriptionLine.objects.filter(pk=line_id, prescription=locked).delete()
    _bump(locked)
    audit_record(
        actor=acting_user,
        action=AuditAction.LINE_REMOVED,
        prescription=locked,
        details={"line": line_id, "version": locked.version},
    )


@transaction.atomic
def prescription_options_update(
    *,
    prescription: Prescription,
    acting_user: User,
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
        action=AuditAction.OPTIONS_UPDATED,
        prescription=locked,
        details={
            "version": locked.version,
            "objection": dispensing_follow_up_objection,
            "share_with_dmp": share_with_dmp,
        },
    )
    return locked


# --- analysis and decisions ---------------------------------------------------------------------


def prescription_analyse(*, prescription: Prescription, acting_user: User) -> AnalysisRun:
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
    result: AnalysisAnswer = None
    if request is not None:
        result = ordoclic.analysis_run(
            base=ordoclic.client_for_request(), rpps=prescription.prescriber.rpps, request=request
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
    *,
    prescription_id: int,
    version: int,
    result: AnalysisAnswer,
    acting_user: User,
    context: str = "",
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
    *, alert: Alert, acting_user: User, decision: str, reason: str, version: int
) -> AlertDecision:
    """Record the prescriber's call on an alert of the current version (append-only)."""
    locked = _locked_draft(
        prescription_id=alert.prescription_id, acting_user=acting_user, version=version
    )
    if alert.version != locked.version:
        raise StaleVersion()
    reason = reason.strip()
    too_long = length_error(reason, limit="justification", what=_("La justification"))
    if too_long:
        raise PrescriptionError(too_long, field="reason")
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
    *, prescription: Prescription, acting_user: User, version: int
) -> None:
    """The prescriber acknowledges signing this version without an analysis."""
    locked = _locked_draft(
        prescription_id=prescription.pk, acting_user=acting_user, version=version
    )
    locked.analysis_waived_version = locked.version
    locked.save(update_fields=["analysis_waived_version", "updated_at"])
    audit_record(
        actor=acting_user,
        action=AuditAction.ANALYSIS_WAIVED,
        prescription=locked,
        details={"version": locked.version},
    )
