from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from prescriptions.models import Prescription
from tests.factories import PatientFactory

from ..conftest import draft_with_lines, other_prescriber, registered_prescription

pytestmark = pytest.mark.django_db

AMOX = ("64539416", "CLAMOXYL 1 g, comprimé dispersible", "amoxicilline", "comprimé dispersible")
DOLIPRANE = ("60234100", "DOLIPRANE 1000 mg, comprimé", "paracétamol", "comprimé")


def _listed(client: Any, **params: str) -> list[int]:
    response = client.get(reverse("prescriptions:list"), params)
    return [p.pk for p in response.context["prescriptions"]]


def test_my_prescriptions_are_found_by_patient_drug_or_number_latest_shown_date_first(
    prescriber: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    lefevre = PatientFactory(last_name="Lefèvre")
    dupont = PatientFactory(last_name="Dupont")
    old_signed = registered_prescription(user=prescriber, patient=lefevre, drugs=(AMOX,))
    draft = draft_with_lines(user=prescriber, patient=dupont, drugs=(DOLIPRANE,))
    # Created long ago, signed now: it is listed by its signing date, the date it shows.
    Prescription.objects.filter(pk=old_signed.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=30)
    )
    client = logged_in_client(prescriber)
    assert _listed(client) == [draft.pk, old_signed.pk]
    Prescription.objects.filter(pk=old_signed.pk).update(signed_at=timezone.now())
    assert _listed(client) == [old_signed.pk, draft.pk]
    assert _listed(client, q="lefevre") == [old_signed.pk]
    assert _listed(client, q="amoxicilline") == [old_signed.pk]
    assert _listed(client, q="doli") == [draft.pk]
    assert _listed(client, q=old_signed.number[:6].lower()) == [old_signed.pk]
    assert _listed(client, q="dupont amox") == []
    assert (
        "Aucune ordonnance pour"
        in client.get(
            reverse("prescriptions:list"), {"q": "zzz"}, HTTP_HX_REQUEST="true"
        ).content.decode()
    )


def test_recent_patients_are_those_i_opened_or_wrote_for_latest_first(
    prescriber: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    first, second, written = PatientFactory(), PatientFactory(), PatientFactory()
    client = logged_in_client(prescriber)
    client.get(reverse("patients:detail", args=[first.pk]))
    client.get(reverse("patients:detail", args=[second.pk]))
    draft_with_lines(user=prescriber, patient=written)
    page = client.get(reverse("prescriptions:recent_patients"))
    assert [p.pk for p in page.context["patients"]] == [written.pk, second.pk, first.pk]
    other = other_prescriber()
    assert (
        logged_in_client(other).get(reverse("prescriptions:recent_patients")).context["patients"]
        == []
    )
