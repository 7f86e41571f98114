"""The patient's record as the prescriber keeps it during a consultation: what the patient page
shows follows each change at once, and a child without a weight gets a prescription whose dose
is said to be unchecked until the weight is written, from the screen itself."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from practitioners.ordoclic import practitioner_link_ordoclic
from tests.factories import PatientFactory, PrescriberFactory

from .conftest import screenshot
from .helpers import log_in, submit_line

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def prescriber(served_ordoclic: Any) -> Any:
    user = PrescriberFactory(
        first_name="Claire", last_name="Martin", practitioner_record__rpps="10100001238"
    )
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    return user


@pytest.fixture
def child() -> Any:
    today = datetime.date.today()
    return PatientFactory(
        last_name="Petit",
        first_name="Lucas",
        sex="M",
        birth_date=today.replace(year=today.year - 6, day=1),
        weight_kg=Decimal("21"),
        height_cm=118,
    )


def test_the_patient_page_follows_the_record_and_a_child_without_weight_is_said_unchecked(
    live_server: Any, page: Any, prescriber: Any, child: Any
) -> None:
    log_in(page, live_server.url, prescriber)
    page.goto(f"{live_server.url}/patients/{child.pk}/")
    assert "21 kg" in page.inner_text(".patient-summary")

    # The weight is unknown after all (an old figure): cleared from the patient page.
    page.click("#clinical-context-panel summary")
    page.wait_for_selector("#clinical-context-save")
    page.fill("input[name=weight_kg]", "")
    page.click("#clinical-context-save")
    page.wait_for_selector("#clinical-context-notice >> text=Dossier mis à jour.")
    # The header above no longer shows the weight the record does not hold.
    assert "kg" not in page.inner_text(".patient-summary")
    assert "118 cm" in page.inner_text(".patient-summary")

    # An allergy told by the parent shows in "Pour la prescription" at once.
    page.fill("input[name=allergy-substance]", "amoxicilline")
    page.click("#allergy-add")
    page.wait_for_selector("#clinical-context-notice >> text=Allergie ajoutée.")
    assert "amoxicilline" in page.inner_text("#patient-facts section[aria-labelledby=safety-title]")
    screenshot(page, "patient-page-record-updated")

    # Paracetamol for the child: the dose cannot be checked, and the screen says so.
    page.click("#new-prescription")
    page.wait_for_selector("#drug-search")
    page.wait_for_load_state("load")
    submit_line(page, "doliprane", "1 cp 3 fois par jour 3j")
    alert = page.locator("#analysis .rx-alert", has_text="Poids nécessaire")
    alert.wait_for()
    assert "non vérifiée" in alert.inner_text()
    assert page.is_disabled(".rx-sign-button")
    screenshot(page, "prescription-child-without-weight")

    # Weighed in the consultation room: written from the screen, the dose is checked again.
    page.click("#clinical-context-panel summary")
    page.wait_for_selector("#clinical-context-save")
    page.fill("input[name=weight_kg]", "20")
    page.click("#clinical-context-save")
    alert.wait_for(state="detached")
    assert "20 kg" in page.inner_text("#patient-banner")
    analysis = page.inner_text("#analysis")
    assert "Poids nécessaire" not in analysis
    # 1 g three times a day is more than a 20 kg child may take: said per kilogram.
    assert "mg/kg" in analysis
    screenshot(page, "prescription-child-weighed")


def test_the_weight_of_a_patient_with_a_recorded_clearance_is_changed_in_one_save(
    live_server: Any, page: Any, prescriber: Any
) -> None:
    """The form comes back as the browser shows it: the clearance's date must survive it."""
    measured = datetime.date.today() - datetime.timedelta(days=12)
    patient = PatientFactory(
        last_name="Bernard",
        weight_kg=Decimal("71"),
        creatinine_clearance=Decimal("25"),
        creatinine_clearance_measured_on=measured,
    )
    log_in(page, live_server.url, prescriber)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.click("#clinical-context-panel summary")
    page.wait_for_selector("#clinical-context-save")
    assert page.input_value("input[name=weight_kg]") == "71"
    page.fill("input[name=weight_kg]", "69")
    page.click("#clinical-context-save")
    page.wait_for_selector("#clinical-context-notice >> text=Dossier mis à jour.")
    assert "69 kg" in page.inner_text(".patient-summary")
    assert measured.strftime("%d/%m/%Y") in page.inner_text("#patient-facts")
    patient.refresh_from_db()
    assert (patient.weight_kg, patient.creatinine_clearance_measured_on) == (69, measured)
