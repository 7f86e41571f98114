"""A pharmacist calls: staff looks the prescription up by its number (typed with spaces and in
lower case), sees its status with only the patient's initials, reveals the full name with a
reason; the admin's audit trail shows both events."""

from __future__ import annotations

from typing import Any

import pytest

from practitioners.ordoclic import practitioner_link_ordoclic
from tests.factories import (
    AdminFactory,
    PatientFactory,
    PrescriberFactory,
    StaffFactory,
)
from tests.prescriptions.conftest import registered_prescription

from .conftest import screenshot
from .helpers import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


def test_staff_lookup_reveal_and_audit_trail(
    served_ordoclic: Any, live_server: Any, browser: Any
) -> None:
    prescriber = PrescriberFactory(
        first_name="Claire", last_name="Martin", practitioner_record__rpps="10100001238"
    )
    practitioner_link_ordoclic(practitioner=prescriber.practitioner, acting_user=prescriber)
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    prescription = registered_prescription(user=prescriber, patient=patient)
    number = prescription.number
    typed = " ".join(number[i : i + 4] for i in range(0, len(number), 4)).lower()

    staff = StaffFactory(first_name="Inès", last_name="Roux")
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, live_server.url, staff)
    page.fill("#home-lookup-number", typed)
    page.press("#home-lookup-number", "Enter")
    page.wait_for_selector("#lookup-status")
    assert page.inner_text("#lookup-status") == "Valide, pas encore délivrée"
    assert page.inner_text("#lookup-patient").startswith("J.L.")
    assert "Lefèvre".upper() not in page.content()
    assert "Dr Claire MARTIN" in page.content()
    screenshot(page, "staff-lookup")

    page.click(".lookup-reveal summary")
    page.fill("#reveal-reason", "Le pharmacien confirme l'identité du patient")
    page.click(".lookup-reveal button[type=submit]")
    page.wait_for_selector("#lookup-patient strong")
    assert page.inner_text("#lookup-patient strong") == "LEFÈVRE Jeanne"
    screenshot(page, "staff-lookup-revealed")
    context.close()

    admin = AdminFactory()
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, live_server.url, admin)
    page.goto(f"{live_server.url}/ordonnances/journal/?utilisateur={staff.username}")
    table = page.inner_text(".audit-table")
    assert "Consultation par l'assistance" in table
    assert "Nom du patient révélé à l'assistance" in table
    assert number in table
    assert "LEFÈVRE" not in table
    screenshot(page, "audit-trail")
    context.close()
