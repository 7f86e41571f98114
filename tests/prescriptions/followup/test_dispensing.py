"""Dispensing status by polling the served sandbox: partial, then full, per line and overall;
the poll respects an unavailable Ordoclic; the prescriber sees dispensing unless the patient
objected."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from prescriptions.followup.dispensing import dispensing_poll, followed_prescriptions
from prescriptions.followup.tasks import dispensing_poll_task
from prescriptions.models import Prescription

from ..conftest import registered_prescription

pytestmark = [pytest.mark.served, pytest.mark.django_db]


def dispense(served: Any, prescription: Prescription, lines: list[tuple[int, str]]) -> None:
    refs = [line.line_ref for line in prescription.lines.order_by("position")]
    with served.control() as control:
        control.post(
            f"/_sandbox/prescriptions/{prescription.number}/dispense",
            json={"lines": [{"lineId": refs[i], "status": status} for i, status in lines]},
        ).raise_for_status()


def states(prescription: Prescription) -> tuple[str, list[str]]:
    prescription.refresh_from_db()
    lines = prescription.lines.order_by("position")
    return prescription.dispensing_status, [line.dispensing_status for line in lines]


def test_partial_then_full_dispensing_seen_by_polling(served_ordoclic: Any, martin: Any) -> None:
    prescription = registered_prescription(user=martin)
    assert dispensing_poll(limit=10).applied == 0
    assert states(prescription) == ("none", ["none", "none"])

    dispense(served_ordoclic, prescription, [(0, "partial")])
    report = dispensing_poll(limit=10)
    assert (report.checked, report.applied, report.stopped) == (1, 1, False)
    assert states(prescription) == ("partial", ["partial", "none"])

    dispense(served_ordoclic, prescription, [(0, "full"), (1, "not_delivered")])
    dispensing_poll(limit=10)
    assert states(prescription) == ("full", ["full", "not_delivered"])
    # Fully dispensed: no longer polled.
    assert not followed_prescriptions().filter(pk=prescription.pk).exists()
    assert dispensing_poll_task() == {"checked": 0, "applied": 0, "stopped": False}


def test_the_poll_stops_at_the_first_unavailable_answer(served_ordoclic: Any, martin: Any) -> None:
    first = registered_prescription(user=martin)
    second = registered_prescription(user=martin)
    with served_ordoclic.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
    report = dispensing_poll(limit=10)
    assert (report.checked, report.stopped) == (1, True)
    with served_ordoclic.control() as control:
        control.post("/_sandbox/faults", json={"mode": "ok"}).raise_for_status()
    dispense(served_ordoclic, first, [(0, "full"), (1, "substituted")])
    dispense(served_ordoclic, second, [(1, "partial")])
    # The next round starts with the prescription not checked yet, then checks both.
    report = dispensing_poll(limit=10)
    assert (report.checked, report.stopped) == (2, False)
    assert states(first) == ("full", ["full", "substituted"])
    assert states(second) == ("partial", ["none", "partial"])


def test_the_prescriber_sees_dispensing_per_line(
    served_ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    prescription = registered_prescription(user=martin)
    dispense(served_ordoclic, prescription, [(0, "substituted")])
    dispensing_poll(limit=10)
    page = logged_in_client(martin).get(reverse("prescriptions:detail", args=[prescription.pk]))
    html = page.content.decode()
    assert 'id="dispensing-status">Délivrée partiellement' in html
    assert "Délivrée (substituée)" in html
    assert "Non délivrée" in html


def test_no_dispensing_details_when_the_patient_objected(
    served_ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    prescription = registered_prescription(user=martin, objection=True)
    dispense(served_ordoclic, prescription, [(0, "full")])
    dispensing_poll(limit=10)
    assert states(prescription)[0] == "partial"  # kept (cancellation rules need it) ...
    html = (
        logged_in_client(martin)
        .get(reverse("prescriptions:detail", args=[prescription.pk]))
        .content.decode()
    )
    assert 'id="dispensing-hidden"' in html  # ... but not shown to the prescriber
    assert "Délivrée partiellement" not in html
    assert 'id="dispensing-status"' not in html


def test_the_follow_up_tasks_are_registered_and_scheduled() -> None:
    from origami.celery import app

    app.loader.import_default_modules()
    for name in (
        "prescriptions.dispensing_poll",
        "prescriptions.cancellation_send",
        "prescriptions.cancellations_sweep",
    ):
        assert name in app.tasks
    schedule = app.conf.beat_schedule
    assert schedule["dispensing-poll"]["task"] == "prescriptions.dispensing_poll"
    assert schedule["cancellations-sweep"]["task"] == "prescriptions.cancellations_sweep"
