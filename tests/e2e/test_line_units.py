"""A unit that does not fit the drug, typed in the browser: "1 gel" on sachets is refused on the
line with a clear message, nothing is added, and what was typed stays in the field; the form's
own unit (no unit typed) is taken from the drug's form."""

from __future__ import annotations

from typing import Any

import pytest

from prescriptions.models import PrescriptionLine
from tests.chaos import workload
from tests.factories import PatientFactory

from .conftest import screenshot
from .helpers import log_in, open_new_prescription, submit_line

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


def test_a_unit_that_does_not_fit_is_refused_on_the_line(
    live_server: Any, page: Any, served_ordoclic: Any
) -> None:
    martin = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    log_in(page, live_server.url, martin)
    open_new_prescription(page, live_server.url, patient)

    submit_line(page, "forlax", "1 gel le matin 7j")
    error = page.wait_for_selector("#add-line .field-error")
    screenshot(page, "line-unit-mismatch")
    assert "L'unité « gélule » ne convient pas à ce médicament" in error.inner_text()
    assert "(poudre pour solution buvable en sachet)" in error.inner_text()
    assert "sachets" in error.inner_text()
    assert page.input_value("#posology-input") == "1 gel le matin 7j"
    assert not PrescriptionLine.objects.filter(prescription__patient=patient).exists()

    # Without a unit, the drug's own: sachets.
    page.fill("#posology-input", "1 le matin 7j")
    page.press("#posology-input", "Enter")
    page.wait_for_selector("text=1 sachet le matin pendant 7 jours")
    assert PrescriptionLine.objects.get(prescription__patient=patient).unit == "sachet"
