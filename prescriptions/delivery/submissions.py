"""The submission outbox: getting signed prescriptions registered at Ordoclic, exactly once.

The `Submission` row, created in the signing transaction, is an outbox of the one mechanism in
`prescriptions.outbox` (claim, retry delay, enqueue after commit, sweep); this module supplies
its send step and what it does with Ordoclic's answer. One attempt (`submission_send`):

1. claims the row (``select_for_update(skip_locked=True)``) and records the attempt as started,
   committed before any call (`Outbox.attempt`); the row stays held for the whole attempt: a
   concurrent attempt (the signing request and a worker, two workers, a duplicated task) skips
   it, and a process that dies mid-attempt releases it with its connection, leaving the started
   marker behind;
2. waits, without counting an attempt, while the shared circuit breaker is open;
3. after any earlier attempt, recorded or interrupted, looks the prescription up by our external
   id before sending again (an earlier attempt may have been registered while its answer or its
   worker was lost);
4. **consolidates** a prescription that waited in the queue, whose analysis was not done, or
   with a line whose drug was picked from origami's memory while Ordoclic did not answer: each
   such line's product is first checked against Ordoclic (one it no longer knows, or knows
   differently, holds the prescription, the line and the reason said); then it is analysed
   again, and if blocking alerts the prescriber did not decide appear, it is held for the
   prescriber's decision instead of being sent;
5. sends with the submission's idempotency key (the same on every attempt);
6. records the attempt (append-only, no patient data) and either the registration, the refusal,
   or the next attempt time (backoff with full jitter, `outbox.retry_delay`), and after
   ``SUBMISSION_MAX_ATTEMPTS`` failures holds the submission for a human with the reason.

The next attempt is enqueued once the attempt's transaction has committed; the beat sweeper
(`submissions_sweep`) re-enqueues any due submission whose task was lost.

A worker's task (`submissions_send`) makes these attempts for a batch of due submissions: the
rows are claimed (one committed transaction), read and written (a second one) per batch, the
calls made one at a time.
The signing request's attempt (`submission_send`) is a batch of one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import assert_never

import sentry_sdk
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.db.models import (
    Case,
    Exists,
    OuterRef,
    Q,
    Value,
    When,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from ordoclic_client import OrdoclicClient, contract
from origami.text import length_error
from practitioners.models import User

from .. import ordoclic
from ..access import prescription_lock_for_change
from ..drafting import payloads
from ..drafting.selectors import (
    analysis_request_for,
    latest_by_alert,
    lines_besides,
    running_lines_by_patient,
)
from ..drugs.catalogue import drug_check
from ..drugs.memory import drugs_remember
from ..errors import PrescriptionError
from ..followup.reissue import replacement_registered
from ..models import (
    AlertDecision,
    AnalysisOutcome,
    AnalysisRun,
    AttemptOutcome,
    AuditAction,
    AuditEvent,
    Decision,
    Prescription,
    PrescriptionLine,
    Submission,
    SubmissionAttempt,
    SubmissionStatus,
    TransmissionStatus,
)
from ..ordoclic import NotAnswered, Refused, RequestBudget
from ..outbox import Outbox, counts_as_attempt, due
from ..records import (
    AnalysisRows,
    analysis_rows,
    analysis_rows_save,
    audit_event,
    audit_record,
    decision_record,
)
from .selectors import alerts_undecided, held_alerts

logger = logging.getLogger(__name__)

SUBMISSIONS: Outbox[Submission] = Outbox(
    name="submission",
    model=Submission,
    queued=SubmissionStatus.QUEUED,
    task_name="prescriptions.submission_send",
)


@dataclass(frozen=True)
class _Step:
    """How one attempt ended before the bookkeeping."""

    kind: str  # registered, rejected, unavailable, failed, postponed, held
    outcome: str = ""
    error: str = ""
    retry_after: float | None = None
    registered: contract.RegisteredPrescription | None = None


def submission_send(
    *, submission_id: int, budget: float | None = None, first: bool = False
) -> Submission | None:
    """One attempt to register a submission; takes only its id.

    ``budget``: seconds the caller may wait (the signing request); ``first``: the attempt made
    right after signing. Returns None when there was nothing to do (another attempt holds the
    row, the submission is not queued, or it is not due yet).
    """
    attempted = submissions_send(submission_id=submission_id, budget=budget, first=first, batch=1)
    return attempted.get(submission_id)


def submissions_send(
    *,
    submission_id: int,
    budget: float | None = None,
    first: bool = False,
    batch: int | None = None,
) -> dict[int, Submission]:
    """The attempt a worker's task makes: the submission it names and, in the same transaction,
    up to ``batch - 1`` other due submissions that no one else holds (``SUBMISSION_BATCH``).

    After an outage thousands of prescriptions wait: what each attempt reads is then loaded
    for the whole batch in a few queries, and what they write is saved in a few statements,
    so that the workers spend their time on Ordoclic's answers rather than on the database. The
    calls stay one at a time, in order. Other submissions join a batch only once the signing
    request that made them is over (their first attempt is the prescriber's). The batch stops
    at the first attempt Ordoclic did not answer: the ones not tried are enqueued again.

    Returns the submissions attempted, by id.
    """
    size = 1 if budget is not None or first else max(1, batch or settings.SUBMISSION_BATCH)
    # The claim commits on its own, with the attempt recorded as started, before any call.
    with (
        SUBMISSIONS.attempt(lambda: _claim(submission_id=submission_id, size=size)) as claim,
        transaction.atomic(),
    ):
        claimed = claim.rows
        if not claimed:
            return {}
        if (
            ordoclic.breaker_wait(ordoclic.client()) is None
        ):  # else every attempt is postponed without reading
            _load(claimed, consolidating=not first)
        rows = _Rows()
        attempted: dict[int, Submission] = {}
        for position, submission in enumerate(claimed):
            started = time.monotonic()
            try:
                step = _attempt(
                    submission=submission,
                    budget=RequestBudget(budget),
                    first=first,
                    interrupted=submission.pk in claim.interrupted,
                    rows=rows,
                )
            except DatabaseError:
                raise  # the transaction is broken: the whole batch is tried again later
            except Exception as exc:  # one broken prescription must not stop the others
                step = _failed(submission=submission, exc=exc)
            latency_ms = int((time.monotonic() - started) * 1000)
            _record(submission=submission, step=step, latency_ms=latency_ms, first=first, rows=rows)
            attempted[submission.pk] = submission
            if step.kind == "unavailable":
                # The ones not tried wait as long as the one that failed (their own tasks may
                # have run, and skipped them, while this batch held them).
                for untried in claimed[position + 1 :]:
                    rows.submissions.append(untried)  # not tried: its started marker goes
                    _enqueue_on_commit(untried, at=submission.next_attempt_at)
                break
        rows.save()
        return attempted


def _claim(*, submission_id: int, size: int) -> list[Submission]:
    """Lock the named submission if it is queued and due, and up to ``size - 1`` other due
    ones, skipping rows another attempt holds. One query, which also reads what the attempts
    need: the prescription, its prescriber and patient, and whether it was tried before."""
    now = timezone.now()
    wanted = Q(pk=submission_id) & due(now)
    claim = SUBMISSIONS.claimable()
    if size > 1:
        settled = now - timedelta(seconds=settings.ORDOCLIC_REQUEST_BUDGET)
        # Not the rows another attempt holds (started): they would only be dropped by the
        # advisory lock and leave the batch short. An interrupted one comes back by its own
        # task (the sweeper's), which names it.
        wanted |= Q(next_attempt_at__lte=settled, attempt_started_at__isnull=True)
        claim = claim.order_by(
            Case(When(pk=submission_id, then=Value(0)), default=Value(1)), "next_attempt_at", "pk"
        )
    return list(
        claim.filter(wanted)
        .select_related("prescription__prescriber", "prescription__patient")
        .annotate(tried=Exists(SubmissionAttempt.objects.filter(submission_id=OuterRef("pk"))))[
            :size
        ]
    )


def _load(claimed: list[Submission], *, consolidating: bool) -> None:
    """What the attempts read, for the whole batch: the lines and the decisions taken, and when
    they are analysed again, the patients' data (``_load_patients``)."""
    prescriptions = [submission.prescription for submission in claimed]
    prefetch_related_objects(prescriptions, "lines", "decisions")
    if consolidating:
        _load_patients(prescriptions)


def _load_patients(prescriptions: list[Prescription]) -> None:
    """The patients' safety data and recorded treatments, and what each patient takes now
    (``running_lines``), for the analysis before sending."""
    prefetch_related_objects(
        [prescription.patient for prescription in prescriptions],
        "allergies",
        "pathologies",
        "current_treatments",
    )
    running = running_lines_by_patient(patient_ids={p.patient_id for p in prescriptions})
    for prescription in prescriptions:
        prescription.running_lines = lines_besides(  # type: ignore[attr-defined]
            running.get(prescription.patient_id, []), prescription
        )


@dataclass
class _Rows:
    """What the attempts of a batch write, saved together at its end."""

    analyses: list[AnalysisRows] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)
    attempts: list[SubmissionAttempt] = field(default_factory=list)
    # lines whose drug was checked before sending, and what Ordoclic said of those drugs
    lines_checked: list[PrescriptionLine] = field(default_factory=list)
    drugs_seen: list[contract.Drug] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    # prescriptions changed, by the fields that changed (one statement per kind of change)
    prescriptions: dict[tuple[str, ...], list[Prescription]] = field(default_factory=dict)

    def prescription_changed(self, prescription: Prescription, fields: list[str]) -> None:
        prescription.updated_at = timezone.now()  # bulk_update does not apply auto_now
        key = (*fields, "updated_at")
        self.prescriptions.setdefault(key, []).append(prescription)

    def save(self) -> None:
        analysis_rows_save(self.analyses)
        for fields, changed in self.prescriptions.items():
            Prescription.objects.bulk_update(changed, list(fields))
        if self.submissions:
            now = timezone.now()
            for submission in self.submissions:
                submission.updated_at = now
                submission.attempt_started_at = None  # the attempt is recorded
            Submission.objects.bulk_update(self.submissions, SUBMISSION_FIELDS)
        if self.lines_checked:
            PrescriptionLine.objects.bulk_update(
                self.lines_checked, ["drug_verified", "drug_check_error"]
            )
        drugs_remember(drugs=self.drugs_seen)
        AuditEvent.objects.bulk_create(self.audit)
        SubmissionAttempt.objects.bulk_create(self.attempts)


