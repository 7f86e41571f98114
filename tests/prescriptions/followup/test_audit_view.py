"""The admins' audit trail: who read or did what on a prescription, filterable by prescription,
user, action and date, exportable as CSV; no patient identity in it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from prescriptions.models import AuditEvent, Prescription
from tests.factories import AdminFactory, PatientFactory, StaffFactory

from ..conftest import registered_prescription

pytestmark = [pytest.mark.served, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def own_rate_counters(settings: Any) -> None:
    """Counters live in Redis, shared by parallel workers and earlier runs whose user ids may be
    the same: a window length of this test's own keeps its counts apart."""
    import random

    settings.STAFF_LOOKUP_RATE_WINDOW = random.SystemRandom().randint(3_600, 7_200)


AUDIT = reverse("prescriptions:audit")
EXPORT = reverse("prescriptions:audit_export")


@pytest.fixture
def traced(served_ordoclic: Any, martin: Any, logged_in_client: Any) -> dict[str, Any]:
    """Two registered prescriptions; a staff member looks one up and reveals the name."""
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    looked_up = registered_prescription(user=martin, patient=patient)
    other = registered_prescription(user=martin)
    staff = StaffFactory(username="=standard")  # a name a spreadsheet would run as a formula
    client = logged_in_client(staff)
    client.post(reverse("prescriptions:lookup"), {"number": looked_up.number})
    client.post(
        reverse("prescriptions:lookup_reveal"),
        {"number": looked_up.number, "reason": "Confirmer l'identité"},
    )
    client.post(reverse("prescriptions:lookup"), {"number": "INCONNU42"})
    return {"looked_up": looked_up, "other": other, "staff": staff}


def admin_client(logged_in_client: Any) -> Any:
    return logged_in_client(AdminFactory())


def test_admin_sees_who_did_what(traced: dict[str, Any], logged_in_client: Any) -> None:
    html = admin_client(logged_in_client).get(AUDIT).content.decode()
    assert "Consultation par l&#x27;assistance" in html
    assert "Nom du patient révélé à l&#x27;assistance" in html
    assert "Enregistrée chez Ordoclic" in html
    assert traced["looked_up"].number in html
    assert "INCONNU42" in html
    assert "Lefèvre" not in html
    assert "LEFÈVRE" not in html


def test_filters_by_prescription_user_action_and_date(
    traced: dict[str, Any], logged_in_client: Any
) -> None:
    client = admin_client(logged_in_client)
    looked_up: Prescription = traced["looked_up"]
    by_number = client.get(AUDIT, {"ordonnance": looked_up.number.lower()})
    rows = by_number.context["page"].paginator.count
    assert rows == AuditEvent.objects.filter(prescription=looked_up).count()
    assert traced["other"].number not in by_number.content.decode()

    by_user = client.get(AUDIT, {"utilisateur": traced["staff"].username})
    assert {e.action for e in by_user.context["page"].object_list} == {
        "staff_lookup",
        "patient_name_revealed",
    }
    by_action = client.get(AUDIT, {"action": "patient_name_revealed"})
    assert by_action.context["page"].paginator.count == 1

    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert client.get(AUDIT, {"du": tomorrow}).context["page"].paginator.count == 0
    today = timezone.localdate().isoformat()
    assert client.get(AUDIT, {"du": today, "au": today}).context["page"].paginator.count > 0
    bad = client.get(AUDIT, {"du": "31/12/2026"})
    assert "Date « du » illisible" in bad.content.decode()

    partial = client.get(AUDIT, {"action": "staff_lookup"}, HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<section id="audit-results"')


def test_csv_export_follows_the_filters_and_is_traced(
    traced: dict[str, Any], logged_in_client: Any
) -> None:
    response = admin_client(logged_in_client).get(EXPORT, {"utilisateur": "=standard"})
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    assert "Lefèvre" not in text
    assert "LEFÈVRE" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["date", "utilisateur", "role", "action"]
    body = rows[1:]
    assert sorted(r[3] for r in body) == ["patient_name_revealed", "staff_lookup", "staff_lookup"]
    assert {r[1] for r in body} == {"'=standard"}  # never a formula in a spreadsheet
    reveal = next(r for r in body if r[3] == "patient_name_revealed")
    assert reveal[6] == traced["looked_up"].number
    assert "Confirmer l'identité" in reveal[7]
    assert AuditEvent.objects.filter(action="audit_exported").count() == 1


def test_only_admins_reach_the_trail(
    traced: dict[str, Any], logged_in_client: Any, martin: Any
) -> None:
    assert logged_in_client(traced["staff"]).get(AUDIT).status_code == 403
    assert logged_in_client(martin).get(EXPORT).status_code == 403
