"""Staff lookup for a pharmacist's call: by unique number (spaces and lower case tolerated), the
status, prescriber and lines, only initials and birth year; the full name for a traced reason;
every lookup traced; rate-limited per user."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from prescriptions.followup.dispensing import dispensing_poll
from prescriptions.models import AuditEvent, Prescription
from tests.factories import PatientFactory, StaffFactory

from ..conftest import registered_prescription

pytestmark = [pytest.mark.served, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def own_rate_counters(settings: Any) -> None:
    """Counters live in Redis, shared by parallel workers and earlier runs whose user ids may be
    the same: a window length of this test's own keeps its counts apart."""
    import random

    settings.STAFF_LOOKUP_RATE_WINDOW = random.SystemRandom().randint(3_600, 7_200)


LOOKUP = reverse("prescriptions:lookup")
REVEAL = reverse("prescriptions:lookup_reveal")


@pytest.fixture
def prescription(served_ordoclic: Any, martin: Any) -> Prescription:
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    return registered_prescription(user=martin, patient=patient)


@pytest.fixture
def staff(logged_in_client: Any) -> Any:
    user = StaffFactory()
    return user, logged_in_client(user)


def spaced_lower(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4)).lower()


def test_staff_finds_a_prescription_with_minimal_patient_data(
    prescription: Prescription, staff: Any
) -> None:
    user, client = staff
    response = client.post(LOOKUP, {"number": f"  {spaced_lower(prescription.number)} "})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="lookup-status">Valide, pas encore délivrée' in html
    assert prescription.number in html
    assert "Dr Claire MARTIN" in html
    assert "10100001238" in html
    context = prescription.exercise_context
    assert context.name in html
    assert context.finess in html
    assert "DOLIPRANE 1000 mg, comprimé" in html
    assert prescription.lines.first().posology_text in html
    assert "J.L." in html
    assert "né(e) en 1975" in html
    assert "Lefèvre" not in html
    assert "LEFÈVRE" not in html
    assert "Jeanne" not in html
    event = AuditEvent.objects.get(action="staff_lookup")
    assert (event.actor, event.prescription_id) == (user, prescription.pk)
    assert event.details == {"outcome": "found", "number": prescription.number}


def test_status_follows_dispensing_and_cancellation(
    prescription: Prescription, staff: Any, served_ordoclic: Any
) -> None:
    _, client = staff
    line = prescription.lines.order_by("position").first()
    with served_ordoclic.control() as control:
        control.post(
            f"/_sandbox/prescriptions/{prescription.number}/dispense",
            json={"lines": [{"lineId": line.line_ref, "status": "full"}]},
        ).raise_for_status()
    dispensing_poll(limit=5)
    html = client.post(LOOKUP, {"number": prescription.number}).content.decode()
    assert 'id="lookup-status">Délivrée en partie' in html


def test_unknown_and_malformed_numbers(prescription: Prescription, staff: Any) -> None:
    _, client = staff
    unknown = client.post(LOOKUP, {"number": "zz99 zz99 zz99"})
    assert unknown.status_code == 200
    assert "Aucune ordonnance avec ce numéro" in unknown.content.decode()
    assert "ZZ99ZZ99ZZ99" in unknown.content.decode()
    malformed = client.post(LOOKUP, {"number": "12#4/ABC"})
    assert malformed.status_code == 422
    assert "n&#x27;est pas un numéro d&#x27;ordonnance" in malformed.content.decode()
    empty = client.post(LOOKUP, {"number": "   "})
    assert empty.status_code == 422
    outcomes = list(
        AuditEvent.objects.filter(action="staff_lookup")
        .order_by("pk")
        .values_list("details__outcome", flat=True)
    )
    assert outcomes == ["unknown", "malformed", "malformed"]


def test_revealing_the_name_needs_a_reason_and_is_traced(
    prescription: Prescription, staff: Any
) -> None:
    user, client = staff
    refused = client.post(REVEAL, {"number": prescription.number, "reason": " "})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "motif obligatoire" in html
    assert "LEFÈVRE" not in html
    assert not AuditEvent.objects.filter(action="patient_name_revealed").exists()

    reason = "Le pharmacien doit vérifier l'identité avant délivrance"
    shown = client.post(REVEAL, {"number": prescription.number.lower(), "reason": reason})
    assert shown.status_code == 200
    assert "LEFÈVRE Jeanne" in shown.content.decode()
    event = AuditEvent.objects.get(action="patient_name_revealed")
    assert (event.actor, event.prescription_id) == (user, prescription.pk)
    assert event.details["reason"] == reason


def test_lookups_are_rate_limited_per_user(
    prescription: Prescription, staff: Any, logged_in_client: Any, settings: Any
) -> None:
    settings.STAFF_LOOKUP_RATE_LIMIT = 2
    _, client = staff
    for _ in range(2):
        assert client.post(LOOKUP, {"number": prescription.number}).status_code == 200
    limited = client.post(LOOKUP, {"number": prescription.number})
    assert limited.status_code == 429
    assert "Trop de recherches en peu de temps" in limited.content.decode()
    assert prescription.number not in limited.content.decode().split("lookup-result")[-1]
    # Another staff member is not affected.
    from django.test import Client

    from tests.helpers import login

    other = login(Client(), StaffFactory())
    assert other.post(LOOKUP, {"number": prescription.number}).status_code == 200


def test_htmx_gets_the_result_partial_and_home_leads_there(
    prescription: Prescription, staff: Any
) -> None:
    _, client = staff
    partial = client.post(LOOKUP, {"number": prescription.number}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert html.lstrip().startswith('<section id="lookup-result"')
    home = client.get(reverse("home")).content.decode()
    assert f'action="{LOOKUP}"' in home


def test_prescribers_cannot_use_the_lookup(
    prescription: Prescription, martin: Any, logged_in_client: Any
) -> None:
    response = logged_in_client(martin).post(LOOKUP, {"number": prescription.number})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="staff_lookup").exists()


def test_a_replaced_prescription_names_its_replacement(
    prescription: Prescription,
    staff: Any,
    martin: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from prescriptions.followup.reissue import prescription_reissue

    from ..conftest import sign_and_register

    draft = prescription_reissue(prescription=prescription, acting_user=martin)
    with django_capture_on_commit_callbacks(execute=True):
        replacement = sign_and_register(user=martin, prescription=draft)
    _, client = staff
    html = client.post(LOOKUP, {"number": prescription.number}).content.decode()
    assert 'id="lookup-status">Annulée et remplacée' in html
    assert replacement.number in html