SUBMISSION_FIELDS = [
    "status",
    "attempts",
    "next_attempt_at",
    "attempt_started_at",
    "last_error",
    "updated_at",
]


def _attempt(
    *,
    submission: Submission,
    budget: RequestBudget,
    first: bool,
    interrupted: bool,
    rows: _Rows,
) -> _Step:
    prescription = submission.prescription
    rpps = prescription.prescriber.rpps
    client = ordoclic.client()
    wait = ordoclic.breaker_wait(client)
    if wait is not None:
        return _Step(kind="postponed", retry_after=wait)
    # An administrator's requeue starts the count over: the attempt log still tells. An
    # interrupted attempt (started, never recorded) left no log: its marker tells.
    tried_before = (
        submission.attempts > 0 or bool(getattr(submission, "tried", True)) or interrupted
    )
    if tried_before:
        bounded = budget.client(client)
        if bounded is None:
            return _Step(kind="postponed", retry_after=None)
        match ordoclic.registration_find(
            base=bounded, rpps=rpps, external_id=str(submission.external_id)
        ):
            case None:
                pass
            case Refused(message=message):
                return _Step(kind="unavailable", error=_("recherche refusée : ") + message)
            case NotAnswered() as unanswered:
                return _unanswered(unanswered)
            case contract.RegisteredPrescription() as registered:
                return _Step(kind="registered", outcome=AttemptOutcome.FOUND, registered=registered)
            case _ as unreachable:
                assert_never(unreachable)
    # prefetched for the batch (no query); both models are ordered by position / decision time
    lines = list(prescription.lines.all())
    decisions = latest_by_alert(prescription.decisions.all())
    unverified = any(not line.drug_verified for line in lines)
    if not first or unverified or not _analysis_done(prescription):
        held = _consolidate(
            prescription=prescription,
            lines=lines,
            decisions=decisions,
            client=client,
            budget=budget,
            rows=rows,
        )
        if held is not None:
            return held
    request = payloads.registration_request(
        prescription=prescription,
        lines=lines,
        decisions=decisions.values(),
        issued_at=prescription.signed_at or timezone.now(),
    )
    bounded = budget.client(client)
    if bounded is None:
        return _Step(kind="postponed", retry_after=None)
    match ordoclic.registration_create(
        base=bounded,
        rpps=rpps,
        request=request,
        idempotency_key=str(submission.idempotency_key),
    ):
        case Refused(message=message):
            return _Step(kind="rejected", outcome=AttemptOutcome.REJECTED, error=message)
        case NotAnswered() as unanswered:
            return _unanswered(unanswered)
        case contract.RegisteredPrescription() as registered:
            return _Step(
                kind="registered", outcome=AttemptOutcome.REGISTERED, registered=registered
            )
        case _ as unreachable:
            assert_never(unreachable)


