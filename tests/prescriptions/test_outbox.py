"""The one outbox mechanism: retry delays, claiming, enqueueing and sweeping, the same for the
submissions and the cancellations."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from origami.celery import app
from prescriptions import tasks
from prescriptions.delivery.submissions import SUBMISSIONS
from prescriptions.followup.cancellation import CANCELLATIONS
from prescriptions.models import Cancellation, Prescription, Submission
from prescriptions.ordoclic import NotAnswered
from prescriptions.outbox import Outbox, counts_as_attempt, retry_cap, retry_delay
from tests.factories import PatientFactory, PrescriberFactory


@override_settings(SUBMISSION_RETRY_BASE_DELAY=2.0, SUBMISSION_RETRY_MAX_DELAY=300.0)
def test_delays_grow_with_attempts_and_stay_under_the_cap() -> None:
    for attempts in range(1, 40):
        ceiling = min(300.0, 2.0 * 2 ** (attempts - 1))
        for _ in range(20):
            delay = retry_delay(attempts=attempts, retry_after=None)
            assert 0.0 <= delay <= ceiling


@override_settings(
    SUBMISSION_RETRY_MAX_DELAY=100_000.0,
    CELERY_BROKER_TRANSPORT_OPTIONS={"visibility_timeout": 3600},
)
def test_cap_stays_far_below_the_visibility_timeout() -> None:
    assert retry_cap() <= 900.0
    assert all(retry_delay(attempts=50, retry_after=None) <= 900.0 for _ in range(50))


@override_settings(SUBMISSION_RETRY_BASE_DELAY=2.0, SUBMISSION_RETRY_MAX_DELAY=300.0)
def test_retry_after_from_ordoclic_is_honoured_but_capped() -> None:
    assert all(retry_delay(attempts=1, retry_after=30.0) >= 30.0 for _ in range(20))
    assert retry_delay(attempts=1, retry_after=10_000.0) == 300.0


@override_settings(SUBMISSION_RETRY_BASE_DELAY=2.0, SUBMISSION_RETRY_MAX_DELAY=300.0)
def test_jitter_spreads_retries() -> None:
    delays = {round(retry_delay(attempts=6, retry_after=None), 3) for _ in range(50)}
    assert len(delays) > 10


# --- the one mechanism, for both outboxes ------------------------------------------------------


def _prescription() -> Any:
    user = PrescriberFactory()
    return Prescription.objects.create(
        patient=PatientFactory(),
        prescriber=user.practitioner,
        exercise_context=user.practitioner.exercise_contexts.first(),
        status="signed",
        transmission_status="queued",
        signed_at=timezone.now(),
        software_version="0.1.0",
    )


def _submission_row(*, at: Any, status: str = "queued") -> Any:
    prescription = _prescription()
    return Submission.objects.create(
        prescription=prescription,
        external_id=prescription.external_id,
        next_attempt_at=at,
        status=status,
    )


def _cancellation_row(*, at: Any, status: str = "queued") -> Any:
    prescription = _prescription()
    return Cancellation.objects.create(
        prescription=prescription,
        reason="duplicate",
        requested_by=prescription.prescriber.user,
        next_attempt_at=at,
        status=status,
    )


OUTBOXES = [(SUBMISSIONS, _submission_row), (CANCELLATIONS, _cancellation_row)]
IDS = ["submissions", "cancellations"]


@pytest.mark.django_db
@pytest.mark.parametrize(("outbox", "row"), OUTBOXES, ids=IDS)
def test_the_sweep_re_enqueues_lost_rows_and_skips_those_whose_task_is_on_its_way(
    outbox: Outbox[Any], row: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    overdue = timezone.now() - timedelta(seconds=settings.SUBMISSION_SWEEP_GRACE + 5)
    lost, on_its_way = row(at=overdue), row(at=overdue)
    row(at=timezone.now())  # due, but its own task may still be about to run
    row(at=overdue, status="done" if outbox is CANCELLATIONS else "registered")
    cache.set(outbox.marker.format(pk=on_its_way.pk), 1, timeout=60)
    cache.delete(outbox.marker.format(pk=lost.pk))
    enqueued: list[int] = []
    monkeypatch.setattr(outbox, "enqueue", lambda *, pk, at: enqueued.append(pk) or True)
    try:
        assert outbox.sweep(limit=100) == 1
    finally:
        cache.delete(outbox.marker.format(pk=on_its_way.pk))
    assert enqueued == [lost.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("outbox", "row"), OUTBOXES, ids=IDS)
def test_a_row_is_claimed_only_when_waiting_due_and_free(outbox: Outbox[Any], row: Any) -> None:
    due_row = row(at=timezone.now())
    later = row(at=timezone.now() + timedelta(minutes=5))
    settled = row(at=None, status="done" if outbox is CANCELLATIONS else "registered")
    with transaction.atomic():
        assert outbox.claim(pk=later.pk) is None
        assert outbox.claim(pk=settled.pk) is None
        assert outbox.claim(pk=due_row.pk) == due_row
        # Another attempt, on another connection, finds the row held and skips it.
        other: list[Any] = []
        worker = threading.Thread(target=lambda: other.append(_claim_elsewhere(outbox, due_row.pk)))
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive()
    assert other == [None]


def _claim_elsewhere(outbox: Outbox[Any], pk: int) -> Any:
    try:
        with transaction.atomic():
            return outbox.claim(pk=pk)
    finally:
        connection.close()


@pytest.mark.parametrize("outbox", [SUBMISSIONS, CANCELLATIONS], ids=IDS)
def test_enqueue_publishes_the_row_id_to_the_outboxs_task(
    outbox: Outbox[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, Any, float]] = []

    def send_task(name: str, *, args: Any, countdown: float, retry: bool, **_: Any) -> None:
        assert retry is False  # never wait on a broker that is down
        sent.append((name, args, countdown))

    monkeypatch.setattr(app, "send_task", send_task)
    assert outbox.enqueue(pk=7, at=timezone.now() + timedelta(seconds=60))
    cache.delete(outbox.marker.format(pk=7))
    [(name, args, countdown)] = sent
    assert (name, args) == (outbox.task_name, (7,))
    assert name in {task.name for task in vars(tasks).values() if hasattr(task, "delay")}
    assert 55 <= countdown <= 60


def test_a_refusal_of_the_open_breaker_is_not_an_attempt() -> None:
    assert not counts_as_attempt(NotAnswered(reason="circuit open", breaker_open=True))
    assert counts_as_attempt(NotAnswered(reason="read timeout", sent=True))
    assert counts_as_attempt(None)
