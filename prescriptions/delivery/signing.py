"""Signing: the draft is frozen and its submission (the outbox row) created in one transaction;
after the commit, one send attempt within the web request's budget (`submissions`)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from practitioners.models import Practitioner, User
from practitioners.ordoclic import practitioner_ordoclic_current

from ..access import prescription_lock_for_change, user_may_change
from ..drafting.selectors import prescription_screen
from ..errors import PrescriptionError, StaleVersion
from ..models import AuditAction, BusinessStatus, Prescription, Submission, TransmissionStatus
from ..records import audit_record
from .submissions import submission_after_sign


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


def prescription_sign(
    *, prescription: Prescription, acting_user: User, version: int
) -> SignOutcome:
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
    *, prescription_id: int, acting_user: User, version: int, account_current: bool, deadline: float
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
        action=AuditAction.SIGNED,
        prescription=prescription,
        details={
            "version": prescription.version,
            "software_version": prescription.software_version,
            "submission": submission.pk,
            "analysis_waived": screen.analysis_waived and not screen.analysis_done,
        },
    )
    # After the commit: one attempt within the request budget (submissions.py owns the rest).
    transaction.on_commit(
        lambda: submission_after_sign(
            submission_id=submission.pk, budget=max(0.0, deadline - time.monotonic())
        )
    )
    return SignOutcome(prescription=prescription)
