"""Celery wiring of the delivery: at-least-once settings, the task that takes only an id, the
enqueue that never blocks on a broker that is down, and the sweeper for lost tasks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from kombu.exceptions import OperationalError

from origami.celery import app
from prescriptions import tasks
from prescriptions.delivery.submissions import SUBMISSIONS
from prescriptions.models import Submission, SubmissionStatus, TransmissionStatus
from tests.chaos import workload

pytestmark = pytest.mark.django_db


@pytest.fixture
def martin(ordoclic: Any) -> Any:
    return workload.prescriber_linked(workload.CLAIRE_MARTIN)


def queued_submission(ordoclic: Any, user: Any, capture: Any, monkeypatch: Any) -> Submission:
    """A prescription signed while Ordoclic was down (its retry not handed to any broker)."""
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
    with monkeypatch.context() as patch:
        patch.setattr(SUBMISSIONS, "enqueue", lambda *, pk, at: True)
        prescription = workload.ready_to_sign(user, workload.draft(user))
        with capture(execute=True):
            workload.sign(user, prescription)
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": "ok"}).raise_for_status()
    return Submission.objects.get(prescription=prescription)


def test_celery_is_configured_for_at_least_once_delivery() -> None:
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    # Retry delays stay far below the time after which Redis delivers an unacknowledged task
    # again.
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert visibility / 4 >= settings.SUBMISSION_RETRY_MAX_DELAY
    sweep = conf.beat_schedule["submissions-sweep"]
    assert sweep["task"] == tasks.submissions_sweep.name
    assert tasks.submissions_sweep.name in app.tasks
    assert tasks.submission_send_task.name in app.tasks


def test_the_task_takes_only_the_id_and_registers(
    ordoclic: Any,
    martin: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    submission = queued_submission(
        ordoclic, martin, django_capture_on_commit_callbacks, monkeypatch
    )
    Submission.objects.filter(pk=submission.pk).update(next_attempt_at=timezone.now())
    assert tasks.submission_send_task.run(submission.pk) == SubmissionStatus.REGISTERED
    submission.refresh_from_db()
    assert submission.prescription.transmission_status == TransmissionStatus.REGISTERED
    # A duplicate of the task (redelivered by Redis, re-enqueued by the sweeper) does nothing.
    assert tasks.submission_send_task.run(submission.pk) == "skipped"
    with ordoclic.sandbox.control() as control:
        [entry] = control.get("/_sandbox/ledger").json()["items"]
    assert (entry["creationRequests"], entry["registered"]) == (1, 1)


def test_enqueue_publishes_the_id_with_the_countdown_from_the_row() -> None:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    before = broker.llen("celery")
    at = timezone.now() + timedelta(seconds=90)
    assert SUBMISSIONS.enqueue(pk=424242, at=at)
    try:
        assert broker.llen("celery") == before + 1
        message = json.loads(broker.lindex("celery", 0) or b"{}")
    finally:
        broker.lpop("celery")
    headers = message["headers"]
    assert headers["task"] == "prescriptions.submission_send"
    assert headers["argsrepr"] == "(424242,)"
    assert headers["eta"] is not None
    assert cache.get(SUBMISSIONS.marker.format(pk=424242)) == 1
    cache.delete(SUBMISSIONS.marker.format(pk=424242))


def test_enqueue_with_the_broker_down_does_not_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        assert kwargs.get("retry") is False  # never retry in a web request
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", refuse)
    assert SUBMISSIONS.enqueue(pk=1, at=None) is False


def test_sweeper_re_enqueues_overdue_submissions_whose_task_was_lost(
    ordoclic: Any,
    martin: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lost = queued_submission(ordoclic, martin, django_capture_on_commit_callbacks, monkeypatch)
    waiting = queued_submission(ordoclic, martin, django_capture_on_commit_callbacks, monkeypatch)
    future = queued_submission(ordoclic, martin, django_capture_on_commit_callbacks, monkeypatch)
    overdue = timezone.now() - timedelta(seconds=settings.SUBMISSION_SWEEP_GRACE + 5)
    Submission.objects.filter(pk__in=[lost.pk, waiting.pk]).update(next_attempt_at=overdue)
    Submission.objects.filter(pk=future.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    # `waiting` still has a task in the broker (its marker is alive): not enqueued twice.
    cache.set(SUBMISSIONS.marker.format(pk=waiting.pk), 1, timeout=60)
    cache.delete(SUBMISSIONS.marker.format(pk=lost.pk))
    enqueued: list[int] = []

    def record(*, pk: int, at: Any) -> bool:
        enqueued.append(pk)
        return True

    monkeypatch.setattr(SUBMISSIONS, "enqueue", record)
    try:
        assert tasks.submissions_sweep.run() == 1
    finally:
        cache.delete(SUBMISSIONS.marker.format(pk=waiting.pk))
    assert enqueued == [lost.pk]
