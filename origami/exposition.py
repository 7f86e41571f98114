"""The Prometheus exposition: this instance's request latencies and the figures read at scrape
time from PostgreSQL and Redis (queues, held prescriptions, analyses not done, breaker, the
counters every instance shares). Apart from `origami.metrics` so that the Ordoclic client's
instrumentation, which every app loads, does not load the prescriptions' models."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import redis
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from origami.metrics import _INF, ORDOCLIC_BUCKETS, REQUEST_LATENCY, shared_counters
from prescriptions.models import (
    AnalysisOutcome,
    AnalysisRun,
    Cancellation,
    CancellationStatus,
    Submission,
    SubmissionStatus,
)

# --- figures read at scrape time ------------------------------------------------------------

logger = logging.getLogger(__name__)


def _age(oldest: datetime | None, now: datetime) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


class DeliveryCollector(Collector):
    """Queue figures from PostgreSQL (right whichever process answers), the breaker from Redis,
    the shared counters from Redis. ``breaker_state`` reads the shared breaker (closed, open,
    half_open, or anything else when unknown)."""

    def __init__(self, *, breaker_state: Callable[[], str]) -> None:
        self._breaker_state = breaker_state

    def collect(self) -> Iterator[Any]:
        yield from self._outboxes()
        yield from self._analyses()
        yield from self._breaker()
        yield from self._shared()

    def _outboxes(self) -> Iterator[Any]:
        now = timezone.now()
        by_status = dict(
            Submission.objects.values_list("status").annotate(n=Count("pk")).order_by()
        )
        waiting = Submission.objects.filter(
            status__in=[SubmissionStatus.QUEUED, SubmissionStatus.SENDING]
        ).aggregate(n=Count("pk"), oldest=Min("created_at"))
        cancellations = Cancellation.objects.filter(status=CancellationStatus.QUEUED).aggregate(
            n=Count("pk"), oldest=Min("created_at")
        )

        submissions = GaugeMetricFamily(
            "origami_submissions",
            "Soumissions (boîte d'envoi des ordonnances signées), par statut.",
            labels=["status"],
        )
        for status in SubmissionStatus.values:
            submissions.add_metric([status], by_status.get(status, 0))
        yield submissions
        yield GaugeMetricFamily(
            "origami_submissions_queued",
            "Ordonnances signées en attente d'envoi à Ordoclic (queued + sending).",
            value=waiting["n"],
        )
        yield GaugeMetricFamily(
            "origami_submission_oldest_queued_age_seconds",
            "Âge de la plus ancienne ordonnance en attente d'envoi (0 si aucune).",
            value=_age(waiting["oldest"], now),
        )
        yield GaugeMetricFamily(
            "origami_prescriptions_held",
            "Ordonnances en attente de la décision du prescripteur (held).",
            value=by_status.get(SubmissionStatus.HELD, 0),
        )
        yield GaugeMetricFamily(
            "origami_cancellations_queued",
            "Annulations en attente d'envoi à Ordoclic.",
            value=cancellations["n"],
        )
        yield GaugeMetricFamily(
            "origami_cancellation_oldest_queued_age_seconds",
            "Âge de la plus ancienne annulation en attente d'envoi (0 si aucune).",
            value=_age(cancellations["oldest"], now),
        )

    def _analyses(self) -> Iterator[Any]:
        counts = dict(
            AnalysisRun.objects.exclude(outcome=AnalysisOutcome.DONE)
            .values_list("outcome")
            .annotate(n=Count("pk"))
            .order_by()
        )
        family = CounterMetricFamily(
            "origami_analyses_not_done",
            "Analyses non effectuées (Ordoclic indisponible, requête refusée), depuis l'origine.",
            labels=["outcome"],
        )
        for outcome in AnalysisOutcome.values:
            if outcome != AnalysisOutcome.DONE:
                family.add_metric([outcome], counts.get(outcome, 0))
        yield family

    def _breaker(self) -> Iterator[Any]:
        family = GaugeMetricFamily(
            "origami_ordoclic_breaker_state",
            "État du disjoncteur Ordoclic partagé (1 pour l'état courant).",
            labels=["state"],
        )
        state = self._breaker_state()
        for name in ("closed", "open", "half_open"):
            family.add_metric([name], 1 if state == name else 0)
        yield family

    def _shared(self) -> Iterator[Any]:
        try:
            fields = shared_counters().read()
        except redis.RedisError:
            logger.warning("metrics store unreachable: shared counters left out of the scrape")
            return
        calls = CounterMetricFamily(
            "origami_ordoclic_calls",
            "Appels à Ordoclic, par type d'appel et issue.",
            labels=["kind", "outcome"],
        )
        logins = CounterMetricFamily(
            "origami_login_failures",
            "Échecs de connexion (mot de passe, second facteur, refus pour trop d'échecs).",
            labels=["step"],
        )
        buckets: dict[str, dict[str, float]] = {}
        sums: dict[str, float] = {}
        for name, value in sorted(fields.items()):
            parts = name.split("|")
            match parts:
                case ["calls", kind, outcome]:
                    calls.add_metric([kind, outcome], value)
                case ["login", step]:
                    logins.add_metric([step], value)
                case ["bucket", kind, le]:
                    buckets.setdefault(kind, {})[le] = value
                case ["sum", kind]:
                    sums[kind] = value
        yield calls
        yield logins
        latency = HistogramMetricFamily(
            "origami_ordoclic_call_duration_seconds",
            "Durée des appels à Ordoclic (jusqu'aux en-têtes de la réponse), par type d'appel.",
            labels=["kind"],
        )
        for kind, counts in sorted(buckets.items()):
            cumulative, running = [], 0.0
            for bound in [*map(str, ORDOCLIC_BUCKETS), _INF]:
                running += counts.get(bound, 0.0)
                cumulative.append((bound, running))
            latency.add_metric([kind], cumulative, sum_value=sums.get(kind, 0.0))
        yield latency


def render(*, breaker_state: Callable[[], str]) -> tuple[bytes, str]:
    """The whole exposition: this instance's request latencies (every gunicorn worker's in
    multiprocess mode) and the figures read at scrape time."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(DeliveryCollector(breaker_state=breaker_state))
    return generate_latest(registry), CONTENT_TYPE_LATEST
