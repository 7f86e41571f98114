"""Cancelling a sent prescription, against the served sandbox: allowed while nothing is
dispensed, refused clearly afterwards, queued when Ordoclic is down and never lost, and a
cancellation racing a pharmacist resolves to one clear outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from ordoclic_client import (
    OrdoclicClient,
    PartnerCredentials,
    RedisBreaker,
    build_http_client,
    contract,
)
from origami.ordoclic import override_client
from prescriptions.followup.cancellation import cancellation_send
from prescriptions.followup.dispensing import Source, dispensing_apply
from prescriptions.followup.tasks import cancellation_send_task, cancellations_sweep
from prescriptions.models import AuditEvent, Cancellation, Prescription

from ..conftest import registered_prescription

pytestmark = [pytest.mark.served, pytest.mark.django_db]


def due_ids() -> list[int]:
    """Queued cancellations whose next attempt is due."""
    return list(
        Cancellation.objects.filter(status="queued", next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
    )


def ledger_entry(served: Any, prescription: Prescription) -> dict[str, Any]:
    with served.control() as control:
        items = control.get("/_sandbox/ledger").json()["items"]
    return next(i for i in items if i["externalId"] == str(prescription.external_id))


def faults(served: Any, mode: str) -> None:
    with served.control() as control:
        control.post("/_sandbox/faults", json={"mode": mode}).raise_for_status()


def dispense(served: Any, prescription: Prescription, status: str = "partial") -> Any:
    first = prescription.lines.order_by("position").first()
    assert first is not None
    with served.control() as control:
        response = control.post(
            f"/_sandbox/prescriptions/{prescription.number}/dispense",
            json={"lines": [{"lineId": first.line_ref, "status": status}]},
        )
    response.raise_for_status()
    return contract.PrescriptionStatus.model_validate(response.json())


def post_cancel(client: Any, prescription: Prescription, **data: str) -> Any:
    return client.post(reverse("prescriptions:cancel", args=[prescription.pk]), data)


def test_cancel_with_a_reason_while_nothing_is_dispensed(
    served_ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    prescription = registered_prescription(user=martin)
    client = logged_in_client(martin)
    form = client.get(reverse("prescriptions:cancel", args=[prescription.pk])).content.decode()
    assert "Erreur de saisie" in form
    assert "Remplacée par" not in form

    with django_capture_on_commit_callbacks(execute=True):
        response = post_cancel(client, prescription, reason="treatment_changed", comment="Arrêt")
    assert response.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == "cancelled"
    assert prescription.cancelled_at is not None
    assert ledger_entry(served_ordoclic, prescription)["cancelled"] == 1
    page = client.get(response.url).content.decode()
    assert '<span class="badge badge-muted">Annulée</span>' in page
    assert "<h1>Ordonnance annulée</h1>" in page
    assert "motif : Traitement modifié ou arrêté — Arrêt" in page
    assert 'id="cancel-link"' not in page  # nothing more to cancel
    actions = list(
        AuditEvent.objects.filter(prescription=prescription)
        .order_by("pk")
        .values_list("action", "actor_id")
    )
    assert ("cancel_requested", martin.pk) in actions
    assert ("cancelled", None) in actions


def test_bad_input_gets_a_french_message_and_cancels_nothing(
    served_ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    prescription = registered_prescription(user=martin)
    client = logged_in_client(martin)
    no_reason = post_cancel(client, prescription, comment="Erreur")
    assert no_reason.status_code == 422
    assert "Choisissez le motif" in no_reason.content.decode()
    other = post_cancel(client, prescription, reason="other", comment="  ")
    assert other.status_code == 422
    assert "Précisez le motif" in other.content.decode()
    assert 'value="other" required checked' in other.content.decode()  # the choice is kept
    assert not Cancellation.objects.exists()
    assert ledger_entry(served_ordoclic, prescription)["cancelled"] == 0


def test_refused_once_something_is_dispensed(
    served_ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    prescription = registered_prescription(user=martin)
    state = dispense(served_ordoclic, prescription)
    dispensing_apply(prescription_id=prescription.pk, state=state, source=Source.POLL)
    response = post_cancel(logged_in_client(martin), prescription, reason="entry_error")
    assert response.status_code == 422
    assert "déjà délivré cette ordonnance" in response.content.decode()
    assert not Cancellation.objects.exists()


def test_queued_when_ordoclic_is_down_then_sent_by_the_task(
    served_ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    prescription = registered_prescription(user=martin)
    client = logged_in_client(martin)
    faults(served_ordoclic, "down")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_cancel(client, prescription, reason="duplicate")
    page = client.get(response.url).content.decode()
    assert 'id="cancel-pending"' in page
    cancellation = Cancellation.objects.get()
    assert (cancellation.status, cancellation.attempts) == ("queued", 1)
    assert cancellation.next_attempt_at is not None
    assert cancellation.last_error
    prescription.refresh_from_db()
    assert prescription.status == "signed"

    # Asking again does not make a second cancellation.
    post_cancel(client, prescription, reason="duplicate")
    assert Cancellation.objects.count() == 1

    faults(served_ordoclic, "ok")
    Cancellation.objects.filter(pk=cancellation.pk).update(next_attempt_at=timezone.now())
    assert due_ids() == [cancellation.pk]
    assert cancellation_send_task(cancellation.pk) == "done"
    prescription.refresh_from_db()
    assert prescription.status == "cancelled"
    assert ledger_entry(served_ordoclic, prescription)["cancelled"] == 1
    assert due_ids() == []
    assert cancellations_sweep() == 0


def test_a_task_before_its_time_does_nothing_and_a_breaker_refusal_is_not_an_attempt(
    served_ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    prescription = registered_prescription(user=martin)
    faults(served_ordoclic, "down")
    with django_capture_on_commit_callbacks(execute=True):
        post_cancel(logged_in_client(martin), prescription, reason="duplicate")
    cancellation = Cancellation.objects.get()
    assert cancellation.attempts == 1
    faults(served_ordoclic, "ok")

    # A duplicated task (the sweeper's and the retry's) before the retry time: nothing sent.
    Cancellation.objects.filter(pk=cancellation.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert cancellation_send_task(cancellation.pk) == "skipped"
    assert ledger_entry(served_ordoclic, prescription)["cancelled"] == 0

    # Due, but the shared breaker is open: postponed, not counted.
    Cancellation.objects.filter(pk=cancellation.pk).update(next_attempt_at=timezone.now())
    breaker = RedisBreaker(
        redis.Redis.from_url(settings.REDIS_URL), name="test-cancel-open", reset_seconds=60
    )
    breaker.reset()
    client = OrdoclicClient(
        http=build_http_client(base_url=served_ordoclic.base_url),
        credentials=PartnerCredentials(
            partner_id=served_ordoclic.partner_id,
            private_key_pem=served_ordoclic.private_key_pem,
        ),
        breaker=breaker,
    )
    try:
        for _ in range(3):
            breaker.record_failure("test: Ordoclic down")
        with override_client(client):
            assert cancellation_send(cancellation_id=cancellation.pk) is not None
    finally:
        breaker.reset()
        client.close()
    cancellation.refresh_from_db()
    assert (cancellation.status, cancellation.attempts) == ("queued", 1)
    assert cancellation.next_attempt_at is not None
    assert cancellation.next_attempt_at > timezone.now()
    assert ledger_entry(served_ordoclic, prescription)["cancelled"] == 0


def test_a_dispensing_event_refuses_a_queued_cancellation(
    served_ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    prescription = registered_prescription(user=martin)
    client = logged_in_client(martin)
    faults(served_ordoclic, "down")
    with django_capture_on_commit_callbacks(execute=True):
        post_cancel(client, prescription, reason="entry_error")
    # The pharmacist dispenses meanwhile (the control API works while the API is down) and the
    # webhook tells us before the cancellation could be sent.
    state = dispense(served_ordoclic, prescription, status="full")
    dispensing_apply(
        prescription_id=prescription.pk, state=state, source=Source.WEBHOOK, event_id="e1"
    )
    cancellation = Cancellation.objects.get()
    assert cancellation.status == "refused"
    assert "déjà délivré" in cancellation.last_error
    faults(served_ordoclic, "ok")
    assert cancellation_send(cancellation_id=cancellation.pk) is None  # nothing left to send
    prescription.refresh_from_db()
    assert (prescription.status, prescription.dispensing_status) == ("signed", "partial")
    page = client.get(reverse("prescriptions:detail", args=[prescription.pk])).content.decode()
    assert 'id="cancel-refused"' in page
    assert ledger_entry(served_ordoclic, prescription)["cancelled"] == 0


def test_a_cancellation_arriving_after_an_unseen_dispensing_is_refused_by_ordoclic(
    served_ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    prescription = registered_prescription(user=martin)
    dispense(served_ordoclic, prescription)  # no webhook configured: the app does not know yet
    with django_capture_on_commit_callbacks(execute=True):
        response = post_cancel(logged_in_client(martin), prescription, reason="entry_error")
    assert response.status_code == 302
    cancellation = Cancellation.objects.get()
    assert cancellation.status == "refused"
    prescription.refresh_from_db()
    # The refusal brought the dispensing state back with it.
    assert (prescription.status, prescription.dispensing_status) == ("signed", "partial")
    assert ledger_entry(served_ordoclic, prescription)["cancelled"] == 0


def test_another_prescriber_cannot_cancel(
    served_ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    from tests.factories import PrescriberFactory

    prescription = registered_prescription(user=martin)
    other = logged_in_client(PrescriberFactory())
    assert post_cancel(other, prescription, reason="entry_error").status_code == 404
    assert not Cancellation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_cancel_and_a_dispensing_at_the_same_moment_end_in_one_clear_state(
    served_ordoclic: Any, martin: Any, live_server: Any, settings: Any
) -> None:
    """The pharmacist dispenses (the webhook reaches the live server) while the prescriber
    cancels: Ordoclic records one of them first, and the app ends in the same state."""
    import threading

    from django.db import connection

    from prescriptions.followup.cancellation import prescription_cancel

    from ..conftest import WEBHOOK_SECRET
    from .test_webhooks import wait_for

    settings.ORDOCLIC_WEBHOOK_SECRET = WEBHOOK_SECRET
    prescription = registered_prescription(user=martin)
    with served_ordoclic.control() as control:
        control.post(
            "/_sandbox/webhook",
            json={
                "url": live_server.url + reverse("prescriptions:ordoclic_webhook"),
                "secret": WEBHOOK_SECRET,
            },
        ).raise_for_status()
    start = threading.Barrier(2)
    dispensed: list[int] = []

    def pharmacist() -> None:
        start.wait()
        dispensed.append(
            dispense_status_code(served_ordoclic, prescription),
        )

    def prescriber() -> None:
        start.wait()
        try:
            prescription_cancel(prescription=prescription, acting_user=martin, reason="duplicate")
        finally:
            connection.close()

    threads = [threading.Thread(target=pharmacist), threading.Thread(target=prescriber)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a side still runs after 30 s"
    entry = ledger_entry(served_ordoclic, prescription)
    if entry["cancelled"] == 1:  # the cancellation reached Ordoclic first
        assert dispensed == [409]
        prescription.refresh_from_db()
        assert (prescription.status, prescription.dispensing_status) == ("cancelled", "none")
        assert Cancellation.objects.get().status == "done"
    else:  # the pharmacist was first: the cancellation is refused, the dispensing shown
        assert dispensed == [200]

        def settled() -> bool:
            prescription.refresh_from_db()
            return prescription.dispensing_status == "partial"

        assert wait_for(settled)
        assert prescription.status == "signed"
        assert Cancellation.objects.get().status == "refused"


def dispense_status_code(served: Any, prescription: Prescription) -> int:
    first = prescription.lines.order_by("position").first()
    assert first is not None
    with served.control() as control:
        return control.post(
            f"/_sandbox/prescriptions/{prescription.number}/dispense",
            json={"lines": [{"lineId": first.line_ref, "status": "full"}]},
        ).status_code


def test_a_hanging_ordoclic_leaves_the_cancellation_queued(
    served_ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.ORDOCLIC_REQUEST_BUDGET = 1.0
    prescription = registered_prescription(user=martin)
    faults(served_ordoclic, "hang")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_cancel(logged_in_client(martin), prescription, reason="entry_error")
    assert response.status_code == 302
    cancellation = Cancellation.objects.get()
    assert (cancellation.status, cancellation.attempts) == ("queued", 1)
    assert cancellation.last_error
    faults(served_ordoclic, "ok")
    # Ordoclic may have cancelled before the answer was lost: trying again (when the retry
    # time comes) is harmless.
    Cancellation.objects.filter(pk=cancellation.pk).update(next_attempt_at=timezone.now())
    assert cancellation_send(cancellation_id=cancellation.pk) is not None
    prescription.refresh_from_db()
    assert prescription.status == "cancelled"
    assert ledger_entry(served_ordoclic, prescription)["cancelled"] == 1


class WorkerKilled(BaseException):
    """The worker's process dying: nothing after it runs, its transaction never commits."""


