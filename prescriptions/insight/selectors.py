"""Alert insight for the structure's medical lead and its administrators: how prescribers answer
the alerts (override rates, the pairs most often maintained and why, how long a decision takes),
what becomes of the prescriptions (signed without analysis, held, cancelled, reissued) and how
many alerts a prescription meets over time.

Every figure is one SQL aggregate over the period and the filters (a constant number of queries
whatever the data's size); none carries a patient's identity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from practitioners.models import ExerciseContext, Practitioner

from ..models import (
    Alert,
    AlertDecision,
    AlertLevel,
    AuditAction,
    AuditEvent,
    BusinessStatus,
    Decision,
    Prescription,
)

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
TOP_PAIRS = 10
REASONS_PER_PAIR = 3


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile (``percentile_cont``) of an expression."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, *, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


# --- filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InsightFilters:
    date_from: date
    date_to: date
    context_id: int | None = None
    prescriber_id: int | None = None
    alert_type: str = ""
    level: str = ""

    @classmethod
    def from_query(cls, query: Any) -> tuple[InsightFilters, list[str]]:
        """The filters of a GET query, with the French errors of what could not be read (the
        figures then use the default for that filter)."""
        errors: list[str] = []
        today = timezone.localdate()

        def day(name: str, default: date) -> date:
            value = (query.get(name) or "").strip()[:10]
            if not value:
                return default
            try:
                return date.fromisoformat(value)
            except ValueError:
                errors.append(_("Date illisible : utilisez le format AAAA-MM-JJ."))
                return default

        def number(name: str) -> int | None:
            value = (query.get(name) or "").strip()[:12]
            if value.isdigit():
                return int(value)
            if value:
                errors.append(_("Filtre inconnu : choisissez-le dans la liste."))
            return None

        date_to = day("au", today)
        date_from = day("du", date_to - timedelta(days=DEFAULT_DAYS))
        if date_from > date_to:
            errors.append(_("La période commence après sa fin : les dates ont été inversées."))
            date_from, date_to = date_to, date_from
        if (date_to - date_from).days > MAX_DAYS:
            errors.append(_("La période est limitée à trois ans."))
            date_from = date_to - timedelta(days=MAX_DAYS)
        level = (query.get("niveau") or "").strip()[:8]
        if level and level not in AlertLevel.values:
            errors.append(_("Niveau inconnu : choisissez-le dans la liste."))
            level = ""
        return (
            cls(
                date_from=date_from,
                date_to=date_to,
                context_id=number("lieu"),
                prescriber_id=number("prescripteur"),
                alert_type=(query.get("type") or "").strip()[:64],
                level=level,
            ),
            errors,
        )

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    def as_details(self) -> dict[str, Any]:
        """For the audit event of the page (no identity: ids and codes only)."""
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "context": self.context_id,
            "prescriber": self.prescriber_id,
            "type": self.alert_type,
            "level": self.level,
        }


def _prescriptions(filters: InsightFilters) -> QuerySet[Prescription]:
    """Prescriptions signed in the period (the population of the figures)."""
    rows = Prescription.objects.filter(signed_at__gte=filters.start, signed_at__lt=filters.end)
    if filters.context_id:
        rows = rows.filter(exercise_context_id=filters.context_id)
    if filters.prescriber_id:
        rows = rows.filter(prescriber_id=filters.prescriber_id)
    return rows


def _decisions(filters: InsightFilters) -> QuerySet[AlertDecision]:
    """Decisions taken in the period."""
    rows = AlertDecision.objects.filter(decided_at__gte=filters.start, decided_at__lt=filters.end)
    if filters.context_id:
        rows = rows.filter(exercise_context_id=filters.context_id)
    if filters.prescriber_id:
        rows = rows.filter(prescription__prescriber_id=filters.prescriber_id)
    if filters.alert_type:
        rows = rows.filter(alert__type=filters.alert_type)
    if filters.level:
        rows = rows.filter(level=filters.level)
    return rows


def _alerts_signed(filters: InsightFilters) -> QuerySet[Alert]:
    """The alerts of the signed version of the period's prescriptions."""
    rows = Alert.objects.filter(
        prescription__in=_prescriptions(filters), version=F("prescription__version")
    )
    if filters.alert_type:
        rows = rows.filter(type=filters.alert_type)
    if filters.level:
        rows = rows.filter(level=filters.level)
    return rows


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverrideRate:
    alert_type: str
    level: str
    decided: int
    maintained: int

    @property
    def rate(self) -> float:
        return self.maintained / self.decided if self.decided else 0.0


