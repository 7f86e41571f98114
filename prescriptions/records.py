"""Rows the prescription services and the delivery write, built apart from their saving so that
a worker sending a batch of prescriptions saves each kind of row in one statement: the analysis
runs with their alerts, and the audit events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, assert_never

from ordoclic_client import contract
from practitioners.models import User

from .models import (
    Alert,
    AlertDecision,
    AnalysisOutcome,
    AnalysisRun,
    AuditAction,
    AuditEvent,
    Prescription,
)
from .ordoclic import NotAnswered, Refused

# What an analysis gave: Ordoclic's answer, why there is none, or None (nothing to analyse).
AnalysisAnswer = contract.AnalysisResult | Refused | NotAnswered | None


def decision_record(
    *, alert: Alert, prescription: Prescription, decision: str, reason: str, acting_user: User
) -> AlertDecision:
    """The prescriber's call on an alert of the prescription's current version (append-only),
    and its audit event. The caller has locked the prescription and checked the reason."""
    made = AlertDecision.objects.create(
        alert=alert,
        prescription=prescription,
        ordoclic_alert_id=alert.ordoclic_alert_id,
        level=alert.level,
        alert_payload=alert.raw,
        decision=decision,
        reason=reason,
        decided_by=acting_user,
        exercise_context_id=prescription.exercise_context_id,
        version=prescription.version,
    )
    audit_record(
        actor=acting_user,
        action=AuditAction.ALERT_DECIDED,
        prescription=prescription,
        details={
            "alert": alert.ordoclic_alert_id,
            "level": alert.level,
            "decision": decision,
            "version": prescription.version,
        },
    )
    return made


def audit_record(
    *,
    actor: User | None,
    action: AuditAction,
    prescription: Prescription | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write an audit row now (``audit_event`` builds one for a batch to save later)."""
    event = audit_event(actor=actor, action=action, prescription=prescription, details=details)
    event.save()
    return event


def audit_event(
    *,
    actor: User | None,
    action: AuditAction,
    prescription: Prescription | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """An audit row, not saved yet (a batch saves its rows together)."""
    return AuditEvent(
        actor=actor,
        action=action,
        prescription=prescription,
        exercise_context_id=prescription.exercise_context_id if prescription else None,
        details=details or {},
    )


@dataclass(frozen=True)
class AnalysisRows:
    """What an analysis leaves in the record: the run, its alerts and the audit event, not
    saved yet (``analysis_rows_save`` saves the runs and alerts of any number of analyses)."""

    run: AnalysisRun
    alerts: list[Alert]
    audit: AuditEvent


def analysis_rows(
    *,
    prescription: Prescription,
    version: int,
    result: AnalysisAnswer,
    acting_user: User | None,
    context: str = "",
) -> AnalysisRows:
    """The rows for ``result`` (an Ordoclic answer, or None when there was nothing to analyse)
    of the prescription's ``version``; ``context``: the fingerprint of the request."""
    outcome, reason, analysis_id = AnalysisOutcome.DONE, "", ""
    alerts: list[contract.AnalysisAlert] = []
    match result:
        case None:
            pass
        case Refused(message=message):
            outcome, reason = AnalysisOutcome.REJECTED, message
        case NotAnswered(reason=why):
            outcome, reason = AnalysisOutcome.UNAVAILABLE, why
        case contract.AnalysisResult() as analysis:
            alerts, analysis_id = list(analysis.alerts), analysis.analysis_id
        case _ as unreachable:
            assert_never(unreachable)
    run = AnalysisRun(
        prescription=prescription,
        version=version,
        outcome=outcome,
        reason=reason[:1000],
        ordoclic_analysis_id=analysis_id,
        context=context,
    )
    return AnalysisRows(
        run=run,
        alerts=[
            Alert(
                prescription=prescription,
                analysis_run=run,
                version=version,
                ordoclic_alert_id=a.id,
                level=a.level.value,
                type=a.type.value,
                title=a.title,
                message=a.message,
                action=a.action,
                line_refs=list(a.line_ids),
                raw=a.model_dump(mode="json", by_alias=True),
            )
            for a in alerts
        ],
        audit=audit_event(
            actor=acting_user,
            action=AuditAction.ANALYSED,
            prescription=prescription,
            details={
                "version": version,
                "outcome": outcome,
                "alerts": {
                    a.level.value: sum(1 for b in alerts if b.level == a.level) for a in alerts
                },
                "current": version == prescription.version,
            },
        ),
    )


def analysis_rows_save(analyses: list[AnalysisRows]) -> None:
    """Save the runs, then their alerts: two statements for any number of analyses (the audit
    events are the caller's, saved with its own)."""
    AnalysisRun.objects.bulk_create([rows.run for rows in analyses])
    for rows in analyses:
        for alert in rows.alerts:
            alert.analysis_run = rows.run  # now that the run has its primary key
    Alert.objects.bulk_create([alert for rows in analyses for alert in rows.alerts])
