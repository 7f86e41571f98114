"""Reads of the prescription being written: the prescriber's lists, what the patient takes now,
the analysis request, and the prescription screen with its alerts and what still blocks signing.
Every list starts from `access.prescriptions_visible_to`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.postgres.lookups import Unaccent
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from ordoclic_client import contract
from ordoclic_client.text import unaccented
from origami.patients.models import CurrentTreatment, Patient
from practitioners.models import User

from ..access import prescriptions_visible_to
from ..models import (
    Alert,
    AlertDecision,
    AnalysisOutcome,
    AnalysisRun,
    AuditAction,
    AuditEvent,
    BusinessStatus,
    CodeSystem,
    Decision,
    Prescription,
    PrescriptionLine,
    TransmissionStatus,
)
from .conditions import conditions_of, needs_hospital_context
from .payloads import (
    analysis_fingerprint,
    analysis_request,
    current_treatment_ref,
    recorded_treatment_ref,
)
from .rules import LEVEL_RANK, alerts_ordered, level_needs_decision, level_needs_justification

# A registered line without a duration counts as a current treatment for this long.
CURRENT_TREATMENT_DEFAULT_DAYS = 90

LIST_FILTERS = ("drafts", "sent", "attention", "cancelled")


def prescription_list_for(
    *, user: User, filter_name: str = "", query: str = ""
) -> QuerySet[Prescription]:
    """The user's prescriptions, latest first by the date the list shows (signed, else
    created), filtered by status and by every word of ``query``: the patient's name, a drug
    (name or DCI) or the unique number (spaces and case ignored)."""
    prescriptions = prescriptions_visible_to(user=user).select_related("patient")
    for word in query.split()[:5]:
        folded = unaccented(word)
        number = word.replace("-", "").upper()
        prescriptions = prescriptions.annotate(
            last_folded=Unaccent(Lower("patient__last_name")),
            first_folded=Unaccent(Lower("patient__first_name")),
        ).filter(
            Q(last_folded__startswith=folded)
            | Q(first_folded__startswith=folded)
            | Q(number__contains=number)
            | Q(
                pk__in=PrescriptionLine.objects.annotate(
                    label_folded=Unaccent(Lower("label")),
                    substance_folded=Unaccent(Lower("substance")),
                )
                .filter(
                    Q(label_folded__startswith=folded)
                    | Q(label_folded__contains=f" {folded}")
                    | Q(substance_folded__startswith=folded)
                    | Q(substance_folded__contains=f" {folded}")
                )
                .values("prescription_id")
            )
        )
    if filter_name == "drafts":
        prescriptions = prescriptions.filter(status=BusinessStatus.DRAFT)
    elif filter_name == "sent":
        prescriptions = prescriptions.filter(
            status=BusinessStatus.SIGNED,
            transmission_status__in=[
                TransmissionStatus.REGISTERED,
                TransmissionStatus.QUEUED,
                TransmissionStatus.SENDING,
            ],
        )
    elif filter_name == "attention":
        prescriptions = prescriptions.filter(
            transmission_status__in=[TransmissionStatus.HELD, TransmissionStatus.REJECTED]
        )
    elif filter_name == "cancelled":
        prescriptions = prescriptions.filter(
            status__in=[BusinessStatus.CANCELLED, BusinessStatus.REPLACED]
        )
    return prescriptions.annotate(shown_at=Coalesce("signed_at", "created_at")).order_by(
        "-shown_at", "-pk"
    )


def recent_patients_for(*, user: User, limit: int = 8) -> list[Patient]:
    """The patients whose record the user opened or for whom they wrote, latest first."""
    opened = (
        AuditEvent.objects.filter(actor=user, action=AuditAction.PATIENT_VIEWED)
        .order_by("-at")
        .values_list("details__patient", "at")[:200]
    )
    written = (
        prescriptions_visible_to(user=user)
        .filter(prescriber__user=user)
        .order_by("-updated_at")
        .values_list("patient_id", "updated_at")[:50]
    )
    latest: dict[int, Any] = {}
    for patient_id, at in [*opened, *written]:
        if isinstance(patient_id, int) and (patient_id not in latest or at > latest[patient_id]):
            latest[patient_id] = at
    ids = sorted(latest, key=lambda pk: latest[pk], reverse=True)[:limit]
    patients = Patient.objects.in_bulk(ids)
    return [patients[pk] for pk in ids if pk in patients]


def prescription_history_for_patient(*, user: User, patient_id: int) -> QuerySet[Prescription]:
    return (
        prescriptions_visible_to(user=user)
        .filter(patient_id=patient_id)
        .prefetch_related("lines")
        .order_by("-created_at")
    )


def running_lines_by_patient(*, patient_ids: Iterable[int]) -> dict[int, list[PrescriptionLine]]:
    """Lines of the patients' signed prescriptions still running, by patient, latest first:
    what each patient takes now (one query for any number of patients)."""
    now = timezone.now()
    since = now - timedelta(days=366 * 2)
    lines = (
        PrescriptionLine.objects.filter(
            prescription__patient_id__in=list(patient_ids),
            prescription__status=BusinessStatus.SIGNED,
            prescription__signed_at__gte=since,
        )
        .select_related("prescription")
        .order_by("-prescription__signed_at", "position")
    )
    running: dict[int, list[PrescriptionLine]] = {}
    for line in lines:
        signed_at = line.prescription.signed_at
        assert signed_at is not None
        if line.duration_value is None:
            days = CURRENT_TREATMENT_DEFAULT_DAYS
        else:
            factor = {"day": 1, "week": 7, "month": 30}[line.duration_unit]
            days = line.duration_value * factor * (line.renewals + 1)
        if signed_at + timedelta(days=days) >= now:
            running.setdefault(line.prescription.patient_id, []).append(line)
    return running


def lines_besides(
    lines: Iterable[PrescriptionLine], prescription: Prescription | None
) -> list[PrescriptionLine]:
    """The running lines other than the prescription's own and those of the prescription it
    replaces or renews (a reissue's predecessor is not a current treatment beside its
    replacement, nor a renewed treatment beside its renewal)."""
    if prescription is None:
        return list(lines)
    skipped = {prescription.pk, prescription.replaces_id, prescription.renews_id}
    return [line for line in lines if line.prescription_id not in skipped]


def current_treatment_lines(
    *, patient_id: int, exclude: Prescription | None = None
) -> list[PrescriptionLine]:
    """Lines of the patient's signed prescriptions still running, for the analysis and the
    banner, besides those of ``exclude`` (the prescription being written or sent)."""
    running = running_lines_by_patient(patient_ids=[patient_id]).get(patient_id, [])
    return lines_besides(running, exclude)


def analysis_request_for(
    *, prescription: Prescription, lines: list[PrescriptionLine], running: list[PrescriptionLine]
) -> contract.AnalysisRequest:
    """The analysis request for the prescription's ``lines`` against what the patient takes now
    (``running``) and the coded treatments of their record. Expects the patient's allergies,
    pathologies and recorded treatments prefetched."""
    return analysis_request(
        prescription=prescription,
        lines=lines,
        current_treatments=running,
        recorded_treatments=recorded_treatments_analysed(
            treatments=prescription.patient.current_treatments.all(), prescribed=[*lines, *running]
        ),
    )


def recorded_treatments_analysed(
    *, treatments: Iterable[CurrentTreatment], prescribed: Iterable[PrescriptionLine]
) -> list[CurrentTreatment]:
    """The treatments of the host record that take part in the analysis: those coded with a
    CIS, unless a prescribed line already brings the same drug: a line of the prescription
    analysed (a renewal, not a duplicate) or a running line of a registered one. That line
    carries the real posology."""
    codes = {line.drug_code for line in prescribed if line.drug_code_system == CodeSystem.CIS}
    analysed, seen = [], set()
    for treatment in treatments:
        if treatment.cis and treatment.cis not in codes and treatment.cis not in seen:
            seen.add(treatment.cis)
            analysed.append(treatment)
    return analysed


def recorded_treatments_uncoded(
    *, treatments: Iterable[CurrentTreatment]
) -> list[CurrentTreatment]:
    """Treatments of the host record without a CIS code: the analysis cannot check them."""
    return [treatment for treatment in treatments if not treatment.cis]


@dataclass
class AlertView:
    alert: Alert
    line_labels: list[str]
    needs_decision: bool
    needs_justification: bool
    decision: AlertDecision | None
    # the prescriber's latest call on this alert, whatever it was ("Modifier" included)
    latest: AlertDecision | None = None
    # the first line of this prescription the alert involves ("Modifier" goes to it)
    focus_ref: str = ""

    @property
    def decided(self) -> bool:
        return self.decision is not None and self.decision.decision == Decision.MAINTAIN

    @property
    def modify_requested(self) -> bool:
        return self.latest is not None and self.latest.decision == Decision.MODIFY

    @property
    def level_class(self) -> str:
        return f"level-{self.alert.level.lower()}"


@dataclass
class Screen:
    """Everything the prescription screen shows, read in a constant number of queries."""

    prescription: Prescription
    lines: list[PrescriptionLine]
    run: AnalysisRun | None
    alerts: list[AlertView]
    current_treatments: list[PrescriptionLine]
    # treatments of the host record: coded ones the analysis sees, uncoded ones it cannot check
    recorded_treatments: list[CurrentTreatment] = field(default_factory=list)
    uncoded_treatments: list[CurrentTreatment] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    # the analysis of this version saw an earlier state of the patient's record
    analysis_stale: bool = False

    @property
    def analysis_done(self) -> bool:
        return self.run is not None and self.run.outcome == AnalysisOutcome.DONE

    @property
    def analysis_failed(self) -> bool:
        return self.run is not None and self.run.outcome != AnalysisOutcome.DONE

    @property
    def analysis_waived(self) -> bool:
        p = self.prescription
        return p.analysis_waived_version == p.version

    @property
    def can_sign(self) -> bool:
        return self.prescription.is_draft and not self.blockers

    @property
    def alerts_by_line(self) -> dict[str, Alert]:
        """The most severe alert per line ref (the first of the screen's order at a level), to
        badge each line with what it is about: "Dose excessive", not an interaction level."""
        highest: dict[str, Alert] = {}
        for view in self.alerts:
            for ref in view.alert.line_refs:
                current = highest.get(ref)
                if current is None or LEVEL_RANK[view.alert.level] > LEVEL_RANK[current.level]:
                    highest[ref] = view.alert
        return highest


def latest_decisions(*, prescription: Prescription) -> dict[str, AlertDecision]:
    """The prescriber's latest decision per Ordoclic alert id (ids are stable for the same
    finding on the same lines, so a decision survives a re-analysis that finds it again)."""
    return latest_by_alert(
        AlertDecision.objects.filter(prescription=prescription).order_by("decided_at", "pk")
    )


def latest_by_alert(decisions: Iterable[AlertDecision]) -> dict[str, AlertDecision]:
    """The last of ``decisions`` (in the order they were taken) per Ordoclic alert id."""
    return {decision.ordoclic_alert_id: decision for decision in decisions}


def decision_covers(decision: AlertDecision | None, alert: Alert) -> bool:
    """A maintained decision covers the alert unless the alert has since become more severe."""
    return (
        decision is not None
        and decision.decision == Decision.MAINTAIN
        and LEVEL_RANK[decision.level] >= LEVEL_RANK[alert.level]
    )


def prescription_screen(*, prescription: Prescription, account_current: bool = True) -> Screen:
    """Lines, the analysis of the current version and its alerts with the decisions taken."""
    lines = list(prescription.lines.all().order_by("position", "pk"))
    run = (
        AnalysisRun.objects.filter(prescription=prescription, version=prescription.version)
        .prefetch_related(Prefetch("alerts", queryset=Alert.objects.order_by("pk")))
        .order_by("-pk")
        .first()
    )
    decisions = latest_decisions(prescription=prescription)
    labels = {line.line_ref: line.label for line in lines}
    own = set(labels)
    treatments = current_treatment_lines(patient_id=prescription.patient_id, exclude=prescription)
    # the view prefetches the patient's recorded treatments (one query whatever their number)
    recorded = list(prescription.patient.current_treatments.all())
    analysed = recorded_treatments_analysed(treatments=recorded, prescribed=[*lines, *treatments])
    stale = False
    if run is not None and run.context and prescription.is_draft and lines:
        # The record changed since this analysis (a treatment, an allergy, a weight, another
        # prescription signed): it no longer stands, the screen analyses again.
        now = analysis_fingerprint(
            analysis_request_for(prescription=prescription, lines=lines, running=treatments)
        )
        if now != run.context:
            run, stale = None, True

    labels.update(
        {
            current_treatment_ref(t): _("%(label)s (traitement en cours)") % {"label": t.label}
            for t in treatments
        }
    )
    labels.update(
        {
            recorded_treatment_ref(t): _("%(label)s (traitement en cours)") % {"label": t.label}
            for t in analysed
        }
    )
    views = []
    for alert in alerts_ordered(run.alerts.all() if run else []):
        decision = decisions.get(alert.ordoclic_alert_id)
        refs = sorted(alert.line_refs, key=lambda ref: ref not in own)
        views.append(
            AlertView(
                alert=alert,
                # the prescription's own lines first, then the current treatments
                line_labels=[labels.get(ref, ref) for ref in refs],
                focus_ref=next((ref for ref in refs if ref in own), ""),
                needs_decision=level_needs_decision(alert.level),
                needs_justification=level_needs_justification(alert.level),
                decision=decision if decision_covers(decision, alert) else None,
                latest=decision,
            )
        )
    screen = Screen(
        prescription=prescription,
        lines=lines,
        run=run,
        alerts=views,
        current_treatments=treatments,
        recorded_treatments=analysed,
        uncoded_treatments=recorded_treatments_uncoded(treatments=recorded),
        analysis_stale=stale,
    )
    screen.blockers = sign_blockers(screen=screen, account_current=account_current)
    return screen


def sign_blockers(*, screen: Screen, account_current: bool) -> list[str]:
    """Why the prescription cannot be signed yet, in the prescriber's words."""
    prescription = screen.prescription
    blockers = []
    if not prescription.is_draft:
        return [_("Cette ordonnance est déjà signée.")]
    if not account_current:
        blockers.append(
            _("Votre compte n'est pas actif chez Ordoclic : contactez l'administrateur.")
        )
    if prescription.exercise_context_id is None:
        blockers.append(_("Choisissez le lieu d'exercice."))
    if not screen.lines:
        blockers.append(_("Ajoutez au moins un médicament."))
    elif screen.run is None and screen.analysis_stale:
        blockers.append(
            _(
                "Le dossier du patient a changé depuis l'analyse : l'ordonnance est analysée "
                "à nouveau."
            )
        )
    elif screen.run is None:
        blockers.append(_("Analyse en cours…"))
    elif screen.analysis_failed and not screen.analysis_waived and account_current:
        # (an account that cannot sign is not asked to waive: it would not help)
        blockers.append(_("Confirmez que vous signez sans analyse, ou relancez l'analyse."))
    hospital = (
        prescription.exercise_context is not None and prescription.exercise_context.is_hospital
    )
    for line in screen.lines:
        # a line written from a hospital, the place of practice changed since
        if needs_hospital_context(conditions_of(line.conditions)) and not hospital:
            blockers.append(
                _(
                    "%(label)s est réservé à l'hôpital : choisissez un établissement de santé "
                    "comme lieu d'exercice, ou retirez-le."
                )
                % {"label": line.label}
            )
    undecided = [v for v in screen.alerts if v.needs_decision and not v.decided]
    if undecided:
        blockers.append(
            _("%(count)s alerte(s) attendent votre décision.") % {"count": len(undecided)}
        )
    return blockers