def override_rates(filters: InsightFilters) -> list[OverrideRate]:
    """Per alert type and level: how many decisions, how many kept the prescription as is."""
    rows = (
        _decisions(filters)
        .values("alert__type", "level")
        .annotate(
            decided=Count("pk"),
            maintained=Count("pk", filter=Q(decision=Decision.MAINTAIN)),
        )
        .order_by("alert__type", "level")
    )
    return [
        OverrideRate(
            alert_type=row["alert__type"],
            level=row["level"],
            decided=row["decided"],
            maintained=row["maintained"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class MaintainedPair:
    substances: str
    count: int
    reasons: list[tuple[str, int]]


def maintained_pairs(filters: InsightFilters) -> list[MaintainedPair]:
    """The substances (pairs for an interaction) most often maintained, each with its most
    frequent justifications. Two grouped queries."""
    maintained = _decisions(filters).filter(decision=Decision.MAINTAIN)
    top = list(
        maintained.values(pair=F("alert_payload__substances"))
        .annotate(count=Count("pk"))
        .order_by("-count")[:TOP_PAIRS]
    )
    pairs = [row["pair"] for row in top]
    reasons: dict[str, list[tuple[str, int]]] = {}
    by_reason = (
        maintained.exclude(reason="")
        .filter(alert_payload__substances__in=pairs)
        .values(pair=F("alert_payload__substances"), said=F("reason"))
        .annotate(count=Count("pk"))
        .order_by("-count")[: TOP_PAIRS * 20]
    )
    for row in by_reason:  # aggregated rows, bounded: the top reasons of each pair
        said = reasons.setdefault(_pair_label(row["pair"]), [])
        if len(said) < REASONS_PER_PAIR:
            said.append((row["said"], row["count"]))
    return [
        MaintainedPair(
            substances=_pair_label(row["pair"]),
            count=row["count"],
            reasons=reasons.get(_pair_label(row["pair"]), []),
        )
        for row in top
    ]


def _pair_label(substances: Any) -> str:
    if isinstance(substances, list) and substances:
        return " + ".join(str(s) for s in substances)
    return _("(substances non précisées)")


@dataclass(frozen=True)
class DecisionDelay:
    level: str
    count: int
    median_seconds: float
    p90_seconds: float


def decision_delays(filters: InsightFilters) -> list[DecisionDelay]:
    """Per level: how long from the alert shown (its analysis) to the prescriber's decision."""
    delay = ExpressionWrapper(
        F("decided_at") - F("alert__analysis_run__created_at"), output_field=DurationField()
    )
    rows = (
        _decisions(filters)
        .annotate(delay=delay)
        .values("level")
        .annotate(
            count=Count("pk"),
            median=Percentile("delay", fraction=0.5, output_field=DurationField()),
            p90=Percentile("delay", fraction=0.9, output_field=DurationField()),
        )
        .order_by("level")
    )
    return [
        DecisionDelay(
            level=row["level"],
            count=row["count"],
            median_seconds=_seconds(row["median"]),
            p90_seconds=_seconds(row["p90"]),
        )
        for row in rows
    ]


def _seconds(value: timedelta | None) -> float:
    return max(0.0, value.total_seconds()) if value is not None else 0.0


@dataclass(frozen=True)
class Outcomes:
    signed: int
    without_analysis: int
    held: int
    cancelled: int
    reissued: int

    def share(self, count: int) -> float:
        return count / self.signed if self.signed else 0.0


def prescription_outcomes(filters: InsightFilters) -> Outcomes:
    """Of the prescriptions signed in the period: how many were signed without analysis, held
    before sending, cancelled, reissued (replaced by a new one). One query."""
    held = AuditEvent.objects.filter(
        prescription=OuterRef("pk"), action=AuditAction.SUBMISSION_HELD
    )
    replaced_by = Prescription.objects.filter(replaces=OuterRef("pk"))
    totals = _prescriptions(filters).aggregate(
        signed=Count("pk"),
        without_analysis=Count("pk", filter=Q(analysis_waived_version=F("version"))),
        held=Count("pk", filter=Q(Exists(held))),
        cancelled=Count("pk", filter=Q(status=BusinessStatus.CANCELLED)),
        reissued=Count("pk", filter=Q(Exists(replaced_by)) | Q(status=BusinessStatus.REPLACED)),
    )
    return Outcomes(**totals)


@dataclass(frozen=True)
class WeekPoint:
    week: date
    prescriptions: int
    alerts: int

    @property
    def per_prescription(self) -> float:
        return self.alerts / self.prescriptions if self.prescriptions else 0.0


def alerts_per_week(filters: InsightFilters) -> list[WeekPoint]:
    """Alerts of the signed version per prescription signed, week by week. Two queries."""
    prescriptions = {
        row["week"].date() if isinstance(row["week"], datetime) else row["week"]: row["count"]
        for row in _prescriptions(filters)
        .annotate(week=TruncWeek("signed_at"))
        .values("week")
        .annotate(count=Count("pk"))
        .order_by("week")
    }
    alerts = {
        row["week"].date() if isinstance(row["week"], datetime) else row["week"]: row["count"]
        for row in _alerts_signed(filters)
        .annotate(week=TruncWeek("prescription__signed_at"))
        .values("week")
        .annotate(count=Count("pk"))
        .order_by("week")
    }
    return [
        WeekPoint(week=week, prescriptions=count, alerts=alerts.get(week, 0))
        for week, count in sorted(prescriptions.items())
    ]


# --- the page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Insight:
    filters: InsightFilters
    overrides: list[OverrideRate]
    pairs: list[MaintainedPair]
    delays: list[DecisionDelay]
    outcomes: Outcomes
    weeks: list[WeekPoint]


def insight_for(*, filters: InsightFilters) -> Insight:
    return Insight(
        filters=filters,
        overrides=override_rates(filters),
        pairs=maintained_pairs(filters),
        delays=decision_delays(filters),
        outcomes=prescription_outcomes(filters),
        weeks=alerts_per_week(filters),
    )


@dataclass(frozen=True)
class FilterChoices:
    contexts: list[tuple[int, str]]
    prescribers: list[tuple[int, str]]
    alert_types: list[str]
    levels: list[tuple[str, str]]


def filter_choices() -> FilterChoices:
    """What the filters offer (structures and prescribers by name: they are not patients)."""
    return FilterChoices(
        contexts=list(ExerciseContext.objects.order_by("name").values_list("pk", "name")),
        prescribers=[
            (pk, f"{last.upper()} {first}")
            for pk, last, first in Practitioner.objects.order_by(
                "user__last_name", "user__first_name"
            ).values_list("pk", "user__last_name", "user__first_name")
        ],
        alert_types=list(Alert.objects.order_by("type").values_list("type", flat=True).distinct()),
        levels=[(value, str(label)) for value, label in AlertLevel.choices],
    )
