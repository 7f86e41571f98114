from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from origami.patients.models import Patient
from tests.factories import AllergyFactory, PatientFactory, PrescriberFactory, StaffFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _values(patient: Patient, **changes: Any) -> dict[str, Any]:
    values = {
        "weight_kg": patient.weight_kg or "",
        "height_cm": patient.height_cm or "",
        "creatinine_clearance": patient.creatinine_clearance or "",
        "creatinine_clearance_measured_on": patient.creatinine_clearance_measured_on or "",
        "pregnancy_weeks": "" if patient.pregnancy_weeks is None else patient.pregnancy_weeks,
        "breastfeeding": patient.breastfeeding,
    }
    values.update(changes)
    return values


def test_a_prescriber_updates_measures_and_the_page_is_told_the_record_changed(
    logged_in_client: Any,
) -> None:
    patient = PatientFactory(sex="F", weight_kg=62)
    client = logged_in_client(PrescriberFactory())
    url = reverse("patients:clinical_context", args=[patient.pk])
    response = client.post(
        url,
        _values(
            patient,
            weight_kg="58.5",
            creatinine_clearance="42",
            creatinine_clearance_measured_on="2026-11-20",
            pregnancy_weeks="12",
        ),
        **HTMX,
    )
    assert "patient-record-changed" in response.headers["HX-Trigger"]
    assert "Dossier mis à jour" in response.content.decode()
    patient.refresh_from_db()
    assert patient.weight_kg == Decimal("58.5")
    assert patient.creatinine_clearance == Decimal("42")
    assert patient.creatinine_clearance_measured_on == datetime.date(2026, 11, 20)
    assert patient.pregnancy_weeks == 12


def test_a_clearance_without_its_date_is_refused_in_words_and_nothing_is_saved(
    logged_in_client: Any,
) -> None:
    patient = PatientFactory()
    client = logged_in_client(PrescriberFactory())
    response = client.post(
        reverse("patients:clinical_context", args=[patient.pk]),
        _values(patient, creatinine_clearance="25"),
        **HTMX,
    )
    assert "Indiquez la date de mesure de la clairance" in response.content.decode()
    assert "HX-Trigger" not in response.headers
    patient.refresh_from_db()
    assert patient.creatinine_clearance is None


def test_allergies_and_treatments_are_added_and_removed(logged_in_client: Any) -> None:
    patient = PatientFactory()
    allergy = AllergyFactory(patient=patient, substance="AINS")
    client = logged_in_client(PrescriberFactory())
    client.post(
        reverse("patients:allergy_add", args=[patient.pk]),
        {"allergy-substance": "pénicillines", "allergy-reaction": "urticaire"},
        **HTMX,
    )
    client.post(reverse("patients:allergy_remove", args=[patient.pk, allergy.pk]), **HTMX)
    assert list(patient.allergies.values_list("substance", flat=True)) == ["pénicillines"]
    refused = client.post(
        reverse("patients:treatment_add", args=[patient.pk]),
        {"treatment-label": "KARDEGIC 75", "treatment-cis": "123"},
        **HTMX,
    )
    assert 'role="alert"' in refused.content.decode()
    client.post(
        reverse("patients:treatment_add", args=[patient.pk]),
        {
            "treatment-label": "KARDEGIC 75",
            "treatment-cis": "64755969",
            "treatment-posology": "1 sachet le midi",
        },
        **HTMX,
    )
    [treatment] = patient.current_treatments.all()
    assert (treatment.cis, treatment.posology) == ("64755969", "1 sachet le midi")
    client.post(reverse("patients:treatment_remove", args=[patient.pk, treatment.pk]), **HTMX)
    assert not patient.current_treatments.exists()


def test_staff_cannot_change_a_record(logged_in_client: Any) -> None:
    patient = PatientFactory(weight_kg=62)
    client = logged_in_client(StaffFactory())
    response = client.post(
        reverse("patients:clinical_context", args=[patient.pk]), _values(patient, weight_kg="90")
    )
    assert response.status_code in (302, 403)
    patient.refresh_from_db()
    assert patient.weight_kg == 62


def test_a_change_made_from_the_patient_page_redraws_its_facts_and_a_refusal_does_not(
    logged_in_client: Any,
) -> None:
    """The patient page sends `page=patient` (its panel's hx-vals): the answer carries the
    page's header and cards as they now are. The prescription screen has its own banner,
    redrawn with its analysis; it gets no patient-page facts."""
    patient = PatientFactory(weight_kg=21, height_cm=118)
    client = logged_in_client(PrescriberFactory())
    url = reverse("patients:clinical_context", args=[patient.pk])

    cleared = client.post(url, {**_values(patient, weight_kg=""), "page": "patient"}, **HTMX)
    facts = cleared.content.decode().split('<div id="patient-facts" hx-swap-oob="true">')[1]
    assert "118 cm" in facts
    assert " kg" not in facts.split("</header>")[0]

    allergy = client.post(
        reverse("patients:allergy_add", args=[patient.pk]),
        {"allergy-substance": "amoxicilline", "page": "patient"},
        **HTMX,
    ).content.decode()
    assert "amoxicilline" in allergy.split('id="patient-facts"')[1]

    from_screen = client.post(url, _values(patient, weight_kg="20"), **HTMX).content.decode()
    assert "Dossier mis à jour" in from_screen
    assert 'name="weight_kg" value="20"' in from_screen  # as written, not "20.00"
    assert "patient-facts" not in from_screen
    refused = client.post(
        url, {**_values(patient, weight_kg="-3"), "page": "patient"}, **HTMX
    ).content.decode()
    assert 'role="alert"' in refused
    assert "patient-facts" not in refused


def test_a_recorded_clearance_keeps_its_date_in_the_form_so_the_weight_can_be_changed(
    logged_in_client: Any,
) -> None:
    """The form is sent back as the browser shows it: the measure's date must be in it."""
    patient = PatientFactory(
        weight_kg=71,
        creatinine_clearance=25,
        creatinine_clearance_measured_on=datetime.date(2026, 11, 25),
    )
    client = logged_in_client(PrescriberFactory())
    url = reverse("patients:clinical_context", args=[patient.pk])
    form = client.get(url, **HTMX).content.decode()
    assert 'type="date" name="creatinine_clearance_measured_on" value="2026-11-25"' in form

    saved = client.post(url, _values(patient, weight_kg="69"), **HTMX).content.decode()
    assert "Dossier mis à jour" in saved
    patient.refresh_from_db()
    assert patient.weight_kg == 69
    assert patient.creatinine_clearance_measured_on == datetime.date(2026, 11, 25)


@pytest.mark.parametrize("weight", ["0", "-3", "401"])
def test_a_weight_out_of_range_is_refused_in_words_that_fit_it(
    logged_in_client: Any, weight: str
) -> None:
    patient = PatientFactory(weight_kg=62)
    client = logged_in_client(PrescriberFactory())
    response = client.post(
        reverse("patients:clinical_context", args=[patient.pk]),
        _values(patient, weight_kg=weight),
        **HTMX,
    )
    assert "Le poids doit être supérieur à 0 kg et au plus de 400 kg." in response.content.decode()
    patient.refresh_from_db()
    assert patient.weight_kg == 62
