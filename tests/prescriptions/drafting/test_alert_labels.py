"""The screen labels an alert by what it is about (its type), never a dose alert by an
interaction level (issue 13): through the app and the in-process sandbox."""

from __future__ import annotations

import datetime
import re
from html import unescape
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from practitioners.ordoclic import practitioner_link_ordoclic
from prescriptions.models import Prescription
from tests.factories import PatientFactory, PrescriberFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def prescriber(ordoclic: Any) -> Any:
    user = PrescriberFactory(practitioner_record__rpps="10100001238")
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    return user


def _screen_labels(client: Any, patient: Any, search: str, posology: str) -> list[tuple[str, str]]:
    client.post(reverse("prescriptions:create", args=[patient.pk]))
    prescription = Prescription.objects.get(patient=patient)
    html = client.get(
        reverse("prescriptions:drug_search", args=[prescription.pk]), {"q": search}, **HTMX
    ).content.decode()
    code = re.search(r'data-code="([^"]+)"', html)
    assert code is not None, html
    client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {"version": prescription.version, "drug_code": code.group(1), "posology": posology},
        **HTMX,
    )
    html = client.post(reverse("prescriptions:analyse", args=[prescription.pk]), **HTMX)
    # the label at the head of each alert (the line's badge is another matter)
    head = r'<p class="rx-alert-head"><span class="rx-level level-(\w+)">([^<]+)</span>'
    return re.findall(head, html.content.decode())


def _six_years_old() -> datetime.date:
    today = datetime.date.today()
    return datetime.date(today.year - 6, 1, 15)


def test_a_child_s_paracetamol_overdose_reads_dose_excessive(
    prescriber: Any, logged_in_client: Any
) -> None:
    child = PatientFactory(birth_date=_six_years_old(), weight_kg=21)
    labels = _screen_labels(
        logged_in_client(prescriber), child, "doliprane 1000", "1 cp 4 fois par jour 3 jours"
    )
    assert labels == [("ci", "Dose excessive")]


def test_an_adult_overdose_reads_dose_excessive_not_association_deconseillee(
    prescriber: Any, logged_in_client: Any
) -> None:
    labels = _screen_labels(
        logged_in_client(prescriber), PatientFactory(), "doliprane 1000", "1 cp 6 fois par jour"
    )
    assert labels == [("asdec", "Dose excessive")]


def test_a_child_without_weight_reads_poids_necessaire(
    prescriber: Any, logged_in_client: Any
) -> None:
    child = PatientFactory(birth_date=_six_years_old(), weight_kg=None)
    labels = _screen_labels(
        logged_in_client(prescriber), child, "doliprane 1000", "1 cp 3 fois par jour"
    )
    assert labels == [("pe", "Poids nécessaire")]


@pytest.mark.parametrize(
    ("alert_type", "level", "label"),
    [
        ("drug_interaction", "ASDEC", "Association déconseillée"),
        ("drug_interaction", "CI", "Contre-indication"),
        ("posology_overdose", "ASDEC", "Dose excessive"),
        ("weight_required", "PE", "Poids nécessaire"),
        ("not_checked", "INFO", "Vérification non effectuée"),
        ("class_duplicate", "APEC", "Doublon de classe"),
        ("redundant_active_ingredient", "ASDEC", "Substance en double"),
        ("allergy", "CI", "Allergie"),
        ("contraindication", "CI", "Contre-indication"),
        ("a_future_type", "PE", "Précaution d'emploi"),
    ],
)
def test_the_label_follows_the_type_and_the_level_word_only_interactions(
    alert_type: str, level: str, label: str
) -> None:
    words = {
        "CI": "Contre-indication",
        "ASDEC": "Association déconseillée",
        "PE": "Précaution d'emploi",
        "APEC": "À prendre en compte",
        "INFO": "Information",
    }
    html = render_to_string(
        "prescriptions/_alert_label.html",
        {"type": alert_type, "level": level, "level_display": words[level]},
    )
    assert unescape(html).strip() == label
