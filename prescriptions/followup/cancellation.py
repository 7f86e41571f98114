"""Cancelling a registered prescription at Ordoclic.

Allowed while nothing is dispensed. The request creates a :class:`Cancellation` row in the same
transaction as its audit event: an outbox of the one mechanism in `prescriptions.outbox`, which
this module gives its send step and its outcome handling. One attempt is made after the commit,
within the request's budget; when Ordoclic is unavailable the row stays queued and the Celery task
retries it with backoff (the sweeper re-enqueues any due row whose task was lost). A pharmacist may
dispense while a cancellation waits: the first one Ordoclic records wins, and the other is refused
clearly (the dispensing event refuses the queued cancellation; Ordoclic refuses a cancellation
that arrives after a dispensing with 409, and the prescriber is then shown what was dispensed).
"""

from __future__ import annotations

import logging
from typing import assert_never

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ordoclic_client import OrdoclicClient, contract
from origami.text import length_error
from practitioners.models import User

from .. import ordoclic
from ..access import prescription_lock_for_change
from ..errors import PrescriptionError
from ..models import (
    AuditAction,
    Cancellation,
    CancellationReason,
    CancellationStatus,
    Prescription,
)
from ..ordoclic import NotAnswered, Refused
from ..outbox import Outbox, counts_as_attempt
from ..records import audit_record
from .cancelled import (
    cancellation_refusal_reason,
    cancellation_refuse,
    dispensed_refusal,
    prescription_mark_cancelled,
)
from .dispensing import dispensing_refresh

logger = logging.getLogger(__name__)

# Offered to the prescriber; "replaced" is set by a reissue, not chosen by hand.
REASONS_OFFERED = [c for c in CancellationReason.choices if c[0] != CancellationReason.REPLACED]

CANCELLATIONS: Outbox[Cancellation] = Outbox(
    name="cancellation",
    model=Cancellation,
    queued=CancellationStatus.QUEUED,
    task_name="prescriptions.cancellation_send",
)


def cancellation_pending(*, prescription: Prescription) -> Cancellation | None:
    return prescription.cancellations.filter(status=CancellationStatus.QUEUED).first()


@transaction.atomic
def prescription_cancel(
    *,
    prescription: Prescription,
    acting_user: User,
    reason: str,
    comment: str = "",
    replacement: Prescription | None = None,
) -> Cancellation:
    """Ask for the cancellation; sent once after the commit, retried until Ordoclic answers.
    Asking twice (double click, two tabs) gives the same pending cancellation."""
    locked = prescription_lock_for_change(prescription_id=prescription.pk, user=acting_user)
    comment = comment.strip()
    if reason not in CancellationReason.values:
        raise PrescriptionError(_("Choisissez le motif de l'annulation."), field="reason")
    if reason == CancellationReason.OTHER and not comment:
        raise PrescriptionError(
            _("Précisez le motif de l'annulation (motif « Autre »)."), field="comment"
        )
    too_long = length_error(comment, limit="cancellation_comment", what=_("La précision"))
    if too_long:
        raise PrescriptionError(too_long, field="comment")
    pending = cancellation_pending(prescription=locked)
    if pending is not None:
        return pending
    refusal = cancellation_refusal_reason(locked)
    if refusal:
        raise PrescriptionError(refusal)
    cancellation = Cancellation.objects.create(
        prescription=locked,
        reason=reason,
        comment=comment,
        replacement=replacement,
        requested_by=acting_user,
        next_attempt_at=timezone.now(),
    )
    audit_record(
        actor=acting_user,
        action=AuditAction.CANCEL_REQUESTED,
        prescription=locked,
        details={
            "cancellation": cancellation.pk,
            "reason": reason,
            "replacement": replacement.pk if replacement else None,
        },
    )
    transaction.on_commit(lambda: _send_within_request(cancellation_id=cancellation.pk))
    return cancellation


def _send_within_request(*, cancellation_id: int) -> None:
    """The one attempt the prescriber's request makes, bounded by the request budget. The
    cancellation is committed: a failure here is logged and left to the task and sweeper."""
    try:
        cancellation_send(cancellation_id=cancellation_id, within_request=True)
    except Exception as exc:
        logger.error(
            "cancellation attempt in the request failed (%s): the sweeper will retry",
            type(exc).__name__,
            extra={"cancellation_id": cancellation_id},
        )


