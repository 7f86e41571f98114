"""An enqueue made while the broker is down or hung gives up within the request budget, and
nothing is lost: the submission stays queued in Postgres and the sweeper enqueues it once Redis
is back. On a Redis of the test's own (redis-server on a free port), used by this process, then
killed or stopped (tests/origami/conftest.py)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from origami.celery import enqueue_within_budget
from prescriptions import tasks
from prescriptions.delivery.submissions import SUBMISSIONS
from prescriptions.models import Submission, SubmissionStatus
from tests.chaos import workload

from .conftest import OwnRedis

pytestmark = pytest.mark.django_db

# Before the fix an enqueue took 6 s with Redis down (kombu's connection retry loop) and as
# long on a hung Redis. A bound far above the measured 0.5 s, so that a busy machine passes.
GIVES_UP_WITHIN = 2.5


def elapsed(action: Any) -> tuple[Any, float]:
    started = time.monotonic()
    try:
        outcome = action()
    except Exception as exc:
        outcome = exc
    return outcome, time.monotonic() - started


def queued_submission(user: Any, ordoclic: Any, capture: Any, monkeypatch: Any) -> Submission:
    """A prescription signed while Ordoclic was down, its retry not handed to any broker."""
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
    with monkeypatch.context() as patch:
        patch.setattr(SUBMISSIONS, "enqueue", lambda *, pk, at: True)
        prescription = workload.ready_to_sign(user, workload.draft(user))
        with capture(execute=True):
            workload.sign(user, prescription)
    return Submission.objects.get(prescription=prescription)


def test_with_redis_killed_under_the_process_the_enqueue_gives_up_at_once_and_nothing_is_lost(
    broker: OwnRedis,
    ordoclic: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    submission = queued_submission(user, ordoclic, django_capture_on_commit_callbacks, monkeypatch)
    assert SUBMISSIONS.enqueue(pk=submission.pk, at=None)  # Redis used
    assert broker.queued_ids() == [f"({submission.pk},)"]
    broker.kill()
    cache.delete(SUBMISSIONS.marker.format(pk=submission.pk))

    for _ in range(3):  # the second enqueue is the one kombu's retry loop used to hold
        enqueued, seconds = elapsed(lambda: SUBMISSIONS.enqueue(pk=submission.pk, at=None))
        assert enqueued is False, "an enqueue to a dead broker reported success"
        assert seconds < GIVES_UP_WITHIN, f"the enqueue held the request {seconds:.1f} s"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.QUEUED

    # Redis comes back empty: the sweeper hands the submission to it again.
    broker.start()
    Submission.objects.filter(pk=submission.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=settings.SUBMISSION_SWEEP_GRACE + 5)
    )
    try:
        assert tasks.submissions_sweep.run() == 1
    finally:
        cache.delete(SUBMISSIONS.marker.format(pk=submission.pk))
    assert broker.queued_ids() == [f"({submission.pk},)"]


def test_with_redis_hung_the_budgeted_enqueue_gives_up_within_its_budget(
    broker: OwnRedis,
) -> None:
    enqueue_within_budget(tasks.submission_send_task, args=(424242,))  # Redis used
    assert broker.queued_ids() == ["(424242,)"]
    broker.hang()
    for _ in range(2):
        outcome, seconds = elapsed(
            lambda: enqueue_within_budget(tasks.submission_send_task, args=(424242,), budget=1.0)
        )
        assert isinstance(outcome, Exception), "an enqueue to a hung broker reported success"
        assert seconds < GIVES_UP_WITHIN, f"the enqueue held the request {seconds:.1f} s"


def test_the_budgeted_enqueue_publishes_with_its_countdown(broker: OwnRedis) -> None:
    enqueue_within_budget(tasks.submission_send_task, args=(7,), countdown=90)
    with redis.Redis(port=broker.port, socket_timeout=5) as client:
        [raw] = client.lrange("celery", 0, -1)
    headers = json.loads(raw)["headers"]
    assert (headers["task"], headers["argsrepr"]) == ("prescriptions.submission_send", "(7,)")
    assert headers["eta"] is not None
