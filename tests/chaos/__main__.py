"""python -m tests.chaos: the combined chaos run (at least 300 prescriptions through every
scenario, in one environment), ending with one line:

    chaos: accepted=N registered=N lost=0 duplicated=0 unexpected=0 resent_without_lookup=0
           keys_changed=0 held=H found_by_lookup=F consolidation_s=S

``resent_without_lookup``: creation requests Ordoclic received again for a prescription with
no lookup by its external id before them; ``keys_changed``: prescriptions whose creation
requests did not all carry the same Idempotency-Key; ``found_by_lookup``: prescriptions an
earlier attempt had registered, found by the next one's lookup. ``consolidation_s``: the
longest time, over the scenarios, from Ordoclic healthy again to an empty queue (held
prescriptions decided by their prescriber included). Exits 1 if anything was lost, duplicated,
unexpected, sent again without a lookup or sent under another key. ``--scale`` multiplies the
default counts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from .harness import Chaos
from .scenarios import SCENARIOS

COUNTS = {
    "outage": 70,
    "slow_and_flaky": 40,
    "hang": 30,
    "commit_then_drop": 40,
    "worker_killed": 40,
    "worker_killed_in_flight": 40,
    "redis_restarted": 40,
    "concurrent_signing": 20,
    "signing_during_recovery": 30,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the logs directory")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="origami-chaos-"))
    longest = 0.0
    with Chaos(root=root, workers=args.workers) as chaos:
        for name, scenario in SCENARIOS.items():
            count = max(2, int(COUNTS[name] * args.scale))
            started = time.monotonic()
            drained = scenario(chaos, count)
            longest = max(longest, drained)
            verdict = chaos.verdict()
            print(
                f"  {name}: n={count} took={time.monotonic() - started:.1f}s "
                f"drained_in={drained:.1f}s accepted={verdict.accepted} lost={verdict.lost} "
                f"duplicated={verdict.duplicated} unexpected={verdict.unexpected} "
                f"resent_without_lookup={verdict.resent_without_lookup} "
                f"found_by_lookup={verdict.found_by_lookup}",
                file=sys.stderr,
                flush=True,
            )
        verdict = chaos.verdict()
    print(
        f"  workers exited: {chaos.worker_exits}, "
        f"restarted by supervision: {chaos.worker_restarts}",
        file=sys.stderr,
    )
    if args.keep:
        print(f"  logs: {root}", file=sys.stderr)
    print(
        f"chaos: accepted={verdict.accepted} registered={verdict.registered} "
        f"lost={verdict.lost} duplicated={verdict.duplicated} unexpected={verdict.unexpected} "
        f"resent_without_lookup={verdict.resent_without_lookup} "
        f"keys_changed={verdict.keys_changed} held={verdict.held} "
        f"found_by_lookup={verdict.found_by_lookup} consolidation_s={longest:.1f}"
    )
    return 0 if verdict.clean else 1


if __name__ == "__main__":
    sys.exit(main())
