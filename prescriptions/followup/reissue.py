"""Reissue: a change after sending is a new prescription that replaces the old one.

One action copies a registered prescription's lines into a new draft linked by ``replaces``. When
that new prescription is registered, the old one is cancelled automatically, through the same
cancellation outbox (queued when Ordoclic is unavailable). If a pharmacist dispensed the old one
in between, it cannot be cancelled any more: the prescriber is told on the new prescription's page
and decides (keep both, or cancel the new one).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from practitioners.models import User

from ..access import prescription_lock_for_change, user_may_change
from ..drafting.services import prescription_create_draft
from ..errors import PrescriptionError
from ..models import (
    AuditAction,
    BusinessStatus,
    Cancellation,
    CancellationReason,
    CancellationStatus,
    Prescription,
    PrescriptionLine,
    TransmissionStatus,
)
from ..records import audit_record
from .cancellation import prescription_cancel
from .cancelled import cancellation_refusal_reason, dispensed_refusal

# Copied from the old lines; the dispensing fields start afresh.
LINE_FIELDS = [
    "position",
    "drug_code_system",
    "drug_code",
    "label",
    "substance",
    "form",
    "route",
    "dose",
    "unit",
    "moments",
    "frequency_count",
    "frequency_period",
    "as_needed",
    "max_per_24h",
    "duration_value",
    "duration_unit",
    "posology_text",
    "quantity",
    "renewals",
    "non_substitutable",
    "non_substitutable_reason",
    "ald",
    "instructions",
    "reimbursable",
]


def replacement_of(prescription: Prescription) -> Prescription | None:
    """The latest prescription written to replace this one (draft or sent), if any."""
    return (
        Prescription.objects.filter(replaces=prescription)
        .exclude(transmission_status=TransmissionStatus.REJECTED)
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def prescription_reissue(*, prescription: Prescription, acting_user: User) -> Prescription:
    """A new draft with the same lines, replacing `prescription`. Asking twice gives the same
    draft."""
    old = prescription_lock_for_change(prescription_id=prescription.pk, user=acting_user)
    existing = replacement_of(old)
    if existing is not None:
        if existing.status == BusinessStatus.DRAFT:
            return existing
        raise PrescriptionError(
            _("Cette ordonnance est déjà remplacée par l'ordonnance %(number)s.")
            % {"number": existing.number or existing.pk}
        )
    refusal = cancellation_refusal_reason(old)
    if refusal:
        raise PrescriptionError(refusal)
    new = prescription_create_draft(
        patient=old.patient,
        prescriber=old.prescriber,
        acting_user=acting_user,
        exercise_context=old.exercise_context,
        replaces=old,
    )
    new.dispensing_follow_up_objection = old.dispensing_follow_up_objection
    new.share_with_dmp = old.share_with_dmp
    new.save(update_fields=["dispensing_follow_up_objection", "share_with_dmp", "updated_at"])
    PrescriptionLine.objects.bulk_create(
        [
            PrescriptionLine(
                prescription=new, **{name: getattr(line, name) for name in LINE_FIELDS}
            )
            for line in old.lines.order_by("position", "pk")
        ]
    )
    audit_record(
        actor=acting_user,
        action=AuditAction.REISSUED,
        prescription=old,
        details={"replacement": new.pk},
    )
    return new


def replacement_registered(*, prescription: Prescription) -> None:
    """Called where a prescription becomes registered (in that transaction): once it is
    committed, cancel the prescription it replaces."""
    if prescription.replaces_id is None:
        return
    replacement_id = prescription.pk
    transaction.on_commit(lambda: replaced_prescription_cancel(replacement_id=replacement_id))


def replaced_prescription_cancel(*, replacement_id: int) -> Cancellation | None:
    new = Prescription.objects.select_related("prescriber__user", "replaces").get(pk=replacement_id)
    old = new.replaces
    if old is None or old.status in (BusinessStatus.CANCELLED, BusinessStatus.REPLACED):
        return None
    acting_user = new.prescriber.user
    try:  # refused under the row lock when the old one was dispensed in between
        return prescription_cancel(
            prescription=old,
            acting_user=acting_user,
            reason=CancellationReason.REPLACED,
            comment=_("Remplacée par l'ordonnance %(number)s.") % {"number": new.number},
            replacement=new,
        )
    except PrescriptionError:
        old.refresh_from_db()
        return _dispensed_meanwhile(old=old, new=new, acting_user=acting_user)


@transaction.atomic
def _dispensed_meanwhile(
    *, old: Prescription, new: Prescription, acting_user: User
) -> Cancellation:
    """The old prescription can no longer be cancelled: keep the refusal for the prescriber."""
    cancellation = Cancellation.objects.create(
        prescription=old,
        reason=CancellationReason.REPLACED,
        replacement=new,
        requested_by=acting_user,
        status=CancellationStatus.REFUSED,
        last_error=cancellation_refusal_reason(old) or dispensed_refusal(old),
        completed_at=timezone.now(),
    )
    audit_record(
        actor=None,
        action=AuditAction.CANCEL_REFUSED,
        prescription=old,
        details={
            "cancellation": cancellation.pk,
            "replacement": new.pk,
            "reason": "dispensed before the replacement was registered",
        },
    )
    return cancellation


def reissue_pending_decision(*, prescription: Prescription) -> Cancellation | None:
    """The refused cancellation of the prescription this one replaces, while the prescriber has
    not decided yet."""
    if prescription.replaces_id is None:
        return None
    return (
        Cancellation.objects.filter(
            prescription_id=prescription.replaces_id,
            replacement=prescription,
            status=CancellationStatus.REFUSED,
            acknowledged_at__isnull=True,
        )
        .order_by("-pk")
        .first()
    )


@transaction.atomic
def reissue_keep_both(*, prescription: Prescription, acting_user: User) -> None:
    """The prescriber keeps both prescriptions (the old one was dispensed in between)."""
    if not user_may_change(user=acting_user, prescription=prescription):
        raise PermissionDenied
    pending = reissue_pending_decision(prescription=prescription)
    if pending is None:
        return
    Cancellation.objects.filter(pk=pending.pk).update(acknowledged_at=timezone.now())
    audit_record(
        actor=acting_user,
        action=AuditAction.REPLACEMENT_KEPT_BOTH,
        prescription=prescription,
        details={"replaced": prescription.replaces_id},
    )
