"""The alert insight page on 100,000 prescriptions, as a ratio to a light authenticated page.

Creates a scratch database (``<POSTGRES_DB>_bench_insight``, dropped at the end), fills it with
``--prescriptions`` signed prescriptions over a year (one analysis each, 1 to 3 alerts of mixed
levels and types, a decision on most, some held, cancelled or replaced), then times, in one
process with Django's test client and the same administrator session:

- the insight page over the whole year (every figure), and filtered by level;
- the Django admin index of the same session, the baseline (a light page of the same app).

    python -m bench.insight [--prescriptions N] [--rounds N]

Prints p50 and p95 of each and one line ``insight: page_p95_ms=… baseline_p95_ms=… ratio=…``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

LEVELS = ["CI", "ASDEC", "PE", "APEC"]
TYPES = ["drug_interaction", "contraindication", "posology_overdose", "class_duplicate"]
PAIRS = [
    ["simvastatine", "clarithromycine"],
    ["warfarine", "aspirine"],
    ["tramadol", "sertraline"],
    ["ibuprofène", "kétoprofène"],
    ["méthotrexate", "triméthoprime"],
]
REASONS = ["Bénéfice supérieur au risque", "Surveillance rapprochée", "Traitement court", ""]


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "origami.settings.test")
    os.environ["POSTGRES_DB"] = os.environ.get("POSTGRES_DB", "origami") + "_bench_insight"
    import django

    django.setup()


def _fill(count: int) -> Any:
    from django.utils import timezone

    from prescriptions.models import (
        Alert,
        AlertDecision,
        AnalysisOutcome,
        AnalysisRun,
        AuditAction,
        AuditEvent,
        Prescription,
    )
    from tests.factories import AdminFactory, PatientFactory, PrescriberFactory

    rng = random.Random(7)
    prescribers: list[Any] = [PrescriberFactory() for _ in range(20)]
    places = [(u.practitioner, u.practitioner.exercise_contexts.all()[0].pk) for u in prescribers]
    patients: list[Any] = [PatientFactory() for _ in range(300)]
    now = timezone.now()
    batch = 5000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        prescriptions = []
        for _ in range(size):
            practitioner, context_id = rng.choice(places)
            prescriptions.append(
                Prescription(
                    patient=rng.choice(patients),
                    prescriber=practitioner,
                    exercise_context_id=context_id,
                    status=rng.choices(["signed", "cancelled", "replaced"], [90, 6, 4])[0],
                    transmission_status="queued",
                    signed_at=now - timedelta(minutes=rng.randrange(365 * 24 * 60)),
                    software_version="0.1.0",
                    analysis_waived_version=1 if rng.random() < 0.03 else None,
                )
            )
        Prescription.objects.bulk_create(prescriptions)
        runs = AnalysisRun.objects.bulk_create(
            [
                AnalysisRun(prescription=p, version=p.version, outcome=AnalysisOutcome.DONE)
                for p in prescriptions
            ]
        )
        alerts = []
        for prescription, run in zip(prescriptions, runs, strict=True):
            for index in range(rng.randint(0, 3)):
                level = rng.choice(LEVELS)
                alerts.append(
                    Alert(
                        prescription=prescription,
                        analysis_run=run,
                        version=prescription.version,
                        ordoclic_alert_id=f"a{prescription.pk}-{index}",
                        level=level,
                        type=rng.choice(TYPES),
                        title="Alerte",
                        message="…",
                        raw={"substances": rng.choice(PAIRS)},
                    )
                )
        Alert.objects.bulk_create(alerts)
        decisions = []
        for alert in alerts:
            if rng.random() < 0.7:
                kept = rng.random() < 0.6
                reason = rng.choice(REASONS[:-1] if alert.level in ("CI", "ASDEC") else REASONS)
                decisions.append(
                    AlertDecision(
                        alert=alert,
                        prescription=alert.prescription,
                        ordoclic_alert_id=alert.ordoclic_alert_id,
                        level=alert.level,
                        alert_payload=alert.raw,
                        decision="maintain" if kept else "modify",
                        reason=reason if kept else "",
                        decided_by=alert.prescription.prescriber.user,
                        exercise_context_id=alert.prescription.exercise_context_id,
                        version=alert.version,
                    )
                )
        AlertDecision.objects.bulk_create(decisions)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(action=AuditAction.SUBMISSION_HELD, prescription=p)
                for p in prescriptions
                if rng.random() < 0.02
            ]
        )
        print(f"  {start + size} prescriptions", flush=True)
    return AdminFactory()


def _times(client: Any, url: str, rounds: int) -> list[float]:
    client.get(url)  # warm
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.insight")
    parser.add_argument("--prescriptions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args([] if argv is None else argv)
    _setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tests.helpers import login

    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        started = time.perf_counter()
        admin = _fill(args.prescriptions)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"filled in {time.perf_counter() - started:.0f} s", flush=True)
        client = login(Client(), admin)
        page = _times(client, "/ordonnances/indicateurs/", args.rounds)
        filtered = _times(client, "/ordonnances/indicateurs/?niveau=CI", args.rounds)
        baseline = _times(client, "/admin/", args.rounds)
        for label, samples in (
            ("page", page),
            ("page niveau=CI", filtered),
            ("admin index", baseline),
        ):
            print(
                f"{label:16} p50 {statistics.median(samples):7.1f} ms   p95 {_p95(samples):7.1f} ms"
            )
        print(
            f"insight: prescriptions={args.prescriptions} page_p95_ms={_p95(page):.0f} "
            f"baseline_p95_ms={_p95(baseline):.1f} ratio={_p95(page) / _p95(baseline):.1f}"
        )
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
