"""Ordoclic goes down during the consultation, after the drugs were picked: the prescription is
signed all the same and queued ("en attente"); Back does not show it as a draft; when Ordoclic
comes back the submission task consolidates it, and the open pages (the prescription, "Mes
ordonnances", the patient's card) follow to "enregistrée" without a reload."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from prescriptions.delivery.tasks import submission_send_task
from prescriptions.models import Prescription, Submission, TransmissionStatus

from ..helpers import log_in, open_new_prescription
from .conftest import Journey
from .steps import a_patient, add_line, linked_prescriber

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


def faults(served_ordoclic: Any, mode: str) -> None:
    with served_ordoclic.control() as control:
        control.post("/_sandbox/faults", json={"mode": mode}).raise_for_status()


def test_ordoclic_down_then_automatic_consolidation(
    served_ordoclic: Any, live_server: Any, journey: Journey
) -> None:
    page = journey.page
    prescriber, patient = linked_prescriber(), a_patient()
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    add_line(page, "paracetamol", "DOLIPRANE", "1 cp x3/j 5j", "1 comprimé 3 fois par jour")
    page.wait_for_selector(".rx-ok")

    faults(served_ordoclic, "down")
    journey.click(".rx-sign-button")
    page.wait_for_selector("#queued-banner")
    prescription = Prescription.objects.get(patient=patient)
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    journey.shot("queued")

    # Back: the patient's page, whose card says "en attente", not "Brouillon"; Forward: the
    # prescription's page, not the draft it was.
    page.go_back()
    page.locator("#patient-prescriptions", has_text="En attente d'envoi").wait_for()
    assert "Brouillon" not in page.inner_text("#patient-prescriptions")
    journey.shot("back-to-patient")
    page.go_forward()
    page.wait_for_selector("#queued-banner")
    assert page.locator("#drug-search").count() == 0

    # The list and the patient's card, open in other tabs.
    listing = page.context.new_page()
    listing.goto(f"{live_server.url}/ordonnances/")
    listing.locator("#results", has_text="En attente d'envoi").wait_for()
    card = page.context.new_page()
    card.goto(f"{live_server.url}/patients/{patient.pk}/")
    card.locator("#patient-prescriptions", has_text="En attente d'envoi").wait_for()

    # Ordoclic is back: the worker's next attempt consolidates and registers it.
    faults(served_ordoclic, "ok")
    Submission.objects.filter(prescription=prescription).update(next_attempt_at=timezone.now())
    assert submission_send_task(prescription.submission.pk) == "registered"

    page.wait_for_selector("#rx-number", timeout=30_000)  # no reload: the page followed
    prescription.refresh_from_db()
    assert page.inner_text("#rx-number") == prescription.number
    assert "Ordonnance enregistrée" in page.inner_text("#prescription-card")
    journey.shot("registered-without-reload")
    listing.locator("#results", has_text="Enregistrée").wait_for(timeout=30_000)
    card.locator("#patient-prescriptions", has_text="Enregistrée").wait_for(timeout=30_000)
    assert "En attente d'envoi" not in listing.inner_text("#results")
