"""A prescriber writes a three-line prescription from the keyboard: the drug search has the
focus when the draft opens; picking a drug shows at once, as a preview, the alerts it would
raise with what is already prescribed, before its posology is typed. They modify the line of
one alert (an NSAID with an anticoagulant: replaced by paracetamol), maintain another with a
justification, sign, and print the paper copy."""

from __future__ import annotations

from typing import Any

import pytest

from prescriptions.models import (
    AlertDecision,
    AnalysisRun,
    AuditAction,
    AuditEvent,
    Prescription,
    TransmissionStatus,
)

from ..helpers import log_in, open_new_prescription, wait_for_focus
from .conftest import Journey
from .steps import a_patient, analysis_current, linked_prescriber

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


def focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def type_and_pick(page: Any, search: str, label: str) -> None:
    """From the focused search box, with the keyboard only."""
    assert focused(page) == "drug-search"
    page.keyboard.type(search)
    page.locator(".rx-drug", has_text=label).first.wait_for()
    results = page.locator("#drug-results .rx-drug").count()
    for _ in range(results):  # at most once per result: the arrows go down the list
        page.keyboard.press("ArrowDown")
        if label in page.evaluate("document.activeElement.innerText"):
            break
    else:
        raise AssertionError(f"{label} not reached with the arrow keys")
    page.keyboard.press("Enter")
    wait_for_focus(page, "posology-input")


def type_posology(page: Any, posology: str, label: str) -> None:
    page.keyboard.type(posology)
    page.keyboard.press("Enter")
    page.locator(".rx-line", has_text=label).wait_for()
    wait_for_focus(page, "drug-search")


def test_three_line_prescription_with_decisions_signed_and_printed(
    served_ordoclic: Any, live_server: Any, journey: Journey
) -> None:
    page = journey.page
    prescriber, patient = linked_prescriber(), a_patient()
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    wait_for_focus(page, "drug-search")  # no Tab needed

    type_and_pick(page, "coumadine", "COUMADINE")
    type_posology(page, "1 cp le soir", "COUMADINE")
    page.wait_for_selector("#analysis .rx-ok")
    prescription = Prescription.objects.get(patient=patient)

    # Picking the macrolide: the interaction shows before any posology is typed.
    runs = AnalysisRun.objects.filter(prescription=prescription).count()
    type_and_pick(page, "zeclar", "ZECLAR")
    preview = page.locator("#drug-preview-panel")
    preview.wait_for()
    assert "Aperçu" in preview.inner_text()
    assert "Warfarine + clarithromycine" in preview.inner_text()
    assert "COUMADINE" in preview.inner_text()
    assert page.input_value("#posology-input") == ""
    assert AnalysisRun.objects.filter(prescription=prescription).count() == runs  # not stored
    journey.shot("preview-before-posology")
    type_posology(page, "1 cp matin et soir 7j", "ZECLAR")

    type_and_pick(page, "advil", "ADVIL 400")
    page.locator("#drug-preview-panel", has_text="Warfarine + ibuprofène").wait_for()
    type_posology(page, "1 cp x3/j 3j", "ADVIL")
    analysis_current(page)
    asdec = page.locator("#analysis .rx-alert-asdec")
    asdec.wait_for()
    page.locator("#analysis .rx-alert-pe").wait_for()
    journey.shot("three-lines-two-alerts")

    # Modify: the NSAID goes, paracetamol comes instead.
    journey.click("#analysis .rx-alert-asdec button[value=modify]")
    page.locator("#analysis .rx-alert-asdec .rx-modify-requested").wait_for()
    advil = page.locator(".rx-line", has_text="ADVIL")
    if not advil.locator("details").get_attribute("open"):
        advil.locator("summary", has_text="Modifier").click()
    journey.click(".rx-line:has-text('ADVIL') button:has-text('Retirer ce médicament')")
    page.locator("#analysis .rx-alert-asdec").wait_for(state="detached")
    page.locator("#drug-search").focus()
    type_and_pick(page, "paracetamol", "DOLIPRANE")
    type_posology(page, "1 cp x3/j 3j", "DOLIPRANE")

    # Maintain the precaution, with a justification.
    analysis_current(page)
    pe = page.locator("#analysis .rx-alert-pe")
    pe.wait_for()
    pe.locator("summary", has_text="Maintenir").click()
    pe.locator("textarea[name=reason]").fill("INR contrôlé à J3 et J7")
    journey.click("#analysis .rx-alert-pe button[value=maintain]")
    page.locator("#analysis .rx-alert-pe .rx-decided").wait_for()
    journey.shot("decided")

    journey.click(".rx-sign-button")
    page.wait_for_selector("#rx-number")
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert [line.label.split()[0] for line in prescription.lines.all()] == [
        "COUMADINE",
        "ZECLAR",
        "DOLIPRANE",
    ]
    assert "INR contrôlé à J3 et J7" in page.inner_text(".rx-kept")
    journey.shot("signed")

    decisions = {
        (d.level, d.decision, d.reason)
        for d in AlertDecision.objects.filter(prescription=prescription)
    }
    assert ("ASDEC", "modify", "") in decisions
    assert ("PE", "maintain", "INR contrôlé à J3 et J7") in decisions
    decided = AuditEvent.objects.filter(prescription=prescription, action=AuditAction.ALERT_DECIDED)
    assert {(e.details["level"], e.details["decision"]) for e in decided} == {
        ("ASDEC", "modify"),
        ("PE", "maintain"),
    }

    journey.click("#paper-copy")
    page.wait_for_selector(".paper")
    paper = page.inner_text(".paper")
    assert prescription.number in paper.replace(" ", "")
    for label in ("COUMADINE", "ZECLAR", "DOLIPRANE"):
        assert label in paper
    journey.shot("paper-copy")
