"""What a sent prescription's page offers next: decided by the follow-up selector, not by the
template."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from prescriptions.followup.selectors import prescription_followup
from prescriptions.models import Cancellation, CancellationStatus, Prescription

from ..conftest import draft_with_lines

pytestmark = pytest.mark.django_db


def registered(prescription: Prescription) -> Prescription:
    Prescription.objects.filter(pk=prescription.pk).update(
        status="signed",
        transmission_status="registered",
        signed_at=timezone.now(),
        registered_at=timezone.now(),
        software_version="0.1.0",
        number=f"TEST{prescription.pk:010d}",
        ordoclic_id=f"o-{prescription.pk}",
    )
    return Prescription.objects.get(pk=prescription.pk)


def test_a_registered_prescription_may_be_cancelled_or_reissued(ordoclic: Any, martin: Any) -> None:
    prescription = registered(draft_with_lines(user=martin))
    followup = prescription_followup(prescription=prescription)
    assert followup.can_cancel
    assert followup.can_reissue
    assert followup.show_dispensing


def test_nothing_is_offered_while_a_cancellation_waits_or_after_a_dispensing(
    ordoclic: Any, martin: Any
) -> None:
    prescription = registered(draft_with_lines(user=martin))
    Cancellation.objects.create(
        prescription=prescription,
        reason="duplicate",
        requested_by=martin,
        status=CancellationStatus.QUEUED,
    )
    followup = prescription_followup(prescription=prescription)
    assert followup.pending is not None
    assert not followup.can_cancel
    assert not followup.can_reissue

    other = registered(draft_with_lines(user=martin))
    Prescription.objects.filter(pk=other.pk).update(dispensing_status="partial")
    followup = prescription_followup(prescription=Prescription.objects.get(pk=other.pk))
    assert not followup.can_cancel
    assert not followup.can_reissue


def test_dispensing_is_hidden_when_the_patient_objected(ordoclic: Any, martin: Any) -> None:
    prescription = registered(draft_with_lines(user=martin, objection=True))
    followup = prescription_followup(prescription=prescription)
    assert followup.registered
    assert not followup.show_dispensing
