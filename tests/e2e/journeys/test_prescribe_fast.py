"""Prescribing fast in a browser: a line kept as a favourite and written again in three keys, a
protocol saved from a draft and inserted in one action, a past prescription renewed and analysed
against a record updated from the screen."""

from __future__ import annotations

from typing import Any

import pytest

from practitioners.ordoclic import practitioner_link_ordoclic
from prescriptions.models import BusinessStatus, Prescription
from tests.factories import PatientFactory, PrescriberFactory
from tests.prescriptions.conftest import registered_prescription

from ..fast import AMOXICILLIN, PARACETAMOL, Keys, new_prescription, type_line, wait_analysed
from ..helpers import log_in
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


def test_a_favourite_writes_the_usual_amoxicillin_in_three_keys(
    live_server: Any, journey: Journey, prescriber: Any
) -> None:
    page = journey.page
    log_in(page, live_server.url, prescriber)
    keys = Keys(page, live_server.url)
    new_prescription(keys, PatientFactory(last_name="Lefèvre"))
    type_line(keys, *AMOXICILLIN)
    journey.click(".rx-line-fav button")
    page.wait_for_selector("#editor-notice >> text=est dans vos favoris")
    journey.shot("favourite-kept")

    new_prescription(keys, PatientFactory(last_name="Dupont"))
    keys.reset()
    page.focus("#drug-search")
    keys.type("amox")
    page.wait_for_selector("#drug-results .rx-favourite")
    first = page.locator("#drug-results .rx-drug").first
    assert "Favori" in first.inner_text()  # favourites first, marked
    journey.shot("favourite-first-in-search")
    keys.press("Enter")  # picks the favourite: the posology is filled
    assert page.input_value("#posology-input") == AMOXICILLIN[2]
    keys.press("Enter")  # adds the line
    page.wait_for_selector(f".rx-line >> text={AMOXICILLIN[2]}")
    wait_analysed(page)
    assert keys.keys == 6
    journey.shot("favourite-line-added")

    page.goto(f"{live_server.url}/ordonnances/favoris/")
    name = page.locator("input[name=name]").first
    name.fill("Amoxicilline angine")
    journey.click("#shortcuts button:has-text('Renommer')")
    page.wait_for_selector("text=Favori renommé.")
    journey.click("#shortcuts button:has-text('Supprimer')")
    page.wait_for_selector("#no-favourites")
    journey.shot("favourites-managed")


def test_a_protocol_saved_from_a_draft_is_inserted_in_one_action_and_analysed(
    live_server: Any, journey: Journey, prescriber: Any
) -> None:
    page = journey.page
    log_in(page, live_server.url, prescriber)
    keys = Keys(page, live_server.url)
    new_prescription(keys, PatientFactory(last_name="Lefèvre"))
    type_line(keys, *AMOXICILLIN)
    type_line(keys, *PARACETAMOL)
    page.click(".rx-save-protocol summary")
    page.fill(".rx-save-protocol input[name=name]", "Angine adulte")
    journey.click(".rx-save-protocol button[type=submit]")
    page.wait_for_selector("#editor-notice >> text=Protocole « Angine adulte » enregistré.")

    new_prescription(keys, PatientFactory(last_name="Dupont"))
    page.click("#protocol-menu summary")
    journey.shot("protocol-menu")
    journey.click("#protocol-menu .rx-protocol-insert")
    page.wait_for_selector("#editor-notice >> text=Protocole « Angine adulte » ajouté.")
    assert page.locator(".rx-lines .rx-line").count() == 2
    wait_analysed(page)
    journey.shot("protocol-inserted-analysed")

    # From the search too: "angine" then Enter inserts it in a third prescription.
    new_prescription(keys, PatientFactory(last_name="Martin"))
    page.fill("#drug-search", "angine")
    page.wait_for_selector("#drug-results .rx-protocol")
    journey.shot("protocol-in-search")
    page.press("#drug-search", "Enter")
    page.wait_for_selector(".rx-lines .rx-line >> nth=1")
    wait_analysed(page)


def test_renewing_a_past_prescription_from_the_patient_page(
    live_server: Any, journey: Journey, prescriber: Any
) -> None:
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    amoxicillin = ("64539416", "CLAMOXYL 1 g, comprimé dispersible", "amoxicilline", "comprimé")
    old = registered_prescription(user=prescriber, patient=patient, drugs=(amoxicillin,))
    page = journey.page
    log_in(page, live_server.url, prescriber)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.wait_for_selector(".rx-renew")
    journey.shot("patient-page-renew")
    journey.click(".rx-renew")
    page.wait_for_selector("#drug-search")
    wait_analysed(page)
    assert "CLAMOXYL 1 g" in page.inner_text(".rx-lines")
    assert page.locator("#analysis .rx-alert-ci").count() == 0
    # The prescription it renews is still running: not a duplicate of itself.
    assert "double" not in page.inner_text("#analysis").lower()
    journey.shot("renewed-draft")

    # The patient says she is allergic to penicillins: recorded from the screen, analysed again.
    page.click("#clinical-context-panel summary")
    page.wait_for_selector("#allergy-add")
    page.fill("input[name=allergy-substance]", "pénicillines")
    journey.click("#allergy-add")
    page.wait_for_selector("#clinical-context-notice >> text=Allergie ajoutée.")
    page.wait_for_selector("#analysis .rx-alert-ci")
    assert "pénicillines" in page.inner_text("#patient-banner")
    journey.shot("renewed-draft-allergy")

    renewed = Prescription.objects.exclude(pk=old.pk).get(patient=patient)
    old.refresh_from_db()
    assert renewed.status == BusinessStatus.DRAFT
    assert old.status == BusinessStatus.SIGNED  # a renewal does not replace
