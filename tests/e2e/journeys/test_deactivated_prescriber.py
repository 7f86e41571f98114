"""A prescriber deactivated at Ordoclic since their account was linked (the sandbox's Sophie
DURAND) is told at login, on the home page, the patient's page and the prescription screen,
before writing anything; options that cannot help ("Je signerai sans analyse") are not
offered, and nothing can be signed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from practitioners.models import OrdoclicLinkStatus
from prescriptions.models import BusinessStatus, Prescription
from tests.factories import PrescriberFactory

from ..helpers import log_in, open_new_prescription
from .conftest import Journey
from .steps import a_patient, add_line

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]

SOPHIE_DURAND = "10100007896"  # deactivated in the sandbox's directory


def told(page: Any) -> None:
    state = page.locator("#account-state")
    state.wait_for()
    text = state.inner_text()
    assert "Vous ne pouvez pas signer" in text, text
    assert "désactivé chez Ordoclic" in text, text


def test_the_deactivated_prescriber_is_told_before_writing(
    served_ordoclic: Any, live_server: Any, journey: Journey
) -> None:
    page = journey.page
    user = PrescriberFactory(
        first_name="Sophie", last_name="Durand", practitioner_record__rpps=SOPHIE_DURAND
    )
    # Linked when the admin set the account up; deactivated at Ordoclic since.
    practitioner = user.practitioner
    practitioner.ordoclic_link_status = OrdoclicLinkStatus.LINKED
    practitioner.ordoclic_professional_id = uuid.uuid4()
    practitioner.save()
    patient = a_patient()

    log_in(page, live_server.url, user)
    told(page)  # the first page after login (home: the patient search)
    journey.shot("home")
    practitioner.refresh_from_db()
    assert practitioner.ordoclic_link_status == OrdoclicLinkStatus.DEACTIVATED

    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.wait_for_selector("#new-prescription")
    told(page)
    journey.shot("patient")

    open_new_prescription(page, live_server.url, patient)
    told(page)
    assert page.is_disabled(".rx-sign-button")
    assert "Votre compte n'est pas actif chez Ordoclic" in page.inner_text(".rx-blockers")
    journey.shot("screen")

    # Writing stays possible (a draft for later), signing does not, and no option pretends.
    add_line(page, "paracetamol", "DOLIPRANE", "1 cp x3/j 5j", "1 comprimé 3 fois par jour")
    page.wait_for_selector("#analysis .rx-not-done")  # Ordoclic refuses to analyse for them
    assert page.locator("text=Je signerai sans analyse").count() == 0
    assert "sans analyse" not in page.inner_text(".rx-blockers")
    assert page.is_disabled(".rx-sign-button")
    journey.shot("draft-not-signable")
    assert Prescription.objects.get(patient=patient).status == BusinessStatus.DRAFT
