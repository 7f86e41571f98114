"""A posology's unit fits the drug's form and route: the default unit comes from the form, and a
unit that does not fit ("1 gel" on sachets, "1 cp" on capsules) is refused on the line, with a
clear message, nothing saved and what was typed kept."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.urls import reverse

from ordoclic_client.sandbox.catalogue import curated_records
from origami.patients.posology import UNITS
from prescriptions.drafting import services
from prescriptions.drafting.services import LineInput
from prescriptions.drugs.units import unit_for_form, unit_mismatch, units_for
from prescriptions.errors import PrescriptionError
from prescriptions.models import AuditEvent

from ..conftest import catalogue_drug
from .test_services import add, draft_for
from .test_views import HTMX

FORLAX_SACHET = "69298346"  # poudre pour solution buvable en sachet
AMLOR_GELULE = "63458349"
CURACNE_CAPSULE = "69164379"  # capsule molle
CLAMOXYL_SUSPENSION = "67140810"  # poudre pour suspension buvable (flacon)
ATROVENT_NEBULISEUR = "61267669"
DAKTARIN_GEL = "69184289"


@pytest.mark.parametrize(
    ("form", "route", "label", "default"),
    [
        ("comprimé pelliculé sécable", "orale", "", "comprimé"),
        ("gélule gastro-résistant(e)", "orale", "", "gélule"),
        ("capsule molle", "orale", "", "capsule"),
        ("poudre pour solution buvable", "orale", "FORLAX 10 g, poudre … en sachet", "sachet"),
        ("poudre pour suspension buvable", "orale", "CLAMOXYL 250 mg/ 5 ml, poudre", "ml"),
        ("solution buvable en gouttes", "orale", "", "goutte"),
        ("suspension pour inhalation", "inhalée", "", "bouffée"),
        ("solution pour inhalation par nébuliseur", "inhalée", "", "ampoule"),
        ("solution pour pulvérisation", "sublinguale", "", "pulvérisation"),
        ("suppositoire", "rectale", "", "suppositoire"),
        ("solution injectable", "intraveineuse", "", "ampoule"),
        ("dispositif transdermique", "transdermique", "", "patch"),
        ("gel", "cutanée", "", "application"),
        ("solution", "cutanée", "", "application"),  # the route decides
        ("collyre en solution", "ophtalmique", "", "goutte"),
        ("", "", "", ""),  # unknown: nothing to say
    ],
)
def test_the_default_unit_comes_from_the_form(
    form: str, route: str, label: str, default: str
) -> None:
    assert unit_for_form(form, route, label) == default


def test_every_drug_of_the_catalogue_has_a_default_unit_the_grammar_knows() -> None:
    for record in curated_records():
        routes = record.get("routes") or [""]
        unit = unit_for_form(record["form"], routes[0], record["label"])
        assert unit in UNITS, (record["label"], unit)
        assert set(units_for(form=record["form"], route=routes[0], label=record["label"])) <= set(
            UNITS
        )


@pytest.mark.parametrize(
    ("unit", "form", "fits"),
    [
        ("gélule", "poudre pour solution buvable en sachet", False),
        ("comprimé", "gélule", False),
        ("comprimé", "capsule molle", False),
        ("ml", "comprimé sécable", False),
        ("bouffée", "comprimé", False),
        ("sachet", "poudre pour solution buvable en sachet", True),
        ("gélule", "capsule molle", True),
        ("mg", "comprimé", True),  # an amount of substance fits every form
        ("UI", "solution injectable", True),
        ("comprimé", "", True),  # an unknown form is not checked
    ],
)
def test_a_unit_fits_the_form_or_says_why_not(unit: str, form: str, fits: bool) -> None:
    assert (unit_mismatch(unit=unit, form=form) is None) is fits


@pytest.mark.django_db
def test_a_unit_that_does_not_fit_adds_no_line(prescriber: Any, patient: Any) -> None:
    prescription = draft_for(prescriber, patient)
    with pytest.raises(PrescriptionError, match="ne convient pas à ce médicament") as refused:
        add(prescription, prescriber, catalogue_drug(FORLAX_SACHET), "1 gel le matin 7j")
    assert refused.value.field == "posology"
    assert "sachets" in refused.value.message
    with pytest.raises(PrescriptionError, match="ne convient pas"):
        add(prescription, prescriber, catalogue_drug(AMLOR_GELULE), "1 cp le soir 1 mois")
    with pytest.raises(PrescriptionError, match="ne convient pas"):
        add(prescription, prescriber, catalogue_drug(CURACNE_CAPSULE), "1 cp le soir 1 mois")
    prescription.refresh_from_db()
    assert prescription.lines.count() == 0
    assert prescription.version == 1
    # The default unit and the right one pass.
    line = add(prescription, prescriber, catalogue_drug(FORLAX_SACHET), "1 le matin 7j")
    assert line.unit == "sachet"
    assert line.posology_text.startswith("1 sachet le matin")
    line = add(prescription, prescriber, catalogue_drug(CLAMOXYL_SUSPENSION), "5 ml x3/j 7j")
    assert line.unit == "ml"
    assert add(prescription, prescriber, catalogue_drug(ATROVENT_NEBULISEUR), "1 x3/j").unit == (
        "ampoule"
    )
    assert add(prescription, prescriber, catalogue_drug(DAKTARIN_GEL), "1 x4/j 7j").unit == (
        "application"
    )


@pytest.mark.django_db
def test_changing_a_line_to_a_unit_that_does_not_fit_changes_nothing(
    prescriber: Any, patient: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    line = add(prescription, prescriber, catalogue_drug(AMLOR_GELULE), "1 le soir 1 mois")
    assert line.unit == "gélule"
    prescription.refresh_from_db()
    with pytest.raises(PrescriptionError, match="ne convient pas"):
        services.prescription_line_update(
            line=line,
            acting_user=prescriber,
            version=prescription.version,
            data=LineInput(posology="2 cp le soir 1 mois"),
        )
    line.refresh_from_db()
    assert line.posology_text == "1 gélule le soir pendant 1 mois"
    assert not AuditEvent.objects.filter(action="line_updated").exists()


@pytest.mark.django_db
def test_the_screen_says_why_on_the_line_and_keeps_what_was_typed(
    prescriber: Any, patient: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    client = logged_in_client(prescriber)
    answer = client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {
            "version": prescription.version,
            "drug_code": FORLAX_SACHET,
            "posology": "1 gel le matin pendant 7 jours",
            "instructions": "dans un verre d'eau",
        },
        **HTMX,
    )
    shown = html.unescape(answer.content.decode())
    assert "L'unité « gélule » ne convient pas à ce médicament" in shown
    assert 'value="1 gel le matin pendant 7 jours"' in shown
    assert "dans un verre d'eau" in shown
    assert prescription.lines.count() == 0
