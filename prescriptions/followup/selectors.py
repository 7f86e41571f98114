"""Reads of the follow-up: what a sent prescription's page shows of what happened since it was
sent (dispensing, cancellation, replacement) and what the prescriber may do next."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import (
    Cancellation,
    CancellationStatus,
    Prescription,
    PrescriptionLine,
    TransmissionStatus,
)
from .cancellation import cancellation_pending
from .cancelled import cancellation_refusal_reason
from .reissue import reissue_pending_decision, replacement_of


@dataclass(frozen=True)
class Followup:
    """The follow-up block of a sent prescription's page."""

    prescription: Prescription
    registered: bool
    # dispensing is shown unless the patient objected to the prescriber following it
    show_dispensing: bool
    lines: list[PrescriptionLine]
    pending: Cancellation | None
    done: Cancellation | None
    refused: Cancellation | None
    replacement: Prescription | None
    replaces: Prescription | None
    # the refused cancellation of the replaced prescription, awaiting the prescriber's call
    decision: Cancellation | None
    can_cancel: bool
    can_reissue: bool


def prescription_followup(*, prescription: Prescription) -> Followup:
    registered = prescription.transmission_status == TransmissionStatus.REGISTERED
    pending = cancellation_pending(prescription=prescription)
    cancellations = list(prescription.cancellations.order_by("pk"))
    latest = cancellations[-1] if cancellations else None
    replacement = replacement_of(prescription)
    open_to_change = registered and not pending and not cancellation_refusal_reason(prescription)
    return Followup(
        prescription=prescription,
        registered=registered,
        show_dispensing=registered and not prescription.dispensing_follow_up_objection,
        lines=list(prescription.lines.order_by("position", "pk")),
        pending=pending,
        done=next((c for c in cancellations if c.status == CancellationStatus.DONE), None),
        refused=latest
        if latest is not None and latest.status == CancellationStatus.REFUSED
        else None,
        replacement=replacement,
        replaces=prescription.replaces,
        decision=reissue_pending_decision(prescription=prescription),
        can_cancel=open_to_change,
        can_reissue=open_to_change and replacement is None,
    )