def _unanswered(answer: NotAnswered) -> _Step:
    if not counts_as_attempt(answer):
        # Refused by the breaker before anything was sent: not an attempt.
        return _Step(kind="postponed", retry_after=answer.retry_after)
    return _Step(
        kind="unavailable",
        outcome=AttemptOutcome.UNAVAILABLE,
        error=answer.reason,
        retry_after=answer.retry_after,
    )


def _analysis_done(prescription: Prescription) -> bool:
    return AnalysisRun.objects.filter(
        prescription=prescription, version=prescription.version, outcome=AnalysisOutcome.DONE
    ).exists()


def _consolidate(
    *,
    prescription: Prescription,
    lines: list[PrescriptionLine],
    decisions: dict[str, AlertDecision],
    client: OrdoclicClient,
    budget: RequestBudget,
    rows: _Rows,
) -> _Step | None:
    """Check the drugs picked offline, then analyse the signed prescription again; a step when
    it must not be sent now. The analysis is kept with the batch's rows (a signed
    prescription's version no longer moves)."""
    checked = _drugs_check(
        prescription=prescription, lines=lines, client=client, budget=budget, rows=rows
    )
    if checked is not None:
        return checked
    bounded = budget.client(client)
    if bounded is None:
        return _Step(kind="postponed", retry_after=None)
    if not hasattr(prescription, "running_lines"):
        _load_patients([prescription])
    running = prescription.running_lines  # type: ignore[attr-defined]
    request = analysis_request_for(prescription=prescription, lines=lines, running=running)
    result = ordoclic.analysis_run(base=bounded, rpps=prescription.prescriber.rpps, request=request)
    if isinstance(result, NotAnswered):
        return _unanswered(result)
    analysis = analysis_rows(
        prescription=prescription,
        version=prescription.version,
        result=result,
        acting_user=None,
        context=payloads.analysis_fingerprint(request),
    )
    rows.analyses.append(analysis)
    rows.audit.append(analysis.audit)
    if isinstance(result, Refused):
        return _Step(
            kind="held",
            outcome=AttemptOutcome.HELD,
            error=_("Analyse refusée par Ordoclic avant l'envoi : %(reason)s")
            % {"reason": result.message},
        )
    undecided = alerts_undecided(analysis.alerts, decisions)
    if undecided:
        return _Step(
            kind="held",
            outcome=AttemptOutcome.HELD,
            error=_(
                "Nouvelle analyse avant l'envoi : %(count)s alerte(s) attendent votre décision."
            )
            % {"count": len(undecided)},
        )
    return None


