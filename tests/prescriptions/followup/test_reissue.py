"""Reissue against the served sandbox: one action gives a new draft with the same lines, linked
to the one it replaces; registering it cancels the old one (queued when Ordoclic is down); if
the old one was dispensed in between, the prescriber is told and decides."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from prescriptions.followup.dispensing import dispensing_poll
from prescriptions.followup.tasks import cancellation_send_task
from prescriptions.models import AuditEvent, Cancellation, Prescription

from ..conftest import registered_prescription, sign_and_register

pytestmark = [pytest.mark.served, pytest.mark.django_db]


def ledger(served: Any, prescription: Prescription) -> dict[str, Any]:
    with served.control() as control:
        items = control.get("/_sandbox/ledger").json()["items"]
    return next(i for i in items if i["externalId"] == str(prescription.external_id))


def reissue(client: Any, prescription: Prescription) -> Prescription:
    response = client.post(reverse("prescriptions:reissue", args=[prescription.pk]))
    assert response.status_code == 302
    return Prescription.objects.get(replaces=prescription)


def page(client: Any, prescription: Prescription) -> str:
    return client.get(reverse("prescriptions:detail", args=[prescription.pk])).content.decode()


def test_reissue_replaces_the_old_prescription_once_registered(
    served_ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    old = registered_prescription(user=martin)
    client = logged_in_client(martin)
    new = reissue(client, old)
    assert new.status == "draft"
    assert [(line.drug_code, line.posology_text) for line in new.lines.all()] == [
        (line.drug_code, line.posology_text) for line in old.lines.all()
    ]
    # Asking twice gives the same draft.
    assert reissue(client, old).pk == new.pk
    assert "brouillon de remplacement" in page(client, old)
    draft_screen = page(client, new)
    assert "Cette ordonnance remplace l'ordonnance" in draft_screen
    assert old.number in draft_screen

    with django_capture_on_commit_callbacks(execute=True):
        new = sign_and_register(user=martin, prescription=new)
    old.refresh_from_db()
    assert old.status == "replaced"
    cancellation = Cancellation.objects.get(prescription=old)
    assert (cancellation.status, cancellation.reason, cancellation.replacement_id) == (
        "done",
        "replaced",
        new.pk,
    )
    assert ledger(served_ordoclic, old)["cancelled"] == 1
    assert ledger(served_ordoclic, new)["cancelled"] == 0
    assert new.number in page(client, old)  # "Remplacée par l'ordonnance …"
    assert old.number in page(client, new)  # "Remplace l'ordonnance …"
    assert AuditEvent.objects.filter(prescription=old, action="replaced").exists()


def test_the_automatic_cancellation_is_queued_when_ordoclic_is_down(
    served_ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    old = registered_prescription(user=martin)
    new = reissue(logged_in_client(martin), old)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sign_and_register(user=martin, prescription=new)
    with served_ordoclic.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
    for callback in callbacks:  # the commit happens now, with Ordoclic down
        callback()
    cancellation = Cancellation.objects.get(prescription=old)
    assert cancellation.status == "queued"
    old.refresh_from_db()
    assert old.status == "signed"
    with served_ordoclic.control() as control:
        control.post("/_sandbox/faults", json={"mode": "ok"}).raise_for_status()
    assert cancellation_send_task(cancellation.pk) == "done"
    old.refresh_from_db()
    assert old.status == "replaced"


def test_dispensed_in_between_the_prescriber_is_told_and_decides(
    served_ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    old = registered_prescription(user=martin)
    client = logged_in_client(martin)
    new = reissue(client, old)
    first = old.lines.order_by("position").first()
    with served_ordoclic.control() as control:
        control.post(
            f"/_sandbox/prescriptions/{old.number}/dispense",
            json={"lines": [{"lineId": first.line_ref, "status": "full"}]},
        ).raise_for_status()
    dispensing_poll(limit=10)
    with django_capture_on_commit_callbacks(execute=True):
        new = sign_and_register(user=martin, prescription=new)
    old.refresh_from_db()
    assert old.status == "signed"  # still valid at the pharmacy
    assert ledger(served_ordoclic, old)["cancelled"] == 0
    html = page(client, new)
    assert "ancienne ordonnance n'a pas pu être annulée" in html
    assert "Garder les deux ordonnances" in html

    response = client.post(reverse("prescriptions:reissue_keep_both", args=[new.pk]))
    assert response.status_code == 302
    assert "Garder les deux ordonnances" not in page(client, new)
    assert AuditEvent.objects.filter(
        prescription=new, action="replacement_kept_both", actor=martin
    ).exists()


def test_a_dispensed_prescription_cannot_be_reissued(
    served_ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    old = registered_prescription(user=martin)
    with served_ordoclic.control() as control:
        control.post(f"/_sandbox/prescriptions/{old.number}/dispense", json={}).raise_for_status()
    dispensing_poll(limit=10)
    client = logged_in_client(martin)
    response = client.post(reverse("prescriptions:reissue", args=[old.pk]), follow=True)
    assert "ne peut plus être annulée" in response.content.decode()
    assert not Prescription.objects.filter(replaces=old).exists()
