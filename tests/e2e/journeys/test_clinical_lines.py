"""Prescribing by common name (DCI) and prescribing a narcotic, in the browser: the line as the
prescriber sees it, the analysis, the signature and the paper copy the pharmacist reads."""

from __future__ import annotations

from typing import Any

import pytest

from practitioners.ordoclic import practitioner_link_ordoclic
from tests.factories import PatientFactory, PrescriberFactory

from ..helpers import log_in, open_new_prescription
from .conftest import Journey

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]

CLAIRE_MARTIN = "10100001238"


@pytest.fixture
def prescriber(served_ordoclic: Any) -> Any:
    user = PrescriberFactory(
        first_name="Claire", last_name="Martin", practitioner_record__rpps=CLAIRE_MARTIN
    )
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    return user


def start(journey: Journey, base_url: str, prescriber: Any) -> None:
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    log_in(journey.page, base_url, prescriber)
    open_new_prescription(journey.page, base_url, patient)


def sign_and_open_the_paper(journey: Journey) -> str:
    page = journey.page
    page.wait_for_selector(".rx-sign-button:not([disabled])")
    page.click(".rx-sign-button")
    page.wait_for_selector("#rx-number")
    page.click("#paper-copy")
    page.wait_for_selector(".paper")
    return str(page.inner_text(".paper"))


def test_a_product_prescribed_in_dci_is_printed_in_dci(
    live_server: Any, prescriber: Any, journey: Journey
) -> None:
    start(journey, live_server.url, prescriber)
    page = journey.page
    page.fill("#drug-search", "clamoxyl")
    page.wait_for_selector('.rx-drug-dci[data-code="64539416"]')
    # the search result shows the price, the reimbursement and the conditions
    product = page.inner_text('.rx-drug:not(.rx-drug-dci)[data-code="64539416"]')
    assert "remboursé à 65 %" in product
    assert "Liste I" in product
    journey.shot("search-results")
    journey.click('.rx-drug-dci[data-code="64539416"]')
    assert page.inner_text("#drug-chosen strong") == "amoxicilline 1 g, comprimé dispersible"
    page.keyboard.type("1 cp matin et soir 7j")
    page.keyboard.press("Enter")
    line = page.locator(".rx-line", has_text="amoxicilline 1 g, comprimé dispersible")
    line.wait_for()
    assert "DCI" in line.inner_text()
    page.wait_for_selector(".rx-ok")  # analysed through the substance
    journey.shot("dci-line")

    paper = sign_and_open_the_paper(journey)
    assert "amoxicilline 1 g, comprimé dispersible" in paper
    assert "CLAMOXYL" not in paper
    assert "Non renouvelable" in paper  # liste I, no renewal written
    journey.shot("paper")


def test_a_narcotic_line_prints_its_quantity_in_full_letters(
    live_server: Any, prescriber: Any, journey: Journey
) -> None:
    start(journey, live_server.url, prescriber)
    page = journey.page
    page.fill("#drug-search", "actiskenan")
    page.wait_for_selector('.rx-drug:not(.rx-drug-dci)[data-code="64288864"]')
    journey.click('.rx-drug:not(.rx-drug-dci)[data-code="64288864"]')
    # the narcotic's rules show as soon as it is picked
    assert page.is_visible("#drug-secure")
    page.keyboard.type("1 gél matin et soir 30j")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=limitée à 28 jours pour cette substance")
    journey.shot("duration-refused")

    page.fill("#posology-input", "1 gél matin et soir 14j")
    page.press("#posology-input", "Enter")
    line = page.locator(".rx-line", has_text="ACTISKENAN 10 mg, gélule")
    line.wait_for()
    text = line.inner_text()
    assert "Stupéfiant" in text
    assert "Quantité : vingt-huit (28) gélules" in text
    journey.shot("narcotic-line")

    paper = sign_and_open_the_paper(journey)
    assert "Quantité : vingt-huit (28) gélules" in paper
    assert (
        "En toutes lettres : une (1) gélule par prise, deux (2) prises par jour, pendant "
        "quatorze (14) jours." in paper
    )
    assert "Non renouvelable" in paper
    journey.shot("paper")