def _drugs_check(
    *,
    prescription: Prescription,
    lines: list[PrescriptionLine],
    client: OrdoclicClient,
    budget: RequestBudget,
    rows: _Rows,
) -> _Step | None:
    """Each line whose drug was picked from origami's memory is checked against Ordoclic by its
    code, before the analysis: a product Ordoclic no longer knows, or describes otherwise
    (label, substance, form), or no longer markets, holds the prescription for the prescriber,
    each such line and its reason kept on the line and said in the hold's reason. Nothing is
    recorded until every line has an answer (an outage midway retries them all later)."""
    unverified = [(number, line) for number, line in enumerate(lines, 1) if not line.drug_verified]
    if not unverified:
        return None
    rpps = prescription.prescriber.rpps
    problems = []
    outcomes = []
    for number, line in unverified:
        bounded = budget.client(client)
        if bounded is None:
            return _Step(kind="postponed", retry_after=None)
        check = drug_check(base=bounded, rpps=rpps, line=line)
        if isinstance(check, NotAnswered):
            return _unanswered(check)
        outcomes.append((number, line, check))
    for number, line, check in outcomes:
        line.drug_check_error = check.problem[:300]
        line.drug_verified = not check.problem
        rows.lines_checked.append(line)
        if check.drug is not None:
            rows.drugs_seen.append(check.drug)
        if check.problem:
            problems.append(
                _("ligne %(number)s « %(label)s » : %(problem)s")
                % {"number": number, "label": line.label, "problem": check.problem}
            )
    rows.audit.append(
        audit_event(
            actor=None,
            action=AuditAction.DRUGS_VERIFIED,
            prescription=prescription,
            details={
                "lines": [
                    {"line": line.pk, "drug_code": line.drug_code, "verified": not check.problem}
                    for _number, line, check in outcomes
                ]
            },
        )
    )
    if problems:
        return _Step(
            kind="held",
            outcome=AttemptOutcome.HELD,
            error=_(
                "Médicament à revoir avant l'envoi (choisi hors ligne) — %(problems)s Cette "
                "ordonnance ne sera pas envoyée telle quelle : rédigez-en une nouvelle avec un "
                "médicament trouvé dans la recherche."
            )
            % {"problems": " ; ".join(problems)},
        )
    return None