def test_a_cancellation_interrupted_after_ordoclic_cancelled_is_looked_up_not_sent_again(
    served_ordoclic: Any,
    martin: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prescriptions import ordoclic
    from prescriptions.followup import cancellation as module

    prescription = registered_prescription(user=martin)
    with django_capture_on_commit_callbacks(execute=False):  # the request's attempt never ran
        module.prescription_cancel(
            prescription=prescription, acting_user=martin, reason="duplicate"
        )
    cancellation = Cancellation.objects.get()

    def killed(**kwargs: Any) -> bool:
        raise WorkerKilled  # Ordoclic has cancelled it; the worker dies before its commit

    monkeypatch.setattr(module, "prescription_mark_cancelled", killed)
    with pytest.raises(WorkerKilled):
        cancellation_send(cancellation_id=cancellation.pk)
    monkeypatch.undo()
    assert ledger_entry(served_ordoclic, prescription)["cancelled"] == 1
    cancellation.refresh_from_db()
    assert (cancellation.status, cancellation.attempts) == ("queued", 0)
    assert cancellation.attempt_started_at is not None  # committed before the call

    sent: list[str] = []
    real_cancel = ordoclic.registration_cancel

    def counted(**kwargs: Any) -> Any:
        sent.append(kwargs["prescription_id"])
        return real_cancel(**kwargs)

    monkeypatch.setattr(ordoclic, "registration_cancel", counted)
    cancellation_send(cancellation_id=cancellation.pk)
    cancellation.refresh_from_db()
    prescription.refresh_from_db()
    assert (cancellation.status, prescription.status) == ("done", "cancelled")
    assert cancellation.attempt_started_at is None
    assert sent == []  # found cancelled by the lookup: not sent again
