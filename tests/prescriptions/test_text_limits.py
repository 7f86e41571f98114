"""Every free text of the prescriptions has a maximum length the server enforces, with a clear
French message that quotes at most a short excerpt of what was typed (never a pasted page, and
never twice). The limits themselves are in `origami/text.py`."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from prescriptions.drafting import services
from prescriptions.errors import PrescriptionError
from prescriptions.models import AlertDecision, Cancellation, PrescriptionLine
from tests.chaos import workload
from tests.factories import AdminFactory, StaffFactory

from .conftest import registered_prescription
from .drafting.test_services import CLARI, SIMVA, add, analysed, draft_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# What a slip of the clipboard pastes: 5,000 characters.
PASTE = ("1 cp matin et encore " * 300)[:4999] + "x"
TOO_LONG = "caractères au plus (5 000 saisis)"


def outside_inputs(html: str) -> str:
    """The page without the values kept in its fields (what was typed is kept there on purpose):
    what remains is what the page says."""
    html = re.sub(r'value="[^"]*"', "", html)
    return re.sub(r"<textarea[^>]*>.*?</textarea>", "", html, flags=re.S)


def assert_refused_without_quoting(html: str) -> None:
    said = outside_inputs(html).replace("\u202f", " ").replace("\xa0", " ")
    assert TOO_LONG in said, said[-2000:]
    # At most a short excerpt (40 characters) of the paste is quoted anywhere.
    assert PASTE[:60] not in said


@pytest.fixture(autouse=True)
def own_rate_counters(settings: Any) -> None:
    import random

    settings.STAFF_LOOKUP_RATE_WINDOW = random.SystemRandom().randint(3_600, 7_200)


@pytest.mark.parametrize("field", ["posology", "quantity", "instructions"])
def test_a_line_field_too_long_adds_no_line(
    field: str, prescriber: Any, patient: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    data = {"version": prescription.version, "drug_code": SIMVA.code, "posology": "1 cp le soir"}
    data[field] = PASTE
    html = (
        logged_in_client(prescriber)
        .post(reverse("prescriptions:line_add", args=[prescription.pk]), data, **HTMX)
        .content.decode()
    )
    assert_refused_without_quoting(html)
    assert not PrescriptionLine.objects.filter(prescription=prescription).exists()


def test_a_line_changed_to_a_pasted_posology_is_left_as_it_was(
    prescriber: Any, patient: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    line = add(prescription, prescriber, SIMVA, "1 cp le soir")
    prescription.refresh_from_db()
    html = (
        logged_in_client(prescriber)
        .post(
            reverse("prescriptions:line_update", args=[prescription.pk, line.pk]),
            {"version": prescription.version, "posology": PASTE},
            **HTMX,
        )
        .content.decode()
    )
    assert_refused_without_quoting(html)
    line.refresh_from_db()
    assert line.posology_text == "1 comprimé le soir"


def test_a_decision_justification_too_long_records_nothing(
    prescriber: Any, patient: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    [ci, *_] = [
        view.alert for view in analysed(prescription, prescriber).alerts if view.alert.level == "CI"
    ]
    prescription.refresh_from_db()
    html = (
        logged_in_client(prescriber)
        .post(
            reverse("prescriptions:alert_decide", args=[prescription.pk, ci.pk]),
            {"version": prescription.version, "decision": "maintain", "reason": PASTE},
            **HTMX,
        )
        .content.decode()
    )
    assert_refused_without_quoting(html)
    assert not AlertDecision.objects.filter(prescription=prescription).exists()
    with pytest.raises(PrescriptionError, match=r"1\s000 caractères au plus"):
        services.alert_decide(
            alert=ci,
            acting_user=prescriber,
            decision="maintain",
            reason=PASTE,
            version=prescription.version,
        )


def test_a_held_decision_justification_too_long_releases_nothing(
    ordoclic: Any, prescriber: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from .delivery.test_operations import held

    prescription = held(ordoclic, prescriber, django_capture_on_commit_callbacks)
    reasons = {
        f"reason-{alert.pk}": PASTE for alert in prescription.alerts.filter(level__in=["CI"])
    }
    response = logged_in_client(prescriber).post(
        reverse("prescriptions:held_release", args=[prescription.pk]), reasons, follow=True
    )
    assert_refused_without_quoting(response.content.decode())
    prescription.refresh_from_db()
    assert prescription.transmission_status == "held"


def test_a_cancellation_comment_too_long_cancels_nothing(
    ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    prescription = registered_prescription(user=martin)
    html = (
        logged_in_client(martin)
        .post(
            reverse("prescriptions:cancel", args=[prescription.pk]),
            {"reason": "other", "comment": PASTE},
        )
        .content.decode()
    )
    assert_refused_without_quoting(html)
    assert not Cancellation.objects.filter(prescription=prescription).exists()


def test_a_lookup_number_or_reveal_reason_too_long_is_refused(
    ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    prescription = registered_prescription(user=martin)
    client = logged_in_client(StaffFactory())
    number = client.post(reverse("prescriptions:lookup"), {"number": PASTE})
    assert number.status_code == 422
    assert_refused_without_quoting(number.content.decode())
    reveal = client.post(
        reverse("prescriptions:lookup_reveal"), {"number": prescription.number, "reason": PASTE}
    )
    assert reveal.status_code == 422
    assert_refused_without_quoting(reveal.content.decode())
    assert not prescription.audit_events.filter(action="patient_name_revealed").exists()


def test_a_drug_search_too_long_is_said(
    prescriber: Any, patient: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    html = (
        logged_in_client(prescriber)
        .get(reverse("prescriptions:drug_search", args=[prescription.pk]), {"q": PASTE}, **HTMX)
        .content.decode()
    )
    assert_refused_without_quoting(html)


@pytest.mark.parametrize("name", ["ordonnance", "utilisateur"])
def test_a_journal_filter_too_long_is_said(name: str, logged_in_client: Any) -> None:
    html = (
        logged_in_client(AdminFactory())
        .get(reverse("prescriptions:audit"), {name: PASTE})
        .content.decode()
    )
    assert_refused_without_quoting(html)


def test_the_fields_carry_their_maxlength(
    prescriber: Any, patient: Any, logged_in_client: Any
) -> None:
    """A courtesy for the browser (the server is the guard)."""
    prescription = workload.draft(prescriber, (workload.DOLIPRANE,), patient)
    html = (
        logged_in_client(prescriber)
        .get(reverse("prescriptions:detail", args=[prescription.pk]))
        .content.decode()
    )
    for name, limit in [("q", 100), ("posology", 200), ("quantity", 64), ("instructions", 300)]:
        assert re.search(rf'name="{name}"[^>]*maxlength="{limit}"', html), name
