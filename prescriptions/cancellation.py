"""Cancelling a registered prescription at Ordoclic.

Allowed while nothing is dispensed. The request creates a :class:`Cancellation` row (the outbox,
like a submission) in the same transaction as its audit event, then one attempt is made after
the commit; when Ordoclic is unavailable the row stays queued and the Celery task retries it with
backoff (the sweeper re-enqueues any due row whose task was lost). A pharmacist may dispense
while a cancellation waits: the first one Ordoclic records wins, and the other is refused
clearly (the dispensing event refuses the queued cancellation; Ordoclic refuses a cancellation
that arrives after a dispensing with 409).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, assert_never

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ordoclic_client import OrdoclicClient
from ordoclic_client.results import Ok, Rejected, Unavailable

from .backoff import due, retry_delay
from .models import (
    BusinessStatus,
    Cancellation,
    CancellationReason,
    CancellationStatus,
    DispensingStatus,
    Prescription,
    TransmissionStatus,
)
from .records import audit_record
from .selectors import prescription_lock_for_change
from .services import PrescriptionError, ordoclic_for_request

logger = logging.getLogger(__name__)

COMMENT_MAX_LENGTH = 500
# Offered to the prescriber; "replaced" is set by a reissue, not chosen by hand.
REASONS_OFFERED = [c for c in CancellationReason.choices if c[0] != CancellationReason.REPLACED]


def dispensed_refusal(prescription: Prescription) -> str:
    if prescription.dispensing_follow_up_objection:
        # The patient objected to the prescriber seeing dispensing: say only what matters.
        return _("Cette ordonnance ne peut plus être annulée (Ordoclic le refuse).")
    return _(
        "La pharmacie a déjà délivré cette ordonnance (au moins en partie) : "
        "elle ne peut plus être annulée."
    )


def _client() -> OrdoclicClient:
    from origami.ordoclic import get_client

    return get_client()


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


def cancellation_pending(*, prescription: Prescription) -> Cancellation | None:
    return prescription.cancellations.filter(status=CancellationStatus.QUEUED).first()


@transaction.atomic
def prescription_cancel(
    *,
    prescription: Prescription,
    acting_user: Any,
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
    if len(comment) > COMMENT_MAX_LENGTH:
        raise PrescriptionError(
            _("La précision ne doit pas dépasser %(max)s caractères.")
            % {"max": COMMENT_MAX_LENGTH},
            field="comment",
        )
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
        action="cancel_requested",
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
    `within_request` bounds the call by the web request's budget.

    The row is claimed with `select_for_update(skip_locked=True)` and stays locked during the
    call: a concurrent attempt skips it. Returns None when there was nothing to send.
    """
    refreshed: Prescription | None = None
    with transaction.atomic():
        cancellation = (
            # Due only: a duplicated task (the sweeper's, a retry's) finds nothing to do.
            Cancellation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due(timezone.now()), pk=cancellation_id, status=CancellationStatus.QUEUED)
            .select_related("prescription__prescriber")
            .first()
        )
        if cancellation is None:
            return None
        prescription = cancellation.prescription
        client = ordoclic_for_request() if within_request else _client()
        result = client.prescription_cancel(
            rpps=prescription.prescriber.rpps,
            prescription_id=prescription.ordoclic_id,
            reason=cancellation.reason,
            comment=cancellation.comment,
        )
        # Refused by the open breaker, nothing sent: not an attempt (as for submissions).
        if not (isinstance(result, Unavailable) and result.refused_by_breaker):
            cancellation.attempts += 1
        delay: float | None = None
        match result:
            case Ok(value=registered):
                locked = Prescription.objects.select_for_update(of=("self",)).get(
                    pk=prescription.pk
                )
                prescription_mark_cancelled(
                    prescription=locked,
                    at=registered.cancelled_at or timezone.now(),
                    source="cancel",
                    cancellation=cancellation,
                )
            case Rejected() as rejected:
                dispensed = rejected.status == 409 or any(
                    e.code == "already_dispensed" for e in rejected.errors
                )
                message = dispensed_refusal(prescription) if dispensed else rejected.message
                _refuse(cancellation, message=message, actor=None)
                if dispensed:
                    refreshed = prescription
            case Unavailable(reason=why, retry_after=retry_after):
                delay = retry_delay(attempts=max(1, cancellation.attempts), retry_after=retry_after)
                cancellation.next_attempt_at = timezone.now() + timedelta(seconds=delay)
                cancellation.last_error = why[:2000]
                cancellation.save(update_fields=["attempts", "next_attempt_at", "last_error"])
            case _ as unreachable:
                assert_never(unreachable)
        if cancellation.status != CancellationStatus.QUEUED:
            cancellation.save(update_fields=["attempts", "updated_at"])
        logger.info(
            "cancellation attempt",
            extra={
                "prescription_id": prescription.pk,
                "cancellation_id": cancellation.pk,
                "status": cancellation.status,
                "attempts": cancellation.attempts,
            },
        )
        if delay is not None:
            transaction.on_commit(
                lambda: _enqueue_retry(cancellation_id=cancellation.pk, delay=delay or 0.0)
            )
    if refreshed is not None:
        # Show the prescriber what the pharmacy delivered (unless the patient objected).
        from .dispensing import dispensing_refresh

        dispensing_refresh(prescription=refreshed, client=client)
    return cancellation


def _enqueue_retry(*, cancellation_id: int, delay: float) -> None:
    """Speed-up only: the sweeper re-enqueues any due queued cancellation whose task was lost."""
    try:
        from .followup_tasks import cancellation_send_task

        cancellation_send_task.apply_async(args=(cancellation_id,), countdown=delay, retry=False)
    except Exception:  # the broker may be down: Postgres keeps the row queued
        logger.warning(
            "cancellation retry not enqueued", extra={"cancellation_id": cancellation_id}
        )


def _refuse(cancellation: Cancellation, *, message: str, actor: Any) -> None:
    cancellation.status = CancellationStatus.REFUSED
    cancellation.last_error = message[:2000]
    cancellation.next_attempt_at = None
    cancellation.completed_at = timezone.now()
    cancellation.save(
        update_fields=["status", "last_error", "next_attempt_at", "completed_at", "updated_at"]
    )
    audit_record(
        actor=actor,
        action="cancel_refused",
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
        _refuse(cancellation, message=dispensed_refusal(prescription), actor=None)


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
        action="replaced" if replaced else "cancelled",
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


def cancellations_due(*, limit: int = 500) -> list[int]:
    """Queued cancellations whose next attempt is due (for the sweeper)."""
    return list(
        Cancellation.objects.filter(
            status=CancellationStatus.QUEUED, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
