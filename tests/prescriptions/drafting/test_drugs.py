"""The drug of a line comes from Ordoclic, or from what origami last saw of it when Ordoclic is
down: never from what the browser posted."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from prescriptions.drafting.drugs import drug_choice_for_code
from prescriptions.errors import PrescriptionError
from prescriptions.models import Prescription

from ..conftest import sandbox_fault
from .test_services import draft_for
from .test_views import HTMX

pytestmark = pytest.mark.django_db

SIMVASTATINE = "69094525"


def test_with_ordoclic_up_the_drug_is_ordoclics(ordoclic: Any) -> None:
    choice = drug_choice_for_code(rpps="10100001238", code=SIMVASTATINE)
    assert "SIMVASTATINE" in choice.label.upper()
    with pytest.raises(PrescriptionError, match="Médicament inconnu"):
        drug_choice_for_code(rpps="10100001238", code="12345678")


def test_with_ordoclic_down_an_unknown_drug_is_refused_and_a_known_one_remembered(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    client = logged_in_client(prescriber)
    sandbox_fault(ordoclic, "down")
    url = reverse("prescriptions:line_add", args=[prescription.pk])
    forged = {
        "version": prescription.version,
        "drug_code": SIMVASTATINE,
        "drug_label": "PRODUIT INVENTÉ",
        "posology": "1 cp le soir",
    }
    refused = client.post(url, forged, **HTMX).content.decode()
    assert "pas encore connu" in refused
    assert prescription.lines.count() == 0

    # Once origami has seen the drug (a line written while Ordoclic answered), it is remembered.
    sandbox_fault(ordoclic, "ok")
    other = draft_for(prescriber, patient)
    client.post(
        reverse("prescriptions:line_add", args=[other.pk]),
        {"version": other.version, "drug_code": SIMVASTATINE, "posology": "1 cp le soir"},
        **HTMX,
    )
    sandbox_fault(ordoclic, "down")
    prescription = Prescription.objects.get(pk=prescription.pk)
    forged["version"] = prescription.version
    client.post(url, forged, **HTMX)
    [line] = prescription.lines.all()
    assert "SIMVASTATINE" in line.label.upper()  # what origami saw, not what was posted
