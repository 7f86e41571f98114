from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from prescriptions.drafting.renewal import prescription_renew
from prescriptions.errors import PrescriptionError
from prescriptions.models import AuditAction, AuditEvent, BusinessStatus, Prescription
from tests.factories import AllergyFactory

from ..conftest import draft_with_lines, other_prescriber, registered_prescription
from .test_services import analysed

pytestmark = pytest.mark.django_db

AMOX = ("64539416", "CLAMOXYL 1 g, comprimé dispersible", "amoxicilline", "comprimé dispersible")
SIMVA = ("69094525", "SIMVASTATINE BIOGARAN 20 mg", "simvastatine", "comprimé pelliculé")
METFORMIN = ("69065160", "METFORMINE ALMUS 1000 mg", "metformine", "comprimé pelliculé")


def test_renewing_gives_a_new_draft_with_the_same_lines_analysed_on_todays_record(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    old = registered_prescription(user=prescriber, patient=patient, drugs=(SIMVA, METFORMIN, AMOX))
    # Since then the record learnt of an allergy: the renewal is analysed against it.
    AllergyFactory(patient=patient, substance="pénicillines")
    client = logged_in_client(prescriber)
    response = client.post(reverse("prescriptions:renew", args=[old.pk]))
    new = Prescription.objects.exclude(pk=old.pk).get(patient=patient)
    assert response.url == reverse("prescriptions:detail", args=[new.pk])
    assert new.status == BusinessStatus.DRAFT
    assert new.replaces_id is None
    assert new.signed_at is None
    assert new.created_at > old.signed_at
    assert [(line.drug_code, line.posology_text) for line in new.lines.order_by("position")] == [
        (line.drug_code, line.posology_text) for line in old.lines.order_by("position")
    ]
    # Unlike a reissue, the renewed prescription stays valid.
    old.refresh_from_db()
    assert (old.status, old.transmission_status) == (BusinessStatus.SIGNED, "registered")
    event = AuditEvent.objects.get(prescription=new, action=AuditAction.RENEWED)
    assert event.details["renews"] == old.pk
    screen = analysed(new, prescriber)
    assert any(view.alert.type == "allergy" for view in screen.alerts)
    # The renewed lines still running are not treatments beside their renewal: no duplicate.
    assert not [
        v for v in screen.alerts if v.alert.type in ("same_drug", "redundant_active_ingredient")
    ]
    assert new.renews_id == old.pk
    page = client.get(reverse("prescriptions:detail", args=[new.pk])).content.decode()
    assert 'id="drug-search"' in page  # the prescription screen, ready to sign or change


def test_only_a_signed_prescription_one_may_see_is_renewed(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    draft = draft_with_lines(user=prescriber, patient=patient)
    with pytest.raises(PrescriptionError, match="signée"):
        prescription_renew(prescription=draft, acting_user=prescriber, exercise_context=None)
    old = registered_prescription(user=prescriber, patient=patient)
    other = other_prescriber()
    assert (
        logged_in_client(other).post(reverse("prescriptions:renew", args=[old.pk])).status_code
        == 404
    )
    assert Prescription.objects.filter(patient=patient).count() == 2


def test_the_patient_card_and_the_prescription_page_offer_to_renew(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    old = registered_prescription(user=prescriber, patient=patient)
    client = logged_in_client(prescriber)
    card = client.get(reverse("prescriptions:patient_history", args=[patient.pk])).content.decode()
    assert reverse("prescriptions:renew", args=[old.pk]) in card
    page = client.get(reverse("prescriptions:detail", args=[old.pk])).content.decode()
    assert 'id="renew"' in page
