"""A line whose drug was picked from origami's memory while Ordoclic did not answer is checked
against Ordoclic before the analysis and the sending: a product Ordoclic knows as the line says
is sent; one it no longer knows, or knows differently, holds the prescription for the
prescriber, the line and the reason said (never sent as it is, never lost)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.urls import reverse

from prescriptions.delivery import submissions as delivery
from prescriptions.models import (
    AttemptOutcome,
    AuditAction,
    Prescription,
    SubmissionStatus,
    TransmissionStatus,
)
from tests.chaos import workload

from .test_submissions import due_now, faults, ledger, outcomes, signed

pytestmark = pytest.mark.django_db

DOLIPRANE_OFFLINE = dataclasses.replace(workload.DOLIPRANE, verified=False)
ZOCOR_OFFLINE = dataclasses.replace(workload.SIMVASTATINE, verified=False)
WITHDRAWN = workload.Drug(
    "61111111",
    "ANCIEN PRODUIT 10 mg, comprimé",
    "ancienne substance",
    "comprimé",
    "1 cp le soir",
    verified=False,
)


@pytest.fixture
def martin(ordoclic: Any) -> Any:
    return workload.prescriber_linked(workload.CLAIRE_MARTIN)


def sent_after_outage(
    ordoclic: Any, user: Any, capture: Any, drugs: tuple[workload.Drug, ...]
) -> Prescription:
    """Written and signed while Ordoclic is down, then one attempt once it is back."""
    faults(ordoclic, "down")
    prescription = signed(user, capture, drugs)
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    faults(ordoclic, "ok")
    with capture(execute=False):
        delivery.submission_send(submission_id=due_now(prescription).pk)
    prescription.refresh_from_db()
    return prescription


def test_lines_picked_offline_that_ordoclic_knows_so_are_verified_then_sent(
    ordoclic: Any, martin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = sent_after_outage(
        ordoclic, martin, django_capture_on_commit_callbacks, (DOLIPRANE_OFFLINE, ZOCOR_OFFLINE)
    )
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert all(line.drug_verified for line in prescription.lines.all())
    assert all(line.drug_check_error == "" for line in prescription.lines.all())
    [event] = prescription.audit_events.filter(action=AuditAction.DRUGS_VERIFIED)
    assert [entry["verified"] for entry in event.details["lines"]] == [True, True]
    # verified before the analysis: the analysis ran, and after it the registration
    assert prescription.analysis_runs.filter(outcome="done").exists()


def test_a_product_ordoclic_no_longer_knows_holds_the_prescription_naming_the_line(
    ordoclic: Any, martin: Any, django_capture_on_commit_callbacks: Any, logged_in_client: Any
) -> None:
    prescription = sent_after_outage(
        ordoclic, martin, django_capture_on_commit_callbacks, (DOLIPRANE_OFFLINE, WITHDRAWN)
    )
    assert prescription.transmission_status == TransmissionStatus.HELD
    assert prescription.submission.status == SubmissionStatus.HELD
    assert outcomes(prescription)[-1] == AttemptOutcome.HELD
    # never sent as it is: Ordoclic received no registration for it
    assert ledger(ordoclic).get(str(prescription.external_id), (0, 0)) == (0, 0)
    assert "ligne 2 « ANCIEN PRODUIT 10 mg, comprimé »" in prescription.transmission_error
    assert "ne connaît plus ce médicament (code 61111111)" in prescription.transmission_error
    first, second = prescription.lines.all()
    assert first.drug_verified
    assert not first.drug_check_error
    assert not second.drug_verified
    assert "ne connaît plus" in second.drug_check_error

    page = (
        logged_in_client(martin)
        .get(reverse("prescriptions:detail", args=[prescription.pk]))
        .content.decode()
    )
    assert "Ordonnance en attente de votre décision" in page
    assert f'id="line-{second.pk}"' in page
    line_html = page.split(f'id="line-{second.pk}"')[1].split("</li>")[0]
    assert "à revoir" in line_html
    assert "ne connaît plus ce médicament" in line_html


def test_a_product_ordoclic_describes_otherwise_holds_it_even_when_analysed_at_signing(
    ordoclic: Any, martin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Picked from memory (an older description), signed once Ordoclic was back: the analysis
    # at signing accepted the code, the check of the product still runs before sending.
    renamed = dataclasses.replace(
        DOLIPRANE_OFFLINE,
        label="DOLIPRANE 1000 mg, comprimé effervescent",
        form="comprimé effervescent",
    )
    prescription = signed(martin, django_capture_on_commit_callbacks, (renamed,))
    assert prescription.transmission_status == TransmissionStatus.HELD
    assert "décrit autrement" in prescription.transmission_error
    assert "dénomination « DOLIPRANE 1000 mg, comprimé »" in prescription.transmission_error
    assert "forme « comprimé »" in prescription.transmission_error
    assert ledger(ordoclic).get(str(prescription.external_id), (0, 0)) == (0, 0)


def test_a_check_ordoclic_does_not_answer_is_tried_again_later(
    ordoclic: Any, martin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "down")
    prescription = signed(martin, django_capture_on_commit_callbacks, (WITHDRAWN,))
    with django_capture_on_commit_callbacks(execute=False):
        delivery.submission_send(submission_id=due_now(prescription).pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    [line] = prescription.lines.all()
    assert not line.drug_verified
    assert line.drug_check_error == ""
    assert not prescription.audit_events.filter(action=AuditAction.DRUGS_VERIFIED).exists()
