"""Dispensing status: what the pharmacists delivered, line by line, kept current by Ordoclic's
webhook (`followup.webhooks`) and by a periodic poll (`followup.tasks`).

Every state Ordoclic gives carries its time (``updatedAt``). A state is applied only when it is
newer than the last one applied (stored on the prescription with the event id), so repeated or
out-of-order events change nothing; and even a newer state never takes a line, nor the whole
prescription, back to a less delivered status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, assert_never

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ordoclic_client import OrdoclicClient, contract

from .. import ordoclic
from ..models import (
    AuditAction,
    BusinessStatus,
    DispensingStatus,
    LineDispensingStatus,
    Prescription,
    PrescriptionLine,
    TransmissionStatus,
)
from ..ordoclic import NotAnswered, Refused
from ..records import audit_record
from .cancelled import cancellation_refuse_dispensed, prescription_mark_cancelled

logger = logging.getLogger(__name__)

# How far each status is along the way; a line or a prescription never moves back down.
LINE_RANK = {
    LineDispensingStatus.NONE: 0,
    LineDispensingStatus.PARTIAL: 1,
    LineDispensingStatus.FULL: 2,
    LineDispensingStatus.SUBSTITUTED: 2,
    LineDispensingStatus.NOT_DELIVERED: 2,
}
OVERALL_RANK = {DispensingStatus.NONE: 0, DispensingStatus.PARTIAL: 1, DispensingStatus.FULL: 2}


class ApplyOutcome(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # the same state again (a repeated event, a poll with no news)
    STALE = "stale"  # older than what was already applied: ignored


class Source(StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"
    CANCEL = "cancel"


@transaction.atomic
def dispensing_apply(
    *,
    prescription_id: int,
    state: contract.PrescriptionStatus,
    source: Source,
    event_id: str = "",
) -> ApplyOutcome:
    """Apply a state Ordoclic gave for this prescription (webhook event or status poll)."""
    prescription = Prescription.objects.select_for_update(of=("self",)).get(pk=prescription_id)
    at = state.updated_at
    last = prescription.dispensing_updated_at
    if last is not None and at < last:
        _audit(
            prescription,
            AuditAction.DISPENSING_EVENT_IGNORED,
            source,
            event_id,
            {"reason": "older"},
        )
        return ApplyOutcome.STALE
    if last is not None and at == last:
        return ApplyOutcome.UNCHANGED

    changed_lines = _apply_lines(prescription, state.dispensing.lines)
    overall = DispensingStatus(state.dispensing.status.value)
    before = DispensingStatus(prescription.dispensing_status)
    if OVERALL_RANK[overall] < OVERALL_RANK[before]:
        overall = before
    prescription.dispensing_status = overall
    prescription.dispensing_updated_at = at
    prescription.dispensing_event_id = event_id
    prescription.save(
        update_fields=[
            "dispensing_status",
            "dispensing_updated_at",
            "dispensing_event_id",
            "updated_at",
        ]
    )
    changed = overall != before or bool(changed_lines)
    if changed:
        _audit(
            prescription,
            AuditAction.DISPENSING_UPDATED,
            source,
            event_id,
            {"status": overall.value, "lines": changed_lines},
        )
    if overall != DispensingStatus.NONE:
        # A pharmacist was first: a cancellation still waiting to be sent can no longer succeed.
        cancellation_refuse_dispensed(prescription=prescription)
    if state.status == contract.PrescriptionState.CANCELLED:
        changed = (
            prescription_mark_cancelled(
                prescription=prescription, at=state.updated_at, source=source.value
            )
            or changed
        )
    return ApplyOutcome.APPLIED if changed else ApplyOutcome.UNCHANGED


def _apply_lines(
    prescription: Prescription, lines: list[contract.LineDispensing]
) -> dict[str, str]:
    by_ref = {
        line.line_ref: line
        for line in PrescriptionLine.objects.select_for_update().filter(prescription=prescription)
    }
    changed: dict[str, str] = {}
    for item in lines:
        line = by_ref.get(item.line_id)
        if line is None:
            logger.warning(
                "dispensing for an unknown line",
                extra={"prescription_id": prescription.pk, "line": item.line_id},
            )
            continue
        new = LineDispensingStatus(item.status.value)
        current = LineDispensingStatus(line.dispensing_status)
        if new == current or LINE_RANK[new] < LINE_RANK[current]:
            continue
        line.dispensing_status = new
        line.dispensed_at = item.dispensed_at
        line.save(update_fields=["dispensing_status", "dispensed_at"])
        changed[item.line_id] = new.value
    return changed


def _audit(
    prescription: Prescription,
    action: AuditAction,
    source: Source,
    event_id: str,
    details: dict[str, Any],
) -> None:
    audit_record(
        actor=None,
        action=action,
        prescription=prescription,
        details={"source": source.value, "event_id": event_id, **details},
    )


# --- polling -----------------------------------------------------------------------------------


def followed_prescriptions() -> QuerySet[Prescription]:
    """Registered prescriptions whose dispensing may still change: not fully dispensed, not
    cancelled or replaced, registered recently enough to be dispensed."""
    since = timezone.now() - timedelta(days=settings.DISPENSING_POLL_MAX_AGE_DAYS)
    return Prescription.objects.filter(
        status=BusinessStatus.SIGNED,
        transmission_status=TransmissionStatus.REGISTERED,
        registered_at__gte=since,
    ).exclude(Q(dispensing_status=DispensingStatus.FULL) | Q(ordoclic_id=""))


def dispensing_refresh(
    *, prescription: Prescription, base: OrdoclicClient | None = None
) -> ApplyOutcome | Refused | NotAnswered:
    """Ask Ordoclic for the prescription's current state and apply it."""
    answer = ordoclic.registration_state(
        base=base or ordoclic.client(),
        rpps=prescription.prescriber.rpps,
        prescription_id=prescription.ordoclic_id,
    )
    Prescription.objects.filter(pk=prescription.pk).update(dispensing_checked_at=timezone.now())
    match answer:
        case Refused(status=status):
            logger.warning(
                "status refused by Ordoclic",
                extra={"prescription_id": prescription.pk, "status": status},
            )
            return answer
        case NotAnswered():
            return answer
        case contract.PrescriptionStatus() as state:
            return dispensing_apply(
                prescription_id=prescription.pk, state=state, source=Source.POLL
            )
        case _ as unreachable:
            assert_never(unreachable)


@dataclass(frozen=True)
class PollReport:
    checked: int
    applied: int
    stopped: bool  # Ordoclic became unavailable: the rest waits for the next round


def dispensing_poll(*, limit: int) -> PollReport:
    """One batch of the periodic poll: the prescriptions checked longest ago first. Stops at the
    first unavailable answer (the breaker then keeps the next rounds cheap)."""
    batch = list(
        followed_prescriptions()
        .select_related("prescriber")
        .order_by(F("dispensing_checked_at").asc(nulls_first=True), "pk")[:limit]
    )
    checked = applied = 0
    for prescription in batch:
        outcome = dispensing_refresh(prescription=prescription)
        checked += 1
        if isinstance(outcome, NotAnswered):
            logger.info("dispensing poll stopped: Ordoclic unavailable", extra={"checked": checked})
            return PollReport(checked=checked, applied=applied, stopped=True)
        if outcome == ApplyOutcome.APPLIED:
            applied += 1
    return PollReport(checked=checked, applied=applied, stopped=False)
