"""Drain after an outage: how fast do queued prescriptions consolidate once Ordoclic is back?

    python -m bench.drain [--count 2000] [--workers 2] [--concurrency 2] [--pool prefork]
                          [--latency-ms 20] [--batch 10]

In its own environment (tests/chaos/harness.py: own database, Redis, served sandbox, Celery):
1. ``count`` prescriptions are signed through the services while the sandbox is ``down`` (no
   worker running, as after a long outage: every one of them is queued);
2. the sandbox answers again at a fixed latency (``slow``), the workers start; the time until
   the last one is registered gives the consolidation rate (prescriptions/s);
3. in the same run, the sandbox driven directly by the same number of concurrent clients (threads,
   one HTTP client each) with the same calls per prescription (analysis, then registration, for
   the same prescriptions under new external ids): the rate the sandbox sustains.

Prints both rates and their ratio (and the ratio to registration-only calls, for reference),
and where the CPU went during the drain (workers, sandbox, PostgreSQL, the rest of the machine):
on a small machine the drain is bounded by CPU, not by the sandbox's latency.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: str) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (Linux), None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def _cpu_by_group(*, groups: dict[str, int], database: str) -> dict[str, float]:
    """CPU seconds used so far by the process groups (``name -> group id``: a worker and its
    pool, the sandbox), by the PostgreSQL backends connected to ``database``, and by the whole
    machine (``total``, from /proc/stat). Empty where /proc is not readable."""
    used = dict.fromkeys([*groups, "postgres", "main"], 0.0)
    by_group = {gid: name for name, gid in groups.items()}
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(entry.name)
        if fields is None:
            continue
        # after the name: state ppid pgrp ... utime(12th) stime(13th) cutime cstime
        seconds = sum(int(value) for value in fields[11:15]) / TICKS
        name = by_group.get(int(fields[2]))
        if name is not None and name.startswith("worker") and int(entry.name) in by_group:
            used["main"] += seconds  # a worker's own process (broker, acks), not its pool
        if name is None:
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if command.startswith("postgres:") and f" {database} " in command:
                name = "postgres"
        if name is not None:
            used[name] += seconds
    with contextlib.suppress(OSError, ValueError):
        cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        idle = int(cpu[3]) + int(cpu[4])
        used["total"] = (sum(int(value) for value in cpu[:8]) - idle) / TICKS
    return used


def _direct_rate(*, clients: int, limit: int, with_analysis: bool) -> dict[str, float]:
    """Inside the chaos environment (Django set up): drive the sandbox directly."""
    from django.conf import settings
    from django.utils import timezone

    from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client
    from prescriptions.drafting import payloads
    from prescriptions.drafting.selectors import latest_decisions
    from prescriptions.models import Prescription

    work: list[tuple[str, Any, Any]] = []
    for prescription in (
        Prescription.objects.filter(transmission_status="registered")
        .select_related("prescriber", "patient")
        .prefetch_related("patient__allergies", "patient__pathologies")
        .order_by("pk")[:limit]
    ):
        lines = list(prescription.lines.all().order_by("position", "pk"))
        analysis = payloads.analysis_request(
            prescription=prescription, lines=lines, current_treatments=[], recorded_treatments=[]
        )
        create = payloads.registration_request(
            prescription=prescription,
            lines=lines,
            decisions=latest_decisions(prescription=prescription).values(),
            issued_at=prescription.signed_at or timezone.now(),
        ).model_copy(update={"external_id": str(uuid.uuid4())})
        work.append((prescription.prescriber.rpps, analysis, create))
    credentials = PartnerCredentials.from_key_file(
        partner_id=settings.ORDOCLIC_PARTNER_ID,
        private_key_path=settings.ORDOCLIC_PRIVATE_KEY_PATH,
    )
    lock = threading.Lock()
    cursor = iter(work)
    failures = [0]

    def run() -> None:
        client = OrdoclicClient(
            http=build_http_client(base_url=settings.ORDOCLIC_BASE_URL), credentials=credentials
        )
        try:
            while True:
                with lock:
                    item = next(cursor, None)
                if item is None:
                    return
                rpps, analysis, create = item
                if with_analysis:
                    client.prescription_analyse(rpps=rpps, request=analysis)
                result = client.prescription_create(
                    rpps=rpps, request=create, idempotency_key=str(uuid.uuid4())
                )
                if type(result).__name__ != "Ok":
                    with lock:
                        failures[0] += 1
        finally:
            client.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"rate": len(work) / elapsed, "count": len(work), "failures": failures[0]}


def _inside(args: argparse.Namespace) -> int:
    import django

    django.setup()
    full = _direct_rate(clients=args.clients, limit=args.limit, with_analysis=True)
    create_only = _direct_rate(clients=args.clients, limit=args.limit, with_analysis=False)
    sys.stdout.write(json.dumps({"full": full, "create_only": create_only}) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drain")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--pool", choices=("prefork", "threads"), default="prefork")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument(
        "--batch", type=int, default=10, help="ORIGAMI_SUBMISSION_BATCH of the workers"
    )
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=2000, help=argparse.SUPPRESS)
    if argv is None:  # `python -m bench` runs every benchmark with its defaults
        argv = sys.argv[1:] if __name__ == "__main__" else []
    args = parser.parse_args(argv)
    if args.inside:
        return _inside(args)

    sys.path.insert(0, str(ROOT))
    from tests.chaos.harness import Chaos

    clients = args.workers * args.concurrency
    root = Path(tempfile.mkdtemp(prefix="origami-drain-"))
    # The workers are stopped during the outage here (so that the measure is the drain, not
    # the retries while down): a long sweep grace keeps the sweeper from re-enqueuing what is
    # still in the broker; persistent database connections as in production.
    settings = {
        "ORIGAMI_SUBMISSION_SWEEP_SECONDS": "30",
        "ORIGAMI_SUBMISSION_SWEEP_GRACE": "3600",
        "ORIGAMI_SUBMISSION_RETRY_MAX_DELAY": "2",
        "POSTGRES_CONN_MAX_AGE": "60",
        "ORIGAMI_SUBMISSION_BATCH": str(args.batch),
    }
    with Chaos(
        root=root,
        workers=args.workers,
        concurrency=args.concurrency,
        pool=args.pool,
        settings=settings,
        autostart=False,
    ) as chaos:
        chaos.faults("down")
        signing = time.monotonic()
        chaos.driver("sign", "--count", str(args.count), "--threads", "4", timeout=3600)
        signed_in = time.monotonic() - signing
        queued = chaos.pending()
        chaos.faults("slow", latency_ms=args.latency_ms)
        time.sleep(2.5)  # the breaker half-opens; the retry times recorded in the rows pass
        started = time.monotonic()
        for index in range(args.workers):
            chaos.start_worker(index)
        groups = {f"worker{i}": p.pid for i, p in enumerate(chaos._workers) if p is not None}
        if chaos._sandbox is not None:
            groups["sandbox"] = chaos._sandbox.pid
        cpu_before = _cpu_by_group(groups=groups, database=chaos.database)
        deadline = started + 3600
        while chaos.pending() and time.monotonic() < deadline:
            time.sleep(0.25)
        drained = time.monotonic() - started
        cpu_after = _cpu_by_group(groups=groups, database=chaos.database)
        verdict = chaos.verdict()
        # The workers' own rate: first to last registration (worker start-up excluded).
        [(registering,)] = chaos.query(
            "SELECT EXTRACT(EPOCH FROM max(consolidated_at) - min(consolidated_at)) "
            "FROM prescriptions_prescription WHERE consolidated_at IS NOT NULL"
        )
        direct = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                *(sys.executable, "-m", "bench.drain", "--inside"),
                *("--clients", str(clients), "--limit", str(args.count)),
            ],
            cwd=ROOT,
            env=chaos.env(),
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if direct.returncode != 0:
            raise RuntimeError(f"the direct run failed: {direct.stderr[-3000:]}")
    rates = json.loads(direct.stdout.strip().splitlines()[-1])
    drain_rate = verdict.registered / float(registering or drained)
    full, create_only = rates["full"]["rate"], rates["create_only"]["rate"]
    print(
        f"drain: signed {args.count} while down in {signed_in:.0f}s, queued={queued}; "
        f"sandbox latency {args.latency_ms} ms; {args.workers} workers x {args.concurrency} "
        f"{'threads' if args.pool == 'threads' else 'processes'} = {clients} concurrent senders, "
        f"batches of up to {args.batch}"
    )
    print(
        f"drain: registered={verdict.registered} in {drained:.1f}s after the workers were "
        f"started, {float(registering or 0):.1f}s from first to last -> {drain_rate:.1f}/s "
        f"(lost={verdict.lost} duplicated={verdict.duplicated} unexpected={verdict.unexpected})"
    )
    print(
        f"drain: sandbox driven directly by {clients} clients: analysis+registration "
        f"{full:.1f}/s, registration only {create_only:.1f}/s"
    )
    print(
        f"drain: ratio={drain_rate / full:.2f} (same calls per prescription); "
        f"ratio_to_registration_only={drain_rate / create_only:.2f}"
    )
    if cpu_after and verdict.registered:
        spent = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
        workers = sum(v for k, v in spent.items() if k.startswith("worker"))
        ours = workers + spent["sandbox"] + spent["postgres"]
        per = 1000 / verdict.registered
        print(
            f"drain: CPU per prescription during the drain (worker start-up included): "
            f"workers {workers * per:.1f} ms (Celery main processes {spent['main'] * per:.1f} ms), "
            f"sandbox {spent['sandbox'] * per:.1f} ms, "
            f"postgres {spent['postgres'] * per:.1f} ms; rest of the machine "
            f"{(spent.get('total', ours) - ours) * per:.1f} ms; machine busy "
            f"{spent.get('total', 0.0) / drained:.2f} of {os.cpu_count()} cores"
        )
    return 0 if verdict.clean else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
