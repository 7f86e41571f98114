"""Two tabs on one draft: what is signed is what the signing tab shows. A tab whose draft
changed elsewhere says so and shows the current content; a sign sent from a stale tab is
refused and the whole editor and analysis come back from the server; the other tab follows
the signature."""

from __future__ import annotations

from typing import Any

import pytest

from prescriptions.models import BusinessStatus, Prescription

from ..helpers import log_in, open_new_prescription
from .conftest import Journey
from .steps import a_patient, add_line, linked_prescriber

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]

WATCH = "**/suivi-du-brouillon/"


def change_posology(page: Any, label: str, posology: str, sentence: str) -> None:
    line = page.locator(".rx-line", has_text=label)
    line.locator("summary", has_text="Modifier").click()
    line.locator('input[name="posology"]').fill(posology)
    line.locator("button", has_text="Enregistrer").click()
    page.locator(".rx-line", has_text=sentence).wait_for()


def editor_text(page: Any) -> str:
    return str(page.inner_text("#editor .rx-lines"))


def test_two_tabs_on_one_draft(served_ordoclic: Any, live_server: Any, journey: Journey) -> None:
    first = journey.page
    prescriber, patient = linked_prescriber(), a_patient()
    log_in(first, live_server.url, prescriber)
    open_new_prescription(first, live_server.url, patient)
    add_line(first, "paracetamol", "DOLIPRANE", "1 cp x2/j 5j", "1 comprimé 2 fois par jour")
    first.wait_for_selector(".rx-ok")
    prescription = Prescription.objects.get(patient=patient)

    second = first.context.new_page()  # the same session, another tab
    second.goto(first.url)
    second.wait_for_selector(".rx-ok")
    journey.shot("first-tab")

    # 1. The other tab changes the posology: this tab says so and shows it, without a reload.
    change_posology(second, "DOLIPRANE", "1 cp x3/j 5j", "1 comprimé 3 fois par jour")
    first.wait_for_selector("#changed-elsewhere", timeout=20_000)
    assert "1 comprimé 3 fois par jour" in editor_text(first)
    assert "1 comprimé 2 fois par jour" not in editor_text(first)
    journey.shot("changed-elsewhere")

    # 2. This tab misses the next change (its poll held back): signing is refused, and the
    # whole editor and analysis come back as the draft now is.
    first.route(WATCH, lambda route: route.fulfill(status=204))
    first.wait_for_selector(".rx-ok")
    change_posology(second, "DOLIPRANE", "1 cp le soir 5j", "1 comprimé le soir")
    assert "1 comprimé 3 fois par jour" in editor_text(first)  # stale, and it does not know
    assert not first.is_disabled(".rx-sign-button")
    journey.click(".rx-sign-button")
    first.wait_for_selector("#analysis .message-error")
    assert "modifiée entre-temps" in first.inner_text("#analysis")
    assert "1 comprimé le soir" in editor_text(first)
    assert "1 comprimé 3 fois par jour" not in editor_text(first)
    prescription.refresh_from_db()
    assert prescription.status == BusinessStatus.DRAFT
    journey.shot("stale-sign-refused")

    # 3. Signed from what this tab now shows; the other tab follows to the signed prescription.
    first.unroute(WATCH)
    first.wait_for_selector(".rx-ok")
    first.click(".rx-sign-button")
    first.wait_for_selector("#rx-number")
    prescription.refresh_from_db()
    assert prescription.status == BusinessStatus.SIGNED
    assert [line.posology_text for line in prescription.lines.all()] == [
        "1 comprimé le soir pendant 5 jours"
    ]
    assert "1 comprimé le soir" in first.inner_text(".rx-lines")
    second.wait_for_selector("#rx-number", timeout=20_000)
    journey.shot("signed")
