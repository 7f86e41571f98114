"""Ordoclic is down before the consultation starts: the prescriber finds the drugs in origami's
memory (the public BDPM extract, as `make up` loads it), writes, signs and prints the provisional
copy. Ordoclic comes back: each line picked offline is checked against it, the prescription is
analysed and sent, or held when a product is one Ordoclic no longer knows, and the
prescription's page says so. No Celery worker here: the worker's attempt is made by calling its
task's function, then the page is reloaded (the page following its status live is another
piece of work)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from practitioners.ordoclic import practitioner_link_ordoclic
from prescriptions.delivery import submissions as delivery
from prescriptions.delivery.submissions import SUBMISSIONS
from prescriptions.models import AuditAction, Prescription, Submission, TransmissionStatus
from tests.factories import PatientFactory, PrescriberFactory

from ..helpers import log_in, wait_for_focus, wait_for_page
from .conftest import Journey

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]

BDPM_EXTRACT = Path(__file__).resolve().parents[2] / "data" / "bdpm"
CLAIRE_MARTIN = "10100001238"
OFFLINE_MARK = "hors ligne — vérifié à l'envoi"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SUBMISSIONS, "enqueue", lambda *, pk, at: True)


@pytest.fixture
def prescriber(served_ordoclic: Any) -> Any:
    call_command("drugs_import_bdpm", str(BDPM_EXTRACT), "--quiet")
    user = PrescriberFactory(
        first_name="Claire", last_name="Martin", practitioner_record__rpps=CLAIRE_MARTIN
    )
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    return user


def faults(served: Any, mode: str) -> None:
    with served.control() as control:
        control.post("/_sandbox/faults", json={"mode": mode}).raise_for_status()


def add_from_memory(journey: Journey, search: str, posology: str) -> None:
    """Search (every result marked offline), Enter picks the first, type the posology, Enter."""
    page = journey.page
    lines = page.locator(".rx-line").count()
    # the search box as the screen hands it over: focused, its scripts ready
    wait_for_focus(page, "drug-search")
    page.fill("#drug-search", search)
    page.wait_for_selector("#drug-results-offline")
    results = page.locator("#drug-results .rx-drug")
    assert results.count() >= 1
    for index in range(results.count()):
        assert OFFLINE_MARK in results.nth(index).inner_text()
    journey.shot(f"memory-{search.split()[0]}")
    page.press("#drug-search", "Enter")
    page.keyboard.type(posology)
    page.keyboard.press("Enter")
    wait_for_page(
        page, f"() => document.querySelectorAll('.rx-line').length > {lines}", what="the new line"
    )
    # The line's analysis answers before the next line: a new line while it is in flight
    # replaces it (hx-sync), which the journey would count as a failed request.
    page.wait_for_load_state("networkidle")
    assert OFFLINE_MARK in page.locator(".rx-line").nth(lines).inner_text()


def write_sign_and_print_offline(
    journey: Journey, base_url: str, prescriber: Any, patient: Any, drugs: list[tuple[str, str]]
) -> Prescription:
    page = journey.page
    log_in(page, base_url, prescriber)
    page.goto(f"{base_url}/patients/{patient.pk}/")
    page.wait_for_selector("#new-prescription")
    journey.click("#new-prescription")
    page.wait_for_selector("#drug-search")
    for search, posology in drugs:
        add_from_memory(journey, search, posology)
    page.wait_for_selector("text=Analyse non effectuée.")
    # The analysis panel shows the last version (a panel left from the previous line would
    # have its acknowledgement refused as stale: see the note in the module's report).
    version = Prescription.objects.get(patient=patient).version
    wait_for_page(
        page,
        "(v) => { const f = document.querySelector('#analysis input[name=version]');"
        " return f && f.value === v; }",
        arg=str(version),
        what="the analysis panel of the current version",
    )
    journey.click("text=Je signerai sans analyse")
    page.wait_for_selector("text=Signature sans analyse confirmée")
    journey.shot("written-offline")
    journey.click(".rx-sign-button")
    page.wait_for_selector("text=Ordonnance signée, pas encore enregistrée")
    journey.shot("signed-queued")
    journey.click("#paper-copy")
    page.wait_for_selector(".paper")
    assert "non encore enregistrée" in page.inner_text(".paper")
    journey.shot("provisional-paper-copy")
    page.go_back()
    prescription = Prescription.objects.get(patient=patient)
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    assert [line.drug_verified for line in prescription.lines.all()] == [False] * len(drugs)
    return prescription


def worker_attempt_once_ordoclic_is_back(served: Any, prescription: Prescription) -> None:
    faults(served, "ok")
    Submission.objects.filter(prescription=prescription).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    delivery.submission_send(submission_id=prescription.submission.pk)


def test_written_offline_then_verified_analysed_and_sent(
    served_ordoclic: Any, live_server: Any, journey: Journey, prescriber: Any
) -> None:
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    faults(served_ordoclic, "down")  # before the consultation starts
    prescription = write_sign_and_print_offline(
        journey,
        live_server.url,
        prescriber,
        patient,
        [("doliprane 1000", "1 cp x3/j 5j"), ("clamoxyl 1 g", "1 cp x3/j 6j")],
    )

    worker_attempt_once_ordoclic_is_back(served_ordoclic, prescription)
    page = journey.page
    page.reload()
    page.wait_for_selector("#rx-number")
    journey.shot("registered-after-outage")
    assert "Ordonnance enregistrée" in page.inner_text("h1")
    assert "consolidée le" in page.content()
    assert OFFLINE_MARK not in page.inner_text(".rx-lines")
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert all(line.drug_verified for line in prescription.lines.all())
    assert prescription.audit_events.filter(action=AuditAction.DRUGS_VERIFIED).exists()
    assert prescription.analysis_runs.filter(outcome="done").exists()


def test_a_product_ordoclic_no_longer_knows_is_held_and_the_page_names_the_line(
    served_ordoclic: Any, live_server: Any, journey: Journey, prescriber: Any
) -> None:
    patient = PatientFactory(last_name="Lefèvre", first_name="Paul")
    faults(served_ordoclic, "down")
    # The memory knows it from the public files; this Ordoclic's database does not.
    prescription = write_sign_and_print_offline(
        journey,
        live_server.url,
        prescriber,
        patient,
        [("doliprane 1000", "1 cp x3/j 5j"), ("acetylcysteine eg labo", "1 sachet x3/j 5j")],
    )

    worker_attempt_once_ordoclic_is_back(served_ordoclic, prescription)
    page = journey.page
    page.reload()
    page.wait_for_selector("#held-reason")
    journey.shot("held-unknown-product")
    assert "Ordonnance en attente de votre décision" in page.inner_text("h1")
    reason = page.inner_text("#held-reason")
    assert "ligne 2 « ACETYLCYSTEINE EG LABO CONSEIL" in reason
    assert "ne connaît plus ce médicament" in reason
    problem = page.locator(".rx-line-problem")
    assert problem.count() == 1
    assert "ACETYLCYSTEINE" in problem.inner_text()
    assert "à revoir" in problem.inner_text()
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.HELD
    with served_ordoclic.control() as control:
        ledger = control.get("/_sandbox/ledger").json()["items"]
    assert str(prescription.external_id) not in {item["externalId"] for item in ledger}