def _failed(*, submission: Submission, exc: Exception) -> _Step:
    """An attempt that raised (a bug, unexpected data): counted and retried like an outage,
    held after the maximum; reported to Sentry (scrubbed), logged with the type only."""
    sentry_sdk.capture_exception(exc)
    logger.error(
        "submission attempt failed (%s)",
        type(exc).__name__,
        extra={"submission_id": submission.pk},
    )
    return _Step(
        kind="failed",
        outcome=AttemptOutcome.FAILED,
        error=_("erreur de l'application (%(type)s)") % {"type": type(exc).__name__},
    )


def _record(
    *, submission: Submission, step: _Step, latency_ms: int, first: bool, rows: _Rows
) -> None:
    prescription = submission.prescription
    rows.submissions.append(submission)
    if step.kind == "postponed":
        submission.next_attempt_at = SUBMISSIONS.next_attempt_at(
            attempts=submission.attempts, retry_after=step.retry_after
        )
        _enqueue_on_commit(submission)
        return
    submission.attempts += 1
    error = step.error[:2000]
    match step.kind:
        case "registered":
            assert step.registered is not None
            _mark_registered(
                prescription=prescription,
                registered=step.registered,
                queued=not first,
                rows=rows,
            )
            submission.status = SubmissionStatus.REGISTERED
            submission.next_attempt_at = None
        case "rejected":
            submission.status = SubmissionStatus.REJECTED
            submission.next_attempt_at = None
            prescription.transmission_status = TransmissionStatus.REJECTED
            prescription.transmission_error = error
            rows.prescription_changed(prescription, ["transmission_status", "transmission_error"])
        case "held":
            _hold(submission=submission, reason=error, rows=rows)
        case "unavailable" | "failed":
            if submission.attempts >= settings.SUBMISSION_MAX_ATTEMPTS:
                _hold(
                    submission=submission,
                    reason=_(
                        "Toujours pas enregistrée après %(count)s tentatives "
                        "(dernière erreur : %(error)s). Un administrateur doit relancer l'envoi."
                    )
                    % {"count": submission.attempts, "error": error},
                    rows=rows,
                )
            else:
                submission.next_attempt_at = SUBMISSIONS.next_attempt_at(
                    attempts=submission.attempts, retry_after=step.retry_after
                )
                _enqueue_on_commit(submission)
        case _:
            raise AssertionError(step.kind)
    submission.last_error = error
    rows.attempts.append(
        SubmissionAttempt(
            submission=submission,
            outcome=step.outcome or AttemptOutcome.UNAVAILABLE,
            latency_ms=latency_ms,
            error=error,
        )
    )
    logger.info(
        "submission attempt",
        extra={
            "prescription_id": prescription.pk,
            "submission_id": submission.pk,
            "outcome": step.outcome,
            "latency_ms": latency_ms,
        },
    )


