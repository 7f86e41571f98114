"""Sign latency when Ordoclic hangs, as ratios to a normal sign.

    python -m bench.sign_latency [--signs 10]

In its own environment (tests/chaos/harness.py: own database, Redis, served sandbox), with the
production timeouts (request budget 4 s, read timeout 5 s, breaker opening after 3 failures for
30 s): drafts are prepared and analysed while the sandbox answers, then
1. ``signs`` prescriptions are signed with the sandbox ``ok``: the normal sign latency (median);
2. the sandbox switches to ``hang`` (never answers); prescriptions are signed one after the
   other: the first requests wait for the attempt bounded by the request budget, until the
   breaker opens; the following ones answer at once.

Prints the first request under ``hang`` and the median while the breaker is open, as ratios to
the normal median. Each timing is the whole `prescription_sign` service call, commit and the
attempt after it included (what the web request waits for, minus HTML rendering).
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

PRODUCTION_TIMEOUTS = {
    "ORDOCLIC_CONNECT_TIMEOUT": "2",
    "ORDOCLIC_READ_TIMEOUT": "5",
    "ORDOCLIC_REQUEST_BUDGET": "4",
    "ORDOCLIC_BREAKER_FAILURES": "3",
    "ORDOCLIC_BREAKER_RESET_SECONDS": "30",
}


def _inside(signs: int, sandbox_url: str) -> int:
    import django

    django.setup()
    import httpx

    from tests.chaos import driver, workload

    def faults(mode: str) -> None:
        with httpx.Client(base_url=sandbox_url, timeout=10) as control:
            control.post("/_sandbox/faults", json={"mode": mode}).raise_for_status()

    user = driver._prescribers()[0]
    drafts = [
        workload.ready_to_sign(user, workload.draft(user, patient=driver._patient()))
        for _ in range(2 * signs)
    ]

    def timed(prescription: object) -> float:
        started = time.perf_counter()
        workload.sign(user, prescription)  # type: ignore[arg-type]
        return time.perf_counter() - started

    normal = [timed(p) for p in drafts[:signs]]
    faults("hang")
    try:
        under_hang = [timed(p) for p in drafts[signs:]]
    finally:
        faults("ok")
    from origami.ordoclic import get_breaker

    sys.stdout.write(
        json.dumps(
            {
                "normal": normal,
                "hang": under_hang,
                "breaker": get_breaker().snapshot().state,
            }
        )
        + "\n"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sign_latency")
    parser.add_argument("--signs", type=int, default=10)
    parser.add_argument("--inside", default="", help=argparse.SUPPRESS)
    if argv is None:  # `python -m bench` runs every benchmark with its defaults
        argv = sys.argv[1:] if __name__ == "__main__" else []
    args = parser.parse_args(argv)
    if args.inside:
        return _inside(args.signs, args.inside)

    sys.path.insert(0, str(ROOT))
    from tests.chaos.harness import Chaos

    root = Path(tempfile.mkdtemp(prefix="origami-sign-latency-"))
    with Chaos(root=root, workers=0, settings=PRODUCTION_TIMEOUTS) as chaos:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                *(sys.executable, "-m", "bench.sign_latency"),
                *("--signs", str(args.signs), "--inside", chaos.sandbox_url),
            ],
            cwd=ROOT,
            env=chaos.env(),
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
        )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    normal = statistics.median(data["normal"])
    hang = data["hang"]
    failures = int(PRODUCTION_TIMEOUTS["ORDOCLIC_BREAKER_FAILURES"])
    before_open, while_open = hang[:failures], hang[failures:]
    open_median = statistics.median(while_open) if while_open else float("nan")
    print(f"sign_latency: normal sign (sandbox ok) median {normal * 1000:.0f} ms")
    print(
        "sign_latency: sandbox hang, until the breaker opens: "
        + ", ".join(f"{t * 1000:.0f} ms" for t in before_open)
        + f" (budget {PRODUCTION_TIMEOUTS['ORDOCLIC_REQUEST_BUDGET']} s)"
    )
    print(
        f"sign_latency: breaker open ({len(while_open)} signs): median {open_median * 1000:.0f} ms"
    )
    print(
        f"sign_latency: first_under_hang_ratio={hang[0] / normal:.1f} "
        f"breaker_open_ratio={open_median / normal:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
