"""What origami records when a prescription's cancellation is settled: cancelled (or replaced)
at Ordoclic, whichever way the news came (the cancellation's answer, a dispensing event, a status
poll), or refused because a pharmacist dispensed first."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from practitioners.models import User

from ..models import (
    AuditAction,
    BusinessStatus,
    Cancellation,
    CancellationStatus,
    DispensingStatus,
    Prescription,
    TransmissionStatus,
)
from ..records import audit_record


def dispensed_refusal(prescription: Prescription) -> str:
    if prescription.dispensing_follow_up_objection:
        # The patient objected to the prescriber seeing dispensing: say only what matters.
        return _("Cette ordonnance ne peut plus être annulée (Ordoclic le refuse).")
    return _(
        "La pharmacie a déjà délivré cette ordonnance (au moins en partie) : "
        "elle ne peut plus être annulée."
    )


def cancellation_refusal_reason(prescription: Prescription) -> str:
    """Why this prescription cannot be cancelled now ("" when it can)."""
    if prescription.status in (BusinessStatus.CANCELLED, BusinessStatus.REPLACED):
        return _("Cette ordonnance est déjà annulée.")
    if prescription.status == BusinessStatus.DRAFT:
        return _("Un brouillon n'est pas envoyé : il n'y a rien à annuler.")
    if prescription.transmission_status != TransmissionStatus.REGISTERED:
        return _(
            "Cette ordonnance n'est pas encore enregistrée chez Ordoclic : l'annulation sera "
            "possible dès son enregistrement."
        )
    if prescription.dispensing_status != DispensingStatus.NONE:
        return dispensed_refusal(prescription)
    return ""


def cancellation_refuse(cancellation: Cancellation, *, message: str, actor: User | None) -> None:
    cancellation.status = CancellationStatus.REFUSED
    cancellation.last_error = message[:2000]
    cancellation.next_attempt_at = None
    cancellation.completed_at = timezone.now()
    cancellation.save(
        update_fields=["status", "last_error", "next_attempt_at", "completed_at", "updated_at"]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CANCEL_REFUSED,
        prescription=cancellation.prescription,
        details={"cancellation": cancellation.pk, "reason": message[:300]},
    )


def cancellation_refuse_dispensed(*, prescription: Prescription) -> None:
    """A dispensing was recorded: the cancellations still waiting can no longer succeed. A row
    being sent right now is skipped: Ordoclic's answer (409) will refuse it."""
    waiting = Cancellation.objects.select_for_update(skip_locked=True).filter(
        prescription=prescription, status=CancellationStatus.QUEUED
    )
    for cancellation in waiting:
        cancellation.prescription = prescription
        cancellation_refuse(cancellation, message=dispensed_refusal(prescription), actor=None)


def prescription_mark_cancelled(
    *,
    prescription: Prescription,
    at: datetime,
    source: str,
    cancellation: Cancellation | None = None,
) -> bool:
    """Record that Ordoclic cancelled the prescription (the caller holds its row lock).
    Returns False when it was already recorded."""
    if prescription.status in (BusinessStatus.CANCELLED, BusinessStatus.REPLACED):
        if cancellation is not None and cancellation.status == CancellationStatus.QUEUED:
            _complete(cancellation)
        return False
    if cancellation is None:
        cancellation = (
            Cancellation.objects.select_for_update(skip_locked=True)
            .filter(prescription=prescription, status=CancellationStatus.QUEUED)
            .first()
        )
    replaced = cancellation is not None and cancellation.replacement_id is not None
    prescription.status = BusinessStatus.REPLACED if replaced else BusinessStatus.CANCELLED
    prescription.cancelled_at = at
    prescription.save(update_fields=["status", "cancelled_at", "updated_at"])
    if cancellation is not None:
        _complete(cancellation)
    audit_record(
        actor=None,
        action=AuditAction.REPLACED if replaced else AuditAction.CANCELLED,
        prescription=prescription,
        details={
            "source": source,
            "cancellation": cancellation.pk if cancellation else None,
            "replacement": cancellation.replacement_id if cancellation else None,
        },
    )
    return True


def _complete(cancellation: Cancellation) -> None:
    cancellation.status = CancellationStatus.DONE
    cancellation.next_attempt_at = None
    cancellation.last_error = ""
    cancellation.completed_at = timezone.now()
    cancellation.save(
        update_fields=["status", "next_attempt_at", "last_error", "completed_at", "updated_at"]
    )