def _hold(*, submission: Submission, reason: str, rows: _Rows) -> None:
    prescription = submission.prescription
    submission.status = SubmissionStatus.HELD
    submission.next_attempt_at = None
    prescription.transmission_status = TransmissionStatus.HELD
    prescription.transmission_error = reason[:2000]
    rows.prescription_changed(prescription, ["transmission_status", "transmission_error"])
    rows.audit.append(
        audit_event(
            actor=None,
            action=AuditAction.SUBMISSION_HELD,
            prescription=prescription,
            details={"submission": submission.pk, "attempts": submission.attempts},
        )
    )


def _mark_registered(
    *,
    prescription: Prescription,
    registered: contract.RegisteredPrescription,
    queued: bool,
    rows: _Rows,
) -> None:
    prescription.transmission_status = TransmissionStatus.REGISTERED
    prescription.ordoclic_id = registered.id
    prescription.number = registered.number.upper()
    prescription.qr_payload = registered.qr_payload
    prescription.registered_at = registered.created_at
    prescription.transmission_error = ""
    fields = [
        "transmission_status",
        "ordoclic_id",
        "number",
        "qr_payload",
        "registered_at",
        "transmission_error",
    ]
    if queued:
        prescription.consolidated_at = timezone.now()
        fields.append("consolidated_at")
    rows.prescription_changed(prescription, fields)
    rows.audit.append(
        audit_event(
            actor=None,
            action=AuditAction.REGISTERED,
            prescription=prescription,
            details={"ordoclic_id": registered.id, "consolidated": queued},
        )
    )
    replacement_registered(prescription=prescription)  # cancels the one it replaces, on commit


# --- scheduling ---------------------------------------------------------------------------------


def _enqueue_on_commit(submission: Submission, *, at: datetime | None = None) -> None:
    """Once committed, ask a worker to try at ``at`` (the submission's next attempt time)."""
    SUBMISSIONS.enqueue_on_commit(pk=submission.pk, at=at or submission.next_attempt_at)


def submission_after_sign(*, submission_id: int, budget: float | None = None) -> Submission | None:
    """Right after the signing transaction commits: one attempt within what is left of the
    request budget (at once while the breaker is open). If it does not register the prescription,
    the attempt has enqueued the next one; a web process dying here is covered by the sweeper."""
    if budget is None:
        budget = settings.ORDOCLIC_REQUEST_BUDGET
    try:
        return submission_send(submission_id=submission_id, budget=budget, first=True)
    except Exception as exc:  # the signature is committed: never turn it into an error page
        logger.error(
            "attempt after signing failed (%s): the sweeper will retry",
            type(exc).__name__,
            extra={"submission_id": submission_id},
        )
        return None


def submissions_sweep(*, limit: int = 1000) -> int:
    """Re-enqueue due queued submissions whose task was lost (Redis keeps nothing on disk, a
    worker killed with its prefetched task). Returns how many were enqueued."""
    return SUBMISSIONS.sweep(limit=limit)


# --- humans: the prescriber's decision, the administrator's requeue ---------------------------


