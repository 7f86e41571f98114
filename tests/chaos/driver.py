"""The prescribers of a chaos run: a process with the chaos environment (its database, Redis and
sandbox) that signs prescriptions through the services, as the screens do.

    python -m tests.chaos.driver setup
    python -m tests.chaos.driver sign --count 40 --ci-every 10 --threads 4
    python -m tests.chaos.driver sign-same --count 10
    python -m tests.chaos.driver release-held

Each command prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "origami.settings.local")
    import django

    django.setup()


_patient_lock = threading.Lock()


def _patient() -> Any:
    """A new patient (factory sequences are per process: start past the existing rows)."""
    from origami.patients.models import Patient
    from tests.factories import PatientFactory

    with _patient_lock:
        if not getattr(_patient, "ready", False):
            last = Patient.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            PatientFactory.reset_sequence(last + 1)
            _patient.ready = True  # type: ignore[attr-defined]
        return PatientFactory()


def _prescribers() -> list[Any]:
    from practitioners.models import Practitioner
    from tests.chaos import workload

    users = []
    for rpps in (workload.CLAIRE_MARTIN, workload.KARIM_BENALI):
        practitioner = Practitioner.objects.filter(rpps=rpps).select_related("user").first()
        users.append(practitioner.user if practitioner else workload.prescriber_linked(rpps))
    return users


def _in_threads(count: int, threads: int, work: Callable[[int], str]) -> dict[str, int]:
    from django.db import connection

    tally: dict[str, int] = {}
    lock = threading.Lock()
    cursor = iter(range(count))

    def run() -> None:
        try:
            while True:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                try:
                    outcome = work(i)
                except Exception as exc:  # counted and reported, never silent (no message:
                    outcome = f"error:{type(exc).__name__}"  # it may quote patient data)
                with lock:
                    tally[outcome] = tally.get(outcome, 0) + 1
        finally:
            connection.close()

    pool = [threading.Thread(target=run) for _ in range(max(1, threads))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return tally


def sign(count: int, ci_every: int, threads: int, web_dies: bool = False) -> dict[str, Any]:
    from tests.chaos import workload

    users = _prescribers()
    if web_dies:
        # As if the web process died right after the signing commit: no attempt is made after
        # it, the submission waits queued, never tried, for the sweeper to hand it to a worker.
        from prescriptions.delivery import signing

        signing.submission_after_sign = lambda **kwargs: None  # type: ignore[assignment]

    def one(i: int) -> str:
        user = users[i % len(users)]
        ci = ci_every > 0 and i % ci_every == ci_every - 1
        drugs = (workload.SIMVASTATINE, workload.CLARITHROMYCINE) if ci else (workload.DOLIPRANE,)
        prescription = workload.ready_to_sign(user, workload.draft(user, drugs, _patient()))
        outcome = workload.sign(user, prescription)
        return "already" if outcome.already_signed else "signed"

    return _in_threads(count, threads, one)


# What the prescribers type while Ordoclic is down, and a product the memory knows from the public
# files that the sandbox's database does not (held at consolidation, never sent).
OFFLINE_SEARCHES = ("doliprane 1000", "clamoxyl 1 g")
UNKNOWN_TO_ORDOCLIC = "acetylcysteine eg labo"
# A dose in mg fits every form (the sachets of acetylcysteine take no "cp").
OFFLINE_POSOLOGY = {UNKNOWN_TO_ORDOCLIC: "200 mg 3 fois par jour 5j"}
BDPM_EXTRACT = Path(__file__).resolve().parents[1] / "data" / "bdpm"


def sign_offline(count: int, unknown_every: int, threads: int) -> dict[str, Any]:
    """Ordoclic down from the start: each prescription's drugs are found by the drug search in
    origami's memory (the committed BDPM extract, loaded first as `make up` does) and picked
    by code, unverified; it is signed without analysis. Every ``unknown_every``-th one also
    has a product Ordoclic does not know."""
    from django.core.management import call_command

    from prescriptions.drafting import services
    from prescriptions.drugs.catalogue import drug_choice_for_code, drugs_find
    from tests.chaos import workload

    call_command("drugs_import_bdpm", str(BDPM_EXTRACT), "--quiet")
    users = _prescribers()

    def one(i: int) -> str:
        user = users[i % len(users)]
        rpps = user.practitioner.rpps
        searches = [OFFLINE_SEARCHES[i % len(OFFLINE_SEARCHES)]]
        if unknown_every > 0 and i % unknown_every == unknown_every - 1:
            searches.append(UNKNOWN_TO_ORDOCLIC)
        prescription = workload.draft(user, (), _patient())
        for search in searches:
            found = drugs_find(rpps=rpps, text=search, limit=12)
            if not found.offline or not found.drugs:
                return "error:not-from-memory"
            choice = drug_choice_for_code(rpps=rpps, code=found.drugs[0].cis)
            if choice.verified:
                return "error:verified-while-down"
            services.prescription_line_add(
                prescription=prescription,
                acting_user=user,
                version=prescription.version,
                drug=choice,
                data=services.LineInput(
                    posology=OFFLINE_POSOLOGY.get(search, "1 cp 3 fois par jour 5j")
                ),
            )
            prescription.refresh_from_db()
        workload.sign(user, workload.ready_to_sign(user, prescription))
        return "signed"

    return _in_threads(count, threads, one)


def sign_same(count: int) -> dict[str, Any]:
    """Each prescription signed at once from two sessions (two connections, two threads)."""
    from django.db import connection

    from tests.chaos import workload

    users = _prescribers()
    tally: dict[str, int] = {}
    for i in range(count):
        user = users[i % len(users)]
        prescription = workload.ready_to_sign(user, workload.draft(user, patient=_patient()))
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def session(
            prescription_id: int = prescription.pk,
            user: Any = user,
            barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            from prescriptions.models import Prescription

            try:
                mine = Prescription.objects.get(pk=prescription_id)
                barrier.wait(timeout=30)
                done = workload.sign(user, mine)
                outcomes.append("already" if done.already_signed else "signed")
            except Exception as exc:
                outcomes.append(f"error:{type(exc).__name__}")
            finally:
                connection.close()

        pair = [threading.Thread(target=session) for _ in range(2)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join(timeout=60)
        for outcome in outcomes:
            tally[outcome] = tally.get(outcome, 0) + 1
    return tally


def release_held() -> dict[str, Any]:
    """The prescribers decide on what consolidation held (maintain, with a justification); an
    administrator requeues what was held for too many failed attempts."""
    from prescriptions.delivery import submissions as delivery
    from prescriptions.delivery.selectors import undecided_alerts
    from prescriptions.models import AnalysisRun, Submission, SubmissionStatus

    released = requeued = 0
    for submission in Submission.objects.filter(status=SubmissionStatus.HELD).select_related(
        "prescription__prescriber__user"
    ):
        prescription = submission.prescription
        run = AnalysisRun.objects.filter(prescription=prescription).order_by("-pk").first()
        alerts = undecided_alerts(prescription=prescription, run=run)
        if alerts:
            delivery.submission_release(
                prescription=prescription,
                acting_user=prescription.prescriber.user,
                reasons={a.pk: "Association maintenue : statine suspendue 7 jours" for a in alerts},
            )
            released += 1
        else:
            delivery.submission_requeue(submission_id=submission.pk, acting_user=None)
            requeued += 1
    return {"released": released, "requeued": requeued}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.driver")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup")
    signing = commands.add_parser("sign")
    signing.add_argument("--count", type=int, required=True)
    signing.add_argument("--ci-every", type=int, default=0)
    signing.add_argument("--threads", type=int, default=2)
    signing.add_argument("--web-dies", action="store_true", help="no attempt after signing")
    same = commands.add_parser("sign-same")
    same.add_argument("--count", type=int, required=True)
    offline = commands.add_parser("sign-offline")
    offline.add_argument("--count", type=int, required=True)
    offline.add_argument("--unknown-every", type=int, default=0)
    offline.add_argument("--threads", type=int, default=2)
    commands.add_parser("release-held")
    args = parser.parse_args(argv)
    _setup_django()
    result: dict[str, Any]
    if args.command == "setup":
        result = {"prescribers": len(_prescribers())}
    elif args.command == "sign":
        result = sign(args.count, args.ci_every, args.threads, web_dies=args.web_dies)
    elif args.command == "sign-same":
        result = sign_same(args.count)
    elif args.command == "sign-offline":
        result = sign_offline(args.count, args.unknown_every, args.threads)
    else:
        result = release_held()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
