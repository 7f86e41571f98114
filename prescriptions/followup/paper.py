"""The paper copy of a signed prescription: what it prints, its QR code, and the marks that keep
a copy from passing for what it is not.

A pharmacist trusts a paper copy that carries a QR code and a number. So only a prescription
registered at Ordoclic and still valid shows them; a cancelled or replaced one prints its number
inside a diagonal "ANNULÉE" / "REMPLACÉE" mark (with its date and reason), one whose cancellation
was asked prints "ANNULATION DEMANDÉE", and one not yet registered keeps its banner.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import segno
from django.utils import timezone
from django.utils.translation import gettext as _

from origami.patients.models import Patient

from ..models import (
    BusinessStatus,
    Cancellation,
    CancellationReason,
    CancellationStatus,
    Prescription,
    PrescriptionLine,
    TransmissionStatus,
)

# Under this age the weight is printed (or said to be missing): a child's doses are per kilogram.
CHILD_MAX_AGE_YEARS = 18
# Doses counted in these units may have been computed from the weight (mg/kg, UI/kg).
WEIGHT_BASED_UNITS = frozenset({"mg", "g", "µg", "UI", "ml", "goutte"})


def qr_data_uri(prescription: Prescription) -> str:
    """The QR code of the paper copy as an SVG data URI (no inline style: strict CSP)."""
    if not prescription.qr_payload:
        return ""
    return str(segno.make(prescription.qr_payload, error="m").svg_data_uri(scale=4, border=2))


def instructions_sentence(text: str) -> str:
    """The prescriber's instructions as a sentence of their own: capitalised, with a full stop."""
    text = " ".join(text.split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


@dataclass(frozen=True)
class PaperMark:
    """What a paper copy that is not (or no longer) a valid prescription says across its page."""

    word: str  # "ANNULÉE", "REMPLACÉE", "ANNULATION DEMANDÉE"
    explanation: str  # the sentence under it: number, date, reason
    on: datetime.datetime | None
    reason: str


@dataclass(frozen=True)
class PaperLine:
    line: PrescriptionLine
    instructions: str


@dataclass(frozen=True)
class PaperCopy:
    prescription: Prescription
    patient: Patient
    ald_lines: list[PaperLine]
    other_lines: list[PaperLine]
    has_ald: bool
    qr: str
    renewal_max: int
    # Registered and neither cancelled, replaced nor being cancelled: the only case with a QR
    # code and a number presented as the prescription's.
    valid: bool
    mark: PaperMark | None
    # "" when registered; otherwise why the copy is not (yet) an ordonnance numérique.
    unregistered_notice: str
    age: int
    show_weight: bool
    weight_kg: Decimal | None


def _cancellation_reason(cancellation: Cancellation | None) -> str:
    if cancellation is None:
        return ""
    label = str(cancellation.get_reason_display())
    comment = " ".join(cancellation.comment.split())
    if comment:
        # A short excerpt: the mark is a warning, not the whole file.
        excerpt = comment if len(comment) <= 120 else comment[:119] + "…"
        return f"{label} ({excerpt})"
    return label


def _mark_for(prescription: Prescription) -> PaperMark | None:
    number = prescription.number or ""
    cancellations = list(prescription.cancellations.select_related("replacement"))
    if prescription.status in (BusinessStatus.CANCELLED, BusinessStatus.REPLACED):
        done = next(
            (c for c in reversed(cancellations) if c.status == CancellationStatus.DONE), None
        )
        reason = _cancellation_reason(done)
        on = prescription.cancelled_at
        day = timezone.localtime(on).strftime("%d/%m/%Y") if on else ""
        if prescription.status == BusinessStatus.REPLACED:
            replacement = (done.replacement if done else None) or (
                prescription.replaced_by.exclude(number=None).order_by("-pk").first()
            )
            explanation = _(
                "L'ordonnance n° %(number)s a été remplacée le %(day)s"
                "%(by)s : cette copie n'est plus valable."
            ) % {
                "number": number,
                "day": day,
                "by": (
                    _(" par l'ordonnance n° %(new)s") % {"new": replacement.number}
                    if replacement is not None and replacement.number
                    else ""
                ),
            }
            # The sentence names the replacement: the reissue's own reason would repeat it.
            if done is not None and done.reason == CancellationReason.REPLACED:
                reason = ""
            return PaperMark(_("REMPLACÉE"), explanation, on, reason)
        explanation = _(
            "L'ordonnance n° %(number)s a été annulée le %(day)s : cette copie n'est plus valable."
        ) % {"number": number, "day": day}
        return PaperMark(_("ANNULÉE"), explanation, on, reason)
    pending = next((c for c in cancellations if c.status == CancellationStatus.QUEUED), None)
    if pending is not None:
        day = timezone.localtime(pending.created_at).strftime("%d/%m/%Y")
        explanation = _(
            "L'annulation de l'ordonnance n° %(number)s a été demandée le %(day)s : "
            "cette copie ne doit pas être délivrée."
        ) % {"number": number, "day": day}
        return PaperMark(
            _("ANNULATION DEMANDÉE"),
            explanation,
            pending.created_at,
            _cancellation_reason(pending),
        )
    return None


def _unregistered_notice(prescription: Prescription) -> str:
    status = prescription.transmission_status
    if status == TransmissionStatus.REGISTERED:
        return ""
    if status == TransmissionStatus.REJECTED:
        return _(
            "Ordonnance refusée par Ordoclic : elle n'est pas enregistrée comme ordonnance "
            "numérique."
        )
    return _(
        "Ordonnance numérique non encore enregistrée : le numéro et le QR code figureront sur "
        "la copie imprimée après son enregistrement."
    )


def paper_copy_for(*, prescription: Prescription) -> PaperCopy:
    patient = Patient.objects.prefetch_related("alds").get(pk=prescription.patient_id)
    lines = [
        PaperLine(line=line, instructions=instructions_sentence(line.instructions))
        for line in prescription.lines.all()
    ]
    mark = _mark_for(prescription)
    unregistered = _unregistered_notice(prescription)
    valid = mark is None and not unregistered and bool(prescription.number)
    signed_on = (
        timezone.localtime(prescription.signed_at).date()
        if prescription.signed_at
        else timezone.localdate()
    )
    age = patient.age_on(signed_on)
    weight_based = any(paper.line.unit in WEIGHT_BASED_UNITS for paper in lines)
    return PaperCopy(
        prescription=prescription,
        patient=patient,
        ald_lines=[paper for paper in lines if paper.line.ald],
        other_lines=[paper for paper in lines if not paper.line.ald],
        has_ald=bool(patient.alds.all()) or any(paper.line.ald for paper in lines),
        qr=qr_data_uri(prescription) if valid else "",
        renewal_max=max((paper.line.renewals for paper in lines), default=0),
        valid=valid,
        mark=mark,
        unregistered_notice=unregistered,
        age=age,
        # A child: always (said missing when unknown). An adult: when known and a dose may be
        # per kilogram.
        show_weight=age < CHILD_MAX_AGE_YEARS or (patient.weight_kg is not None and weight_based),
        weight_kg=patient.weight_kg,
    )
