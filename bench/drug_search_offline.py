"""The drug search from origami's memory against the online search, on the full BDPM files.

    python -m bench.drug_search_offline [--bdpm DIR] [--rounds N]

In its own environment (tests/chaos/harness.py: own database and Redis, a served sandbox whose
catalogue is the same full BDPM import), with the production timeouts:
1. ``python manage.py drugs_import_bdpm DIR`` loads the files into the memory (timed: the
   whole command, reading the files included), then a second time (idempotent: nothing
   written);
2. each round times the same queries twice, as the screen asks them
   (``prescriptions.drugs.catalogue.drugs_find``, 12 results): **online** (the sandbox answers:
   the call, its answer parsed, the results kept in the memory) and **from memory** (the
   sandbox down and the shared breaker open, the steady state of an outage: nothing is
   called). The rounds alternate, so that the load of the machine weighs on both alike.

Prints the import times, the median and p95 of each, and the ratio memory / online (aim <= 1).
The queries are those of ``bench.drug_search`` of two characters or more (the screen searches
from the second character).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BDPM = ROOT.parent / "shared" / "data" / "bdpm"
PRODUCTION_TIMEOUTS = {
    "ORDOCLIC_CONNECT_TIMEOUT": "2",
    "ORDOCLIC_READ_TIMEOUT": "5",
    "ORDOCLIC_REQUEST_BUDGET": "4",
    "ORDOCLIC_BREAKER_FAILURES": "3",
    "ORDOCLIC_BREAKER_RESET_SECONDS": "30",
}
LIMIT = 12


def _inside(bdpm: Path, rounds: int, sandbox_url: str) -> int:
    import django

    django.setup()
    from io import StringIO

    import httpx
    from django.conf import settings
    from django.core.management import call_command

    from bench.drug_search import QUERIES
    from origami.ordoclic import get_breaker
    from prescriptions.drugs.catalogue import drugs_find
    from tests.chaos import driver

    queries = [q for q in QUERIES if len(q.strip()) >= 2]
    imports = []
    for _ in range(2):
        out = StringIO()
        started = time.perf_counter()
        call_command("drugs_import_bdpm", str(bdpm), "--quiet", stdout=out)
        imports.append({"seconds": time.perf_counter() - started, "summary": out.getvalue()})

    rpps = driver._prescribers()[0].practitioner.rpps
    breaker = get_breaker()

    def faults(mode: str) -> None:
        with httpx.Client(base_url=sandbox_url, timeout=10) as control:
            control.post("/_sandbox/faults", json={"mode": mode}).raise_for_status()

    def timed(query: str, *, offline: bool) -> float:
        started = time.perf_counter()
        found = drugs_find(rpps=rpps, text=query, limit=LIMIT)
        elapsed = time.perf_counter() - started
        if found.offline != offline:
            raise RuntimeError(f"{query!r}: expected offline={offline}, got {found.offline}")
        return elapsed * 1000

    online: list[float] = []
    memory: list[float] = []
    for query in queries:  # warm up: the connection, the token, the caches of both sides
        timed(query, offline=False)
    for _ in range(rounds):
        faults("ok")
        breaker.reset()
        online += [timed(query, offline=False) for query in queries]
        faults("down")
        for _ in range(settings.ORDOCLIC_BREAKER_FAILURES):
            breaker.record_failure("benchmark: Ordoclic down")
        memory += [timed(query, offline=True) for query in queries]
    faults("ok")
    breaker.reset()
    sys.stdout.write(
        json.dumps({"imports": imports, "online": online, "memory": memory, "queries": queries})
        + "\n"
    )
    return 0


def _summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drug_search_offline")
    parser.add_argument("--bdpm", type=Path, default=DEFAULT_BDPM)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--inside", default="", help=argparse.SUPPRESS)
    if argv is None:  # `python -m bench` runs every benchmark with its defaults
        argv = sys.argv[1:] if __name__ == "__main__" else []
    args = parser.parse_args(argv)
    if args.inside:
        return _inside(args.bdpm, args.rounds, args.inside)
    if not (args.bdpm / "CIS_bdpm.txt").is_file():
        print(f"BDPM files not found in {args.bdpm}", file=sys.stderr)
        return 1

    sys.path.insert(0, str(ROOT))
    from ordoclic_client.sandbox.app import SandboxApp
    from ordoclic_client.sandbox.catalogue import import_bdpm
    from tests.chaos.harness import Chaos

    root = Path(tempfile.mkdtemp(prefix="origami-drug-search-offline-"))
    app = SandboxApp(root / "sandbox")  # the served sandbox's catalogue: the same files
    import_bdpm(app.store, args.bdpm)
    app.store.close()
    with Chaos(root=root, workers=0, settings=PRODUCTION_TIMEOUTS) as chaos:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                *(sys.executable, "-m", "bench.drug_search_offline"),
                *("--bdpm", str(args.bdpm.resolve()), "--rounds", str(args.rounds)),
                *("--inside", chaos.sandbox_url),
            ],
            cwd=ROOT,
            env=chaos.env(),
            capture_output=True,
            text=True,
            timeout=1800,
        )
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-4000:], file=sys.stderr)
        return done.returncode
    data = json.loads(done.stdout.strip().splitlines()[-1])
    first, again = data["imports"]
    print(f"drug_search_offline: import of the BDPM files {first['seconds']:.1f} s (whole command)")
    print(f"  {first['summary'].strip()}")
    print(f"drug_search_offline: import again {again['seconds']:.1f} s")
    print(f"  {again['summary'].strip()}")
    online_median, online_p95 = _summary(data["online"])
    memory_median, memory_p95 = _summary(data["memory"])
    print(
        f"drug_search_offline: {len(data['online'])} searches each way, "
        f"{len(data['queries'])} queries x {args.rounds} rounds, {LIMIT} results"
    )
    print(f"  online (sandbox, full BDPM): median {online_median:.1f} ms, p95 {online_p95:.1f} ms")
    print(f"  from memory (PostgreSQL)   : median {memory_median:.1f} ms, p95 {memory_p95:.1f} ms")
    print(
        f"drug_search_offline: ratio memory/online median {memory_median / online_median:.2f}, "
        f"p95 {memory_p95 / online_p95:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
