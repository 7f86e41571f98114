"""Degraded mode in a browser: the prescriber's queued and held prescriptions, the decision on a
held one, and the administrators' operations page."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from prescriptions.delivery import submissions as delivery
from prescriptions.delivery.submissions import SUBMISSIONS
from prescriptions.models import Prescription, Submission, TransmissionStatus
from tests.chaos import workload
from tests.factories import AdminFactory, PatientFactory

from .conftest import screenshot
from .test_prescription_screen import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SUBMISSIONS, "enqueue", lambda *, pk, at: True)


def faults(served: Any, mode: str) -> None:
    with served.control() as control:
        control.post("/_sandbox/faults", json={"mode": mode}).raise_for_status()


def signed_while_down(served: Any, user: Any, drugs: tuple[workload.Drug, ...]) -> Prescription:
    faults(served, "down")
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    prescription = workload.ready_to_sign(user, workload.draft(user, drugs, patient))
    workload.sign(user, prescription)
    faults(served, "ok")
    prescription.refresh_from_db()
    return prescription


def test_held_prescription_decided_in_the_browser_and_the_operations_page(
    live_server: Any, browser: Any, page: Any, served_ordoclic: Any
) -> None:
    martin = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    queued = signed_while_down(served_ordoclic, martin, (workload.DOLIPRANE,))
    held = signed_while_down(
        served_ordoclic, martin, (workload.SIMVASTATINE, workload.CLARITHROMYCINE)
    )
    Submission.objects.filter(prescription=held).update(next_attempt_at=timezone.now())
    delivery.submission_send(submission_id=held.submission.pk)
    held.refresh_from_db()
    assert held.transmission_status == TransmissionStatus.HELD

    log_in(page, live_server.url, martin)
    page.goto(f"{live_server.url}/ordonnances/{queued.pk}/")
    page.wait_for_selector("#queued-banner")
    assert "Ordoclic est indisponible" in page.inner_text("#queued-banner")
    screenshot(page, "delivery-queued")

    page.goto(f"{live_server.url}/ordonnances/?filtre=attention")
    page.wait_for_selector(f'a[href="/ordonnances/{held.pk}/"]')
    page.click(f'a[href="/ordonnances/{held.pk}/"]')
    page.wait_for_selector("#held-decision")
    screenshot(page, "delivery-held")
    page.click("#held-decision button[type=submit]")
    page.wait_for_selector("text=Justifiez le maintien")
    page.locator("#held-decision textarea").first.fill("Statine suspendue pendant 7 jours")
    page.click("#held-decision button[type=submit]")
    page.wait_for_selector("text=de nouveau en cours d'envoi")
    held.refresh_from_db()
    assert held.transmission_status == TransmissionStatus.QUEUED

    admin_page = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    ops = admin_page.new_page()
    log_in(ops, live_server.url, AdminFactory())
    ops.goto(f"{live_server.url}/ordonnances/exploitation/")
    ops.wait_for_selector("#ops-queued")
    assert ops.inner_text("#ops-queued") == "2"
    assert "Lefèvre" not in ops.content()
    screenshot(ops, "delivery-operations")
    admin_page.close()
