"""Every decision control records its decision, in a real browser: "Modifier" and "Maintenir"
for each alert level (CI, ASDEC, PE, APEC), the justification required only where the settings
say, each decision in the ledger (AlertDecision) and in the journal (AuditEvent)."""

from __future__ import annotations

from typing import Any

import pytest

from prescriptions.models import AlertDecision, AuditAction, AuditEvent, Prescription
from tests.waiting import wait_until

from ..helpers import log_in, open_new_prescription
from .conftest import Journey
from .steps import (
    a_patient,
    add_line,
    alert,
    analysis_current,
    linked_prescriber,
)

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]

LEVELS = ["CI", "ASDEC", "PE", "APEC"]


def ledger(prescription: Prescription) -> dict[str, list[tuple[str, str]]]:
    rows: dict[str, list[tuple[str, str]]] = {}
    for d in AlertDecision.objects.filter(prescription=prescription).order_by("pk"):
        rows.setdefault(d.level, []).append((d.decision, d.reason))
    return rows


def journal(prescription: Prescription) -> list[tuple[str, str]]:
    return [
        (e.details["level"], e.details["decision"])
        for e in AuditEvent.objects.filter(
            prescription=prescription, action=AuditAction.ALERT_DECIDED
        ).order_by("pk")
    ]


def test_modify_then_maintain_at_every_level(
    served_ordoclic: Any, live_server: Any, journey: Journey, settings: Any
) -> None:
    # APEC asks for a decision too here; CI and ASDEC, and only they, require a justification.
    settings.PRESCRIPTION_DECISION_LEVELS = LEVELS
    settings.PRESCRIPTION_JUSTIFICATION_LEVELS = ["CI", "ASDEC"]
    page = journey.page
    prescriber, patient = linked_prescriber(), a_patient()
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    add_line(page, "simvastatine", "ZOCOR", "1 cp le soir 1 mois", "le soir")
    add_line(page, "clarithromycine", "ZECLAR", "1 cp matin et soir 7j", "le matin et le soir")
    add_line(page, "coumadine", "COUMADINE", "1 cp le soir", "le soir")
    add_line(page, "advil", "ADVIL 400", "1 cp x3/j 3j", "3 fois par jour")
    add_line(page, "topalgic", "TOPALGIC", "1 gél x3/j 5j", "3 fois par jour")
    add_line(page, "zoloft", "ZOLOFT", "1 gél le matin", "le matin")
    analysis_current(page)
    for level in LEVELS:
        alert(page, level)
    journey.shot("four-levels")
    prescription = Prescription.objects.get(patient=patient)

    for level in LEVELS:
        journey.click(f"#analysis .rx-alert-{level.lower()} >> nth=0 >> button[value=modify]")
        recorded = wait_until(
            lambda: ledger(prescription).get(level, [])[-1:],  # noqa: B023
            what=f"the {level} decision in the ledger",
        )
        assert recorded == [("modify", "")], level
        alert(page, level).locator(".rx-modify-requested").wait_for()
    journey.shot("modify-requested")

    for level in LEVELS:
        box = alert(page, level)
        box.locator("summary", has_text="Maintenir").click()
        textarea = box.locator("textarea[name=reason]")
        if level in ("CI", "ASDEC"):
            assert textarea.get_attribute("required") is not None
            box.locator("button[value=maintain]").click()  # the browser asks for it first
            assert page.evaluate("(el) => el.validity.valueMissing", textarea.element_handle()), (
                level
            )
            textarea.fill(f"Justification {level}")
        else:
            assert textarea.get_attribute("required") is None, level
        box.locator("button[value=maintain]").click()
        page.locator(f"#analysis .rx-alert-{level.lower()} .rx-decided").first.wait_for()
    journey.shot("all-maintained")

    rows = ledger(prescription)
    for level in LEVELS:
        reason = f"Justification {level}" if level in ("CI", "ASDEC") else ""
        assert rows[level][0] == ("modify", ""), (level, rows)
        assert rows[level][-1] == ("maintain", reason), (level, rows)
    events = journal(prescription)
    for level in LEVELS:
        assert (level, "modify") in events, (level, events)
        assert (level, "maintain") in events, (level, events)
    assert not page.is_disabled(".rx-sign-button")
