"""Reads of the delivery: the alerts a prescription held before sending waits on, and the
operations page's figures (queue depth, oldest queued submission, held submissions, last
errors, the circuit breaker)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Min
from django.utils import timezone

from ordoclic_client.breaker import BreakerSnapshot
from origami.ordoclic import get_breaker

from ..drafting.rules import level_needs_decision, level_needs_justification
from ..drafting.selectors import decision_covers, latest_decisions
from ..models import (
    Alert,
    AlertDecision,
    AnalysisRun,
    AttemptOutcome,
    Prescription,
    Submission,
    SubmissionAttempt,
    SubmissionStatus,
)


def alerts_undecided(alerts: Iterable[Alert], decisions: dict[str, AlertDecision]) -> list[Alert]:
    """The alerts that need the prescriber's decision and are not covered by one."""
    return [
        alert
        for alert in alerts
        if level_needs_decision(alert.level)
        and not decision_covers(decisions.get(alert.ordoclic_alert_id), alert)
    ]


def undecided_alerts(
    *,
    prescription: Prescription,
    run: AnalysisRun | None,
    decisions: dict[str, AlertDecision] | None = None,
) -> list[Alert]:
    """Alerts of the run that need the prescriber's decision and are not covered by one
    (``decisions``: the prescription's latest decisions when the caller already has them)."""
    if run is None:
        return []
    if decisions is None:
        decisions = latest_decisions(prescription=prescription)
    return alerts_undecided(run.alerts.all().order_by("pk"), decisions)


def held_alerts(
    *, prescription: Prescription, decisions: dict[str, AlertDecision] | None = None
) -> list[Alert]:
    """The alerts the analysis before sending found that wait for the prescriber (the latest
    run of the signed version), each with ``needs_justification`` for the form."""
    run = (
        AnalysisRun.objects.filter(prescription=prescription, version=prescription.version)
        .order_by("-pk")
        .first()
    )
    alerts = undecided_alerts(prescription=prescription, run=run, decisions=decisions)
    for alert in alerts:
        alert.needs_justification = level_needs_justification(alert.level)  # type: ignore[attr-defined]
    return alerts


# --- operations: the delivery's health, for administrators --------------------------------------


@dataclass
class DeliveryHealth:
    """What an administrator watches: no patient data, only ids, times, counts and errors."""

    queued: int
    oldest_queued_at: datetime | None
    held: list[Submission]
    recent_errors: list[SubmissionAttempt]
    registered_last_hour: int
    breaker: BreakerSnapshot | None

    @property
    def oldest_age_seconds(self) -> int | None:
        if self.oldest_queued_at is None:
            return None
        return int((timezone.now() - self.oldest_queued_at).total_seconds())


def delivery_health(*, errors: int = 20) -> DeliveryHealth:
    queued = Submission.objects.filter(
        status__in=[SubmissionStatus.QUEUED, SubmissionStatus.SENDING]
    ).aggregate(count=Count("pk"), oldest=Min("created_at"))
    held = list(
        Submission.objects.filter(status=SubmissionStatus.HELD)
        .select_related("prescription__prescriber__user")
        .order_by("updated_at")[:200]
    )
    recent = list(
        SubmissionAttempt.objects.exclude(
            outcome__in=[AttemptOutcome.REGISTERED, AttemptOutcome.FOUND]
        )
        .select_related("submission")
        .order_by("-at", "-pk")[:errors]
    )
    registered = Prescription.objects.filter(
        registered_at__gte=timezone.now() - timedelta(hours=1)
    ).count()
    return DeliveryHealth(
        queued=queued["count"],
        oldest_queued_at=queued["oldest"],
        held=held,
        recent_errors=recent,
        registered_last_hour=registered,
        breaker=_breaker_snapshot(),
    )


def _breaker_snapshot() -> BreakerSnapshot | None:
    """The shared circuit breaker's state, or None when the client is not configured."""
    try:
        return get_breaker().snapshot()
    except ImproperlyConfigured:
        return None
