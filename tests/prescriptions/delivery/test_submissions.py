"""The submission outbox against the in-process sandbox: degraded signing, retries, lookups by
external id after an ambiguous failure, consolidation, holds and their release."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ordoclic_client import OrdoclicClient, PartnerCredentials, RedisBreaker, build_http_client
from origami.ordoclic import override_client
from prescriptions.delivery import signing
from prescriptions.delivery import submissions as delivery
from prescriptions.delivery.selectors import undecided_alerts
from prescriptions.delivery.submissions import SUBMISSIONS
from prescriptions.drafting.selectors import prescription_list_for
from prescriptions.errors import PrescriptionError
from prescriptions.models import (
    AttemptOutcome,
    BusinessStatus,
    Prescription,
    Submission,
    SubmissionStatus,
    TransmissionStatus,
)
from tests.chaos import workload
from tests.factories import AdminFactory, CurrentTreatmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Any]]:
    """Each (submission id, time) the delivery asked a worker to try."""
    calls: list[tuple[int, Any]] = []

    def record(*, pk: int, at: Any) -> bool:
        calls.append((pk, at))
        return True

    monkeypatch.setattr(SUBMISSIONS, "enqueue", record)
    return calls


@pytest.fixture
def martin(ordoclic: Any) -> Any:
    return workload.prescriber_linked(workload.CLAIRE_MARTIN)


def faults(ordoclic: Any, mode: str, **extra: Any) -> None:
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": mode, **extra}).raise_for_status()


def ledger(ordoclic: Any) -> dict[str, tuple[int, int]]:
    with ordoclic.sandbox.control() as control:
        items = control.get("/_sandbox/ledger").json()["items"]
    return {i["externalId"]: (i["creationRequests"], i["registered"]) for i in items}


def signed(
    user: Any, capture: Any, drugs: tuple[workload.Drug, ...] = (workload.DOLIPRANE,)
) -> Prescription:
    prescription = workload.ready_to_sign(user, workload.draft(user, drugs))
    with capture(execute=True):
        workload.sign(user, prescription)
    prescription.refresh_from_db()
    return prescription


def due_now(prescription: Prescription) -> Submission:
    """Let the time of the next attempt come."""
    Submission.objects.filter(prescription=prescription).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    return Submission.objects.get(prescription=prescription)


def outcomes(prescription: Prescription) -> list[str]:
    return [a.outcome for a in prescription.submission.attempt_log.order_by("pk")]


def test_signed_while_ordoclic_is_down_then_consolidates_when_back(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "down")
    prescription = signed(martin, django_capture_on_commit_callbacks)
    # Saved in origami, signed, queued: the prescriber goes on working.
    assert prescription.status == BusinessStatus.SIGNED
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    submission = prescription.submission
    assert submission.attempts == 1
    assert submission.next_attempt_at is not None
    assert submission.next_attempt_at <= timezone.now() + timedelta(
        seconds=settings.SUBMISSION_RETRY_MAX_DELAY
    )
    # The next attempt was handed to the workers once the attempt had committed.
    assert enqueued == [(submission.pk, submission.next_attempt_at)]
    assert prescription.consolidated_at is None

    faults(ordoclic, "ok")
    delivery.submission_send(submission_id=due_now(prescription).pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert prescription.number
    assert prescription.consolidated_at is not None
    assert outcomes(prescription) == [AttemptOutcome.UNAVAILABLE, AttemptOutcome.REGISTERED]
    assert ledger(ordoclic) == {str(prescription.external_id): (1, 1)}
    # The 503 might have been sent after a commit: the second attempt looked it up first, and
    # since the analysis could not run at signing, analysed the prescription again.
    assert prescription.analysis_runs.filter(outcome="done").exists()


def test_answer_lost_after_registration_is_found_by_external_id_not_sent_again(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = workload.ready_to_sign(martin, workload.draft(martin))
    faults(ordoclic, "commit_then_drop")
    with django_capture_on_commit_callbacks(execute=True):
        workload.sign(martin, prescription)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    assert ledger(ordoclic) == {str(prescription.external_id): (1, 1)}

    faults(ordoclic, "ok")
    delivery.submission_send(submission_id=due_now(prescription).pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert outcomes(prescription) == [AttemptOutcome.UNAVAILABLE, AttemptOutcome.FOUND]
    # Registered once, and no second creation request ever reached Ordoclic.
    assert ledger(ordoclic) == {str(prescription.external_id): (1, 1)}


def test_consolidation_holds_a_prescription_with_an_undecided_contraindication(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "down")
    prescription = signed(
        martin,
        django_capture_on_commit_callbacks,
        drugs=(workload.SIMVASTATINE, workload.CLARITHROMYCINE),
    )
    assert prescription.transmission_status == TransmissionStatus.QUEUED

    faults(ordoclic, "ok")
    with django_capture_on_commit_callbacks(execute=True):
        delivery.submission_send(submission_id=due_now(prescription).pk)
    prescription.refresh_from_db()
    submission = prescription.submission
    # Not sent: held for the prescriber, with the reason, in "needs attention".
    assert prescription.transmission_status == TransmissionStatus.HELD
    assert submission.status == SubmissionStatus.HELD
    assert "attendent votre décision" in prescription.transmission_error
    assert ledger(ordoclic) == {}
    assert list(prescription_list_for(user=martin, filter_name="attention")) == [prescription]
    [alert] = undecided_alerts(
        prescription=prescription, run=prescription.analysis_runs.order_by("-pk").first()
    )
    assert alert.level == "CI"

    # A CI is maintained only with a justification: refused without one, nothing changes.
    with pytest.raises(PrescriptionError, match="Justifiez"):
        delivery.submission_release(prescription=prescription, acting_user=martin, reasons={})
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.HELD

    with django_capture_on_commit_callbacks(execute=True):
        delivery.submission_release(
            prescription=prescription,
            acting_user=martin,
            reasons={alert.pk: "Statine suspendue pendant l'antibiothérapie"},
        )
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.QUEUED
    assert enqueued[-1][0] == submission.pk
    # the prescriber's decision is in the trail like one taken on the draft
    [decided] = prescription.audit_events.filter(action="alert_decided", actor=martin)
    assert decided.details["decision"] == "maintain"
    assert decided.details["level"] == "CI"
    delivery.submission_send(submission_id=submission.pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert prescription.consolidated_at is not None
    assert ledger(ordoclic) == {str(prescription.external_id): (1, 1)}


def test_consolidation_holds_a_prescription_against_a_recorded_treatment(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Signed without analysis while Ordoclic was down; the analysis before sending sees the
    warfarin recorded in the patient's record and holds the miconazole."""
    warfarin = CurrentTreatmentFactory()  # COUMADINE 2 mg, CIS in the record
    miconazole = workload.Drug(
        "69980852",
        "LORAMYC 50 mg, comprimé buccogingival muco-adhésif",
        "miconazole",
        "comprimé",
        "1 cp le matin 7j",
    )
    faults(ordoclic, "down")
    prescription = workload.ready_to_sign(
        martin, workload.draft(martin, (miconazole,), patient=warfarin.patient)
    )
    with django_capture_on_commit_callbacks(execute=True):
        workload.sign(martin, prescription)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.QUEUED

    faults(ordoclic, "ok")
    with django_capture_on_commit_callbacks(execute=True):
        delivery.submission_send(submission_id=due_now(prescription).pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.HELD
    assert ledger(ordoclic) == {}
    [alert] = undecided_alerts(
        prescription=prescription, run=prescription.analysis_runs.order_by("-pk").first()
    )
    assert alert.level == "CI"
    assert f"record-{warfarin.pk}" in alert.line_refs


def test_another_prescriber_cannot_release_a_held_prescription(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "down")
    prescription = signed(
        martin,
        django_capture_on_commit_callbacks,
        drugs=(workload.SIMVASTATINE, workload.CLARITHROMYCINE),
    )
    faults(ordoclic, "ok")
    delivery.submission_send(submission_id=due_now(prescription).pk)
    other = workload.prescriber_linked(workload.KARIM_BENALI)
    with pytest.raises(PermissionDenied):
        delivery.submission_release(prescription=prescription, acting_user=other, reasons={})


@override_settings(SUBMISSION_MAX_ATTEMPTS=3)
def test_bounded_attempts_hold_the_submission_then_an_admin_requeues_it(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "error")
    prescription = signed(martin, django_capture_on_commit_callbacks)
    for _ in range(2):
        delivery.submission_send(submission_id=due_now(prescription).pk)
    prescription.refresh_from_db()
    submission = prescription.submission
    assert submission.status == SubmissionStatus.HELD
    assert submission.attempts == 3
    assert prescription.transmission_status == TransmissionStatus.HELD
    assert "3 tentatives" in prescription.transmission_error
    # Held means no more attempts, whatever a stray task asks.
    assert delivery.submission_send(submission_id=submission.pk) is None

    with pytest.raises(PermissionDenied):
        delivery.submission_requeue(submission_id=submission.pk, acting_user=martin)
    faults(ordoclic, "ok")
    delivery.submission_requeue(submission_id=submission.pk, acting_user=AdminFactory())
    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == (SubmissionStatus.QUEUED, 0)
    delivery.submission_send(submission_id=submission.pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    # Error answers may come after a commit: every creation request replays the same key, so
    # Ordoclic registered it once.
    assert ledger(ordoclic)[str(prescription.external_id)][1] == 1


@override_settings(SUBMISSION_MAX_ATTEMPTS=1)
def test_after_a_requeue_an_answer_lost_earlier_is_still_looked_up_not_sent_again(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = workload.ready_to_sign(martin, workload.draft(martin))
    faults(ordoclic, "commit_then_drop")
    with django_capture_on_commit_callbacks(execute=True):
        workload.sign(martin, prescription)
    submission = Submission.objects.get(prescription=prescription)
    assert submission.status == SubmissionStatus.HELD
    faults(ordoclic, "ok")
    delivery.submission_requeue(submission_id=submission.pk, acting_user=AdminFactory())
    # The count starts over, but the attempt log remembers the lost answer.
    delivery.submission_send(submission_id=submission.pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert outcomes(prescription) == [AttemptOutcome.UNAVAILABLE, AttemptOutcome.FOUND]
    assert ledger(ordoclic) == {str(prescription.external_id): (1, 1)}


def test_requeue_refuses_a_submission_that_is_not_held(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = signed(martin, django_capture_on_commit_callbacks)
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    with pytest.raises(PrescriptionError):
        delivery.submission_requeue(
            submission_id=prescription.submission.pk, acting_user=AdminFactory()
        )


def test_an_attempt_before_its_time_does_nothing(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "down")
    prescription = signed(martin, django_capture_on_commit_callbacks)
    faults(ordoclic, "ok")
    Submission.objects.filter(prescription=prescription).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    assert delivery.submission_send(submission_id=prescription.submission.pk) is None
    assert outcomes(prescription) == [AttemptOutcome.UNAVAILABLE]
    assert ledger(ordoclic) == {}


def test_while_the_breaker_is_open_signing_answers_at_once_without_an_attempt(
    sandbox: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    connection_ = redis.Redis.from_url(settings.REDIS_URL)
    breaker = RedisBreaker(connection_, name="test-delivery-open", failures=1, reset_seconds=60)
    breaker.reset()
    client = OrdoclicClient(
        http=build_http_client(base_url="http://sandbox", transport=sandbox.transport),
        credentials=PartnerCredentials(
            partner_id=sandbox.partner_id, private_key_pem=sandbox.private_key_pem
        ),
        breaker=breaker,
    )
    try:
        with override_client(client):
            user = workload.prescriber_linked(workload.CLAIRE_MARTIN)
            prescription = workload.ready_to_sign(user, workload.draft(user))
            breaker.record_failure("test: Ordoclic down")
            with django_capture_on_commit_callbacks(execute=True):
                workload.sign(user, prescription)
        prescription.refresh_from_db()
        submission = prescription.submission
        assert prescription.transmission_status == TransmissionStatus.QUEUED
        # Nothing was sent and no attempt counted: the breaker said so before any call.
        assert submission.attempts == 0
        assert outcomes(prescription) == []
        with sandbox.control() as control:
            assert control.get("/_sandbox/ledger").json()["items"] == []
        # The next try waits for the breaker to half-open.
        assert submission.next_attempt_at is not None
        assert submission.next_attempt_at > timezone.now() + timedelta(seconds=30)
        assert enqueued == [(submission.pk, submission.next_attempt_at)]
    finally:
        breaker.reset()
        client.close()


def test_the_attempt_after_signing_is_bounded_by_the_request_budget(
    ordoclic: Any,
    martin: Any,
    enqueued: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    bounds: list[tuple[float, float | None]] = []
    real = type(ordoclic.client).with_timeout

    def spy(self: Any, *, read: float, connect: float | None = None) -> Any:
        bounds.append((read, connect))
        return real(self, read=read, connect=connect)

    monkeypatch.setattr(type(ordoclic.client), "with_timeout", spy)
    with override_settings(ORDOCLIC_REQUEST_BUDGET=1.5):
        prescription = signed(martin, django_capture_on_commit_callbacks)
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert bounds
    assert all(read <= 0.75 and (connect or 0) <= 0.75 for read, connect in bounds)


@pytest.mark.django_db(transaction=True)
def test_the_signing_attempt_and_a_worker_never_send_twice(
    ordoclic: Any, enqueued: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attempt made by the signing request and a worker's task race for the same row: one
    claims it, the other skips it; Ordoclic sees one creation request."""

    user = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    prescription = workload.ready_to_sign(user, workload.draft(user))
    # Sign without the request's own attempt, so that both attempts can start together.
    monkeypatch.setattr(signing, "submission_after_sign", lambda **_: None)
    workload.sign(user, prescription)
    submission_id = Submission.objects.get(prescription=prescription).pk
    faults(ordoclic, "slow", latency_ms=300)
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def attempt(from_request: bool) -> None:
        try:
            barrier.wait()
            if from_request:
                results.append(delivery.submission_after_sign(submission_id=submission_id))
            else:
                results.append(delivery.submission_send(submission_id=submission_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert ledger(ordoclic) == {str(prescription.external_id): (1, 1)}
    assert len(outcomes(prescription)) == 1


def test_a_failing_attempt_after_signing_does_not_undo_or_break_the_signature(
    ordoclic: Any,
    martin: Any,
    enqueued: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(delivery, "submission_send", broken)
    prescription = signed(martin, django_capture_on_commit_callbacks)
    assert prescription.status == BusinessStatus.SIGNED
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    # Still queued and due: the sweeper picks it up.
    assert prescription.submission.status == SubmissionStatus.QUEUED
    assert prescription.submission.next_attempt_at is not None


# --- batches: a worker's attempt takes the due submissions with it -----------------------------


def waited(prescription: Prescription) -> Submission:
    """Let the time of the next attempt come, long after the signing request ended."""
    Submission.objects.filter(prescription=prescription).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    return Submission.objects.get(prescription=prescription)


def test_a_worker_attempt_sends_the_waiting_submissions_in_one_batch(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "down")
    plain = [signed(martin, django_capture_on_commit_callbacks) for _ in range(3)]
    contraindicated = signed(
        martin,
        django_capture_on_commit_callbacks,
        drugs=(workload.SIMVASTATINE, workload.CLARITHROMYCINE),
    )
    for prescription in [*plain, contraindicated]:
        waited(prescription)
    faults(ordoclic, "ok")

    with django_capture_on_commit_callbacks(execute=True):
        attempted = delivery.submissions_send(submission_id=plain[1].submission.pk, batch=10)

    assert set(attempted) == {p.submission.pk for p in [*plain, contraindicated]}
    for prescription in plain:
        prescription.refresh_from_db()
        assert prescription.transmission_status == TransmissionStatus.REGISTERED
        assert prescription.consolidated_at is not None
        assert outcomes(prescription) == [AttemptOutcome.UNAVAILABLE, AttemptOutcome.REGISTERED]
        # analysed again before sending, and the trail tells both
        assert list(
            prescription.audit_events.filter(action__in=["analysed", "registered"]).values_list(
                "action", flat=True
            )
        )[-2:] == ["analysed", "registered"]
    contraindicated.refresh_from_db()
    assert contraindicated.transmission_status == TransmissionStatus.HELD
    [alert] = undecided_alerts(
        prescription=contraindicated,
        run=contraindicated.analysis_runs.order_by("-pk").first(),
    )
    assert alert.level == "CI"
    assert ledger(ordoclic) == {str(p.external_id): (1, 1) for p in plain}


def test_a_batch_reads_and_writes_in_the_same_number_of_queries_whatever_its_size(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "down")
    prescriptions = [signed(martin, django_capture_on_commit_callbacks) for _ in range(6)]
    for prescription in prescriptions:
        waited(prescription)
    faults(ordoclic, "ok")
    counts = []
    for first, size in ((prescriptions[0], 2), (prescriptions[2], 4)):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            attempted = delivery.submissions_send(submission_id=first.submission.pk, batch=size)
        assert len(attempted) == size
        assert callbacks == []  # all registered: nothing to enqueue
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_batch_leaves_a_just_signed_prescription_to_its_signing_request(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "down")
    waiting = waited(signed(martin, django_capture_on_commit_callbacks))
    just_signed = signed(martin, django_capture_on_commit_callbacks)
    due_now(just_signed)  # due, but its signing request may still be about to try it
    faults(ordoclic, "ok")
    attempted = delivery.submissions_send(submission_id=waiting.pk, batch=10)
    assert set(attempted) == {waiting.pk}
    assert outcomes(just_signed) == [AttemptOutcome.UNAVAILABLE]


def test_a_batch_stops_at_the_first_unanswered_call_and_hands_the_rest_back(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    faults(ordoclic, "down")
    submissions = [waited(signed(martin, django_capture_on_commit_callbacks)) for _ in range(3)]
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        attempted = delivery.submissions_send(submission_id=submissions[0].pk, batch=10)
    # One call failed: the others were not tried (no attempt counted), only enqueued again,
    # for when the failed one is tried again (no burst of tasks while Ordoclic is down).
    assert list(attempted) == [submissions[0].pk]
    for submission in submissions[1:]:
        submission.refresh_from_db()
        assert submission.attempts == 1
        assert submission.status == SubmissionStatus.QUEUED
    submissions[0].refresh_from_db()
    retry_at = submissions[0].next_attempt_at
    assert retry_at is not None
    assert sorted(enqueued) == sorted((s.pk, retry_at) for s in submissions)


def test_an_attempt_that_raises_is_counted_and_the_rest_of_the_batch_goes_on(
    ordoclic: Any,
    martin: Any,
    enqueued: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    faults(ordoclic, "down")
    broken, fine = (signed(martin, django_capture_on_commit_callbacks) for _ in range(2))
    for prescription in (broken, fine):
        waited(prescription)
    faults(ordoclic, "ok")
    real = delivery.payloads.registration_request

    def registration_request(*, prescription: Prescription, **kwargs: Any) -> Any:
        if prescription.pk == broken.pk:
            raise ValueError("unexpected data")
        return real(prescription=prescription, **kwargs)

    monkeypatch.setattr(delivery.payloads, "registration_request", registration_request)
    with django_capture_on_commit_callbacks(execute=True):
        delivery.submissions_send(submission_id=broken.submission.pk, batch=10)
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert fine.transmission_status == TransmissionStatus.REGISTERED
    assert broken.transmission_status == TransmissionStatus.QUEUED
    assert outcomes(broken) == [AttemptOutcome.UNAVAILABLE, AttemptOutcome.FAILED]
    assert "ValueError" in broken.submission.last_error
    assert "unexpected data" not in broken.submission.last_error  # messages may quote data
    assert enqueued[-1][0] == broken.submission.pk


# --- exactly once at the edges: the Idempotency-Key, an attempt interrupted mid-flight ---------


def ledger_entry(ordoclic: Any, prescription: Prescription) -> dict[str, Any]:
    """What the sandbox saw for this prescription's creation requests."""
    with ordoclic.sandbox.control() as control:
        items = control.get("/_sandbox/ledger").json()["items"]
    [entry] = [i for i in items if i["externalId"] == str(prescription.external_id)]
    return dict(entry)


def test_every_attempt_of_a_submission_carries_the_same_idempotency_key(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Exactly once must not rest on the lookup alone: should Ordoclic's lookup miss a
    registration, it is the key that makes a repeated creation harmless."""
    faults(ordoclic, "down")  # the creation request reaches Ordoclic, which answers 503
    prescription = signed(martin, django_capture_on_commit_callbacks)
    faults(ordoclic, "ok")
    delivery.submission_send(submission_id=due_now(prescription).pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert outcomes(prescription) == [AttemptOutcome.UNAVAILABLE, AttemptOutcome.REGISTERED]
    entry = ledger_entry(ordoclic, prescription)
    # Two creation requests arrived (the first refused by the outage), under one key.
    assert entry["idempotencyKeys"] == [str(prescription.submission.idempotency_key)]
    assert (entry["registered"], entry["resendsWithoutLookup"]) == (1, 0)


class WorkerKilled(BaseException):
    """The worker's process dying: nothing after it runs, its transaction never commits."""


def test_a_worker_killed_after_ordoclic_registered_is_looked_up_not_sent_again(
    ordoclic: Any,
    martin: Any,
    enqueued: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prescription = workload.ready_to_sign(martin, workload.draft(martin))
    # The web process died right after the signing commit: no attempt yet, the worker's is
    # the first one.
    with django_capture_on_commit_callbacks(execute=False):
        workload.sign(martin, prescription)
    submission = due_now(prescription)
    assert not submission.attempt_log.exists()

    def killed(rows: Any) -> None:
        raise WorkerKilled  # Ordoclic has registered it; the worker dies before its commit

    monkeypatch.setattr(delivery._Rows, "save", killed)
    with pytest.raises(WorkerKilled):
        delivery.submissions_send(submission_id=submission.pk)
    monkeypatch.undo()
    assert ledger(ordoclic) == {str(prescription.external_id): (1, 1)}
    submission.refresh_from_db()
    # Nothing of the attempt was recorded but its start, committed before the call.
    assert (submission.status, submission.attempts) == (SubmissionStatus.QUEUED, 0)
    assert not submission.attempt_log.exists()
    assert submission.attempt_started_at is not None

    delivery.submissions_send(submission_id=submission.pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    # Found by its external id: no second creation request ever reached Ordoclic.
    assert outcomes(prescription) == [AttemptOutcome.FOUND]
    entry = ledger_entry(ordoclic, prescription)
    assert (entry["creationRequests"], entry["registered"]) == (1, 1)
    assert entry["resendsWithoutLookup"] == 0
    assert Submission.objects.get(pk=submission.pk).attempt_started_at is None


# --- consolidation: what the first send and a re-analysis must catch --------------------------


def test_the_first_send_of_a_prescription_signed_without_analysis_analyses_it_first(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Signed while the analysis could not run (the prescriber acknowledged it), the
    prescription is analysed by its very first send, and held on the contraindication that
    analysis finds instead of being sent."""
    prescription = workload.draft(martin, (workload.SIMVASTATINE, workload.CLARITHROMYCINE))
    faults(ordoclic, "down")
    prescription = workload.ready_to_sign(martin, prescription)  # signs without analysis
    assert not prescription.analysis_runs.filter(outcome="done").exists()
    faults(ordoclic, "ok")  # back by the time the signing request makes its attempt
    with django_capture_on_commit_callbacks(execute=True):
        workload.sign(martin, prescription)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.HELD
    assert "attendent votre décision" in prescription.transmission_error
    assert ledger(ordoclic) == {}  # nothing was sent
    run = prescription.analysis_runs.filter(outcome="done").get()
    assert [a.level for a in undecided_alerts(prescription=prescription, run=run)] == ["CI"]


def raise_level_once_analysed(
    ordoclic: Any, monkeypatch: pytest.MonkeyPatch, *, shown: str, then: str
) -> Any:
    """Ordoclic reports the simvastatin + clarithromycin alert at ``shown`` until the returned
    function is called; from then on at ``then`` (its thesaurus was updated): same alert id."""
    app = ordoclic.sandbox.app
    real = app._analyse
    level = {"now": shown}

    def analyse(request: Any) -> dict[str, Any]:
        result = dict(real(request))
        result["alerts"] = [{**a, "level": level["now"]} for a in result["alerts"]]
        return result

    monkeypatch.setattr(app, "_analyse", analyse)

    def rise() -> None:
        level["now"] = then

    return rise


def test_a_decision_on_an_alert_does_not_cover_it_once_its_level_rose(
    ordoclic: Any,
    martin: Any,
    enqueued: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Maintained as a precaution (PE), the same alert comes back as a contraindication (CI)
    from the analysis before sending: the decision no longer covers it, the prescription is
    held for the prescriber, not sent."""
    rise = raise_level_once_analysed(ordoclic, monkeypatch, shown="PE", then="CI")
    prescription = workload.ready_to_sign(
        martin, workload.draft(martin, (workload.SIMVASTATINE, workload.CLARITHROMYCINE))
    )
    [decision] = prescription.decisions.all()
    assert (decision.level, decision.decision) == ("PE", "maintain")
    faults(ordoclic, "down")
    with django_capture_on_commit_callbacks(execute=True):
        workload.sign(martin, prescription)
    rise()
    faults(ordoclic, "ok")
    with django_capture_on_commit_callbacks(execute=True):
        delivery.submission_send(submission_id=due_now(prescription).pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.HELD
    assert ledger(ordoclic) == {}
    run = prescription.analysis_runs.order_by("-pk").first()
    [alert] = undecided_alerts(prescription=prescription, run=run)
    assert (alert.ordoclic_alert_id, alert.level) == (decision.ordoclic_alert_id, "CI")


def test_a_submission_another_attempt_holds_is_left_to_it_and_the_batch_takes_the_others(
    ordoclic: Any, martin: Any, enqueued: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import psycopg

    faults(ordoclic, "down")
    held, *others = [waited(signed(martin, django_capture_on_commit_callbacks)) for _ in range(3)]
    faults(ordoclic, "ok")
    # Another worker's attempt on `held`: started (committed), its session holds the row.
    Submission.objects.filter(pk=held.pk).update(attempt_started_at=timezone.now())
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as elsewhere:
        elsewhere.execute("SELECT pg_advisory_lock(%s, %s)", [SUBMISSIONS.lock_class, held.pk])
        assert delivery.submission_send(submission_id=held.pk) is None  # its own task
        attempted = delivery.submissions_send(submission_id=others[0].pk, batch=2)
        assert set(attempted) == {s.pk for s in others}  # not `held`, and not short of it
    # That worker died (its session with it): the next attempt on `held` looks it up first.
    delivery.submissions_send(submission_id=held.pk, batch=10)
    held.refresh_from_db()
    assert held.status == SubmissionStatus.REGISTERED
    assert ledger_entry(ordoclic, held.prescription)["resendsWithoutLookup"] == 0