def cancellation_send(*, cancellation_id: int, within_request: bool = False) -> Cancellation | None:
    """One attempt to cancel at Ordoclic. Takes only the id, so a Celery task can call it;
    `within_request` bounds the call by the web request's budget. Returns None when there was
    nothing to send (not queued, not due, or another attempt holds the row)."""
    dispensed_first: Prescription | None = None
    base = ordoclic.client_for_request() if within_request else ordoclic.client()

    def claim() -> list[Cancellation]:
        found = CANCELLATIONS.claim(
            pk=cancellation_id, shape=lambda rows: rows.select_related("prescription__prescriber")
        )
        return [] if found is None else [found]

    # Recorded as started before the call, like a submission: after an interrupted attempt
    # (its cancel may have reached Ordoclic), the prescription is looked up first.
    with CANCELLATIONS.attempt(claim) as claimed, transaction.atomic():
        if not claimed:
            return None
        [cancellation] = claimed.rows
        cancellation.attempt_started_at = None  # recorded below, with the outcome
        prescription = cancellation.prescription
        found = (
            _cancelled_already(prescription=prescription, base=base)
            if cancellation.pk in claimed.interrupted
            else None
        )
        answer: contract.RegisteredPrescription | Refused | NotAnswered
        if found is not None:
            answer = found
        else:
            answer = ordoclic.registration_cancel(
                base=base,
                rpps=prescription.prescriber.rpps,
                prescription_id=prescription.ordoclic_id,
                reason=cancellation.reason,
                comment=cancellation.comment,
            )
        if counts_as_attempt(answer):
            cancellation.attempts += 1
        match answer:
            case Refused() as refused:
                dispensed = refused.status == 409 or "already_dispensed" in refused.codes
                message = dispensed_refusal(prescription) if dispensed else refused.message
                cancellation_refuse(cancellation, message=message, actor=None)
                cancellation.save(update_fields=["attempts", "attempt_started_at", "updated_at"])
                if dispensed:
                    dispensed_first = prescription
            case NotAnswered(reason=why, retry_after=retry_after):
                cancellation.next_attempt_at = CANCELLATIONS.next_attempt_at(
                    attempts=cancellation.attempts, retry_after=retry_after
                )
                cancellation.last_error = why[:2000]
                cancellation.save(
                    update_fields=[
                        "attempts",
                        "next_attempt_at",
                        "attempt_started_at",
                        "last_error",
                    ]
                )
                CANCELLATIONS.enqueue_on_commit(pk=cancellation.pk, at=cancellation.next_attempt_at)
            case contract.RegisteredPrescription() as registered:
                locked = Prescription.objects.select_for_update(of=("self",)).get(
                    pk=prescription.pk
                )
                prescription_mark_cancelled(
                    prescription=locked,
                    at=registered.cancelled_at or timezone.now(),
                    source="cancel",
                    cancellation=cancellation,
                )
                cancellation.save(update_fields=["attempts", "attempt_started_at", "updated_at"])
            case _ as unreachable:
                assert_never(unreachable)
        logger.info(
            "cancellation attempt",
            extra={
                "prescription_id": prescription.pk,
                "cancellation_id": cancellation.pk,
                "status": cancellation.status,
                "attempts": cancellation.attempts,
            },
        )
    if dispensed_first is not None:
        # Show the prescriber what the pharmacy delivered (unless the patient objected).
        dispensing_refresh(prescription=dispensed_first, base=base)
    return cancellation


def _cancelled_already(
    *, prescription: Prescription, base: OrdoclicClient
) -> contract.RegisteredPrescription | NotAnswered | None:
    """After an interrupted attempt: the prescription as Ordoclic has it when it is already
    cancelled (or Ordoclic's silence), None when the cancel must be sent."""
    found = ordoclic.registration_find(
        base=base, rpps=prescription.prescriber.rpps, external_id=str(prescription.external_id)
    )
    if isinstance(found, NotAnswered):
        return found
    if (
        isinstance(found, contract.RegisteredPrescription)
        and found.status == contract.PrescriptionState.CANCELLED
    ):
        return found
    return None


def cancellations_sweep(*, limit: int = 500) -> int:
    """Re-enqueue the queued cancellations whose attempt time has passed and whose task was
    lost (those with a task on its way are skipped)."""
    return CANCELLATIONS.sweep(limit=limit)
