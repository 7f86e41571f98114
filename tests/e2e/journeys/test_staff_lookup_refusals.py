"""Staff answer a pharmacist's call: a malformed number, then a reveal with a blank reason, are
refused (422) with the reason shown where they typed, and what they typed kept; then the right
number and a real reason work."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import StaffFactory
from tests.prescriptions.conftest import registered_prescription

from ..helpers import log_in
from .conftest import Journey
from .steps import a_patient, linked_prescriber

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


def test_staff_lookup_malformed_number_and_blank_reason(
    served_ordoclic: Any, live_server: Any, journey: Journey
) -> None:
    page = journey.page
    prescription = registered_prescription(user=linked_prescriber(), patient=a_patient())
    log_in(page, live_server.url, StaffFactory())
    page.goto(f"{live_server.url}/ordonnances/assistance/")
    journey.expect_status(422)

    page.fill("#lookup-number", "7KQ2 M9XD !?")
    journey.click(".search-form button[type=submit]")
    error = page.locator("#lookup-result .message-error")
    error.wait_for()
    assert error.inner_text().strip(), "the refusal says why"
    assert page.input_value("#lookup-number") == "7KQ2 M9XD !?"
    journey.shot("malformed-number")

    page.fill("#lookup-number", prescription.number.lower())
    journey.click(".search-form button[type=submit]")
    page.wait_for_selector("#lookup-status")
    page.click(".lookup-reveal summary")
    page.fill("#reveal-reason", "   ")  # passes the browser's "required", not the server
    journey.click(".lookup-reveal button[type=submit]")
    page.wait_for_selector("#reveal-error")
    assert page.inner_text("#reveal-error").strip()
    assert page.is_visible("#reveal-reason")
    assert page.locator("#lookup-patient strong").count() == 0  # nothing revealed
    journey.shot("blank-reason")

    page.fill("#reveal-reason", "Le pharmacien confirme l'identité du patient")
    journey.click(".lookup-reveal button[type=submit]")
    page.wait_for_selector("#lookup-patient strong")
    assert page.inner_text("#lookup-patient strong") == "LEFÈVRE Jeanne"