@transaction.atomic
def submission_release(
    *, prescription: Prescription, acting_user: User, reasons: dict[int, str]
) -> Submission:
    """The prescriber maintains the alerts a consolidation found (``reasons``: alert pk ->
    justification) and lets the held prescription go: it is analysed again and sent."""
    locked = prescription_lock_for_change(prescription_id=prescription.pk, user=acting_user)
    # A prescription never sent has no submission: nothing waits for a decision (not a 500).
    submission = Submission.objects.select_for_update().filter(prescription=locked).first()
    if submission is None or submission.status != SubmissionStatus.HELD:
        raise PrescriptionError(_("Cette ordonnance n'attend plus votre décision."))
    for alert in held_alerts(prescription=locked):
        reason = reasons.get(alert.pk, "").strip()
        too_long = length_error(reason, limit="justification", what=_("La justification"))
        if too_long:
            raise PrescriptionError(too_long, field=f"reason-{alert.pk}")
        if alert.needs_justification and not reason:  # type: ignore[attr-defined]
            raise PrescriptionError(
                _("Justifiez le maintien : c'est obligatoire pour une alerte de niveau %(level)s.")
                % {"level": alert.level},
                field=f"reason-{alert.pk}",
            )
        decision_record(
            alert=alert,
            prescription=locked,
            decision=Decision.MAINTAIN,
            reason=reason,
            acting_user=acting_user,
        )
    _requeue(submission=submission, prescription=locked, acting_user=acting_user)
    return submission


@transaction.atomic
def submission_requeue(*, submission_id: int, acting_user: User | None) -> Submission:
    """An administrator sends a held submission again (after the cause was fixed): its
    attempt count starts over; the next attempt analyses it again before sending."""
    if acting_user is not None and not (acting_user.is_superuser or acting_user.is_admin_role):
        raise PermissionDenied
    submission = Submission.objects.select_for_update().get(pk=submission_id)
    if submission.status != SubmissionStatus.HELD:
        raise PrescriptionError(_("Cette transmission n'est pas en attente."))
    prescription = Prescription.objects.select_for_update().get(pk=submission.prescription_id)
    _requeue(submission=submission, prescription=prescription, acting_user=acting_user)
    return submission


def _requeue(
    *, submission: Submission, prescription: Prescription, acting_user: User | None
) -> None:
    held_after = submission.attempts
    submission.status = SubmissionStatus.QUEUED
    submission.attempts = 0
    submission.next_attempt_at = timezone.now()
    submission.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    prescription.transmission_status = TransmissionStatus.QUEUED
    prescription.transmission_error = ""
    prescription.save(update_fields=["transmission_status", "transmission_error", "updated_at"])
    audit_record(
        actor=acting_user,
        action=AuditAction.SUBMISSION_REQUEUED,
        prescription=prescription,
        details={"submission": submission.pk, "attempts_before": held_after},
    )
    _enqueue_on_commit(submission)


# --- after a restore from a backup ------------------------------------------------------------

RESTORED_ERROR = (
    "Restaurée depuis une sauvegarde : recherche par identifiant externe avant tout nouvel envoi."
)


@transaction.atomic
def submissions_after_restore(*, dump: str) -> int:
    """Run on the restored database, before the workers: every queued submission that had no
    attempt yet may still have been registered after the dump (by the signing request or a
    worker); count it as tried, so that its next attempt first looks the prescription up by
    external id and sends only if Ordoclic does not know it. The
    idempotency key is kept. Each one gets an audit event; returns how many were marked."""
    pending = list(
        Submission.objects.select_for_update()
        .filter(
            Q(status__in=[SubmissionStatus.QUEUED, SubmissionStatus.SENDING]),
            attempts=0,
        )
        .select_related("prescription")
    )
    now = timezone.now()
    for submission in pending:
        submission.attempts = 1
        submission.status = SubmissionStatus.QUEUED
        submission.last_error = RESTORED_ERROR
        submission.next_attempt_at = now
        submission.updated_at = now  # bulk_update does not apply auto_now
    Submission.objects.bulk_update(
        pending, ["attempts", "status", "last_error", "next_attempt_at", "updated_at"]
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=None,
            action=AuditAction.SUBMISSION_RESTORED,
            prescription=submission.prescription,
            exercise_context_id=submission.prescription.exercise_context_id,
            details={"submission_id": submission.pk, "dump": dump},
        )
        for submission in pending
    )
    return len(pending)
