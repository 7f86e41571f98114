"""Keystrokes and server round trips to write the commonest prescriptions, in full and with
renewal, favourites and protocols.

    python -m bench.keystrokes [--json PATH]

Drives the real screens in chromium (Playwright) against the live app and the served sandbox,
through the browser test fixtures (own test database `test_<POSTGRES_DB>`, Redis at
REDIS_URL): `tests/e2e/keystrokes_bench.py` does the typing, `tests/e2e/fast.py` counts every
key pressed and every request to the app (pages, htmx partials, drug searches, analyses; static
files aside). Each measure runs from the patient's page (the click on "Nouvelle ordonnance" or
"Renouveler") until the lines and their analysis are on screen:

- a three-line chronic treatment (simvastatine, metformine, levothyrox, one month), typed in
  full, then renewed ("Renouveler" on the patient's card);
- amoxicilline 1 g three times a day for 6 days, typed in full, then from a favourite;
- paracétamol 1 g three times a day if needed, typed in full, then from a favourite;
- and, besides the three, the two together ("Angine adulte") from a protocol.

Playwright types faster than a person: the drug search (debounced, 250 ms) sends fewer requests
than it would for a person typing, so the round trips of the typed versions are a lower bound.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS = [
    ("chronic", "Renouvellement, traitement chronique de 3 lignes"),
    ("amoxicillin", "Amoxicilline 1 g x3/j 6 jours"),
    ("paracetamol", "Paracétamol 1 g x3/j si besoin"),
]
EXTRA = [("angina", "Angine adulte (amoxicilline + paracétamol), protocole")]


def _run(out: Path) -> None:
    env = {**os.environ, "ORIGAMI_KEYSTROKES_OUT": str(out)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/e2e/keystrokes_bench.py",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=--import-mode=importlib",
    ]
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603


def _table(results: dict[str, dict[str, dict[str, int]]]) -> None:
    print(f"{'':56} {'touches':>16} {'allers-retours':>16}")
    print(f"{'':56} {'saisie':>7} {'rapide':>8} {'saisie':>7} {'rapide':>8}")
    totals = {"full": [0, 0], "fast": [0, 0]}
    for key, label in ROWS + EXTRA:
        row = results[key]
        full, fast = row["full"], row["fast"]
        print(
            f"{label:56} {full['keys']:>7} {fast['keys']:>8} "
            f"{full['requests']:>7} {fast['requests']:>8}"
        )
        if (key, label) in ROWS:
            for kind in ("full", "fast"):
                totals[kind][0] += row[kind]["keys"]
                totals[kind][1] += row[kind]["requests"]
    (full_keys, full_requests), (fast_keys, fast_requests) = totals["full"], totals["fast"]
    print(
        f"{'Les trois ordonnances':56} {full_keys:>7} {fast_keys:>8} "
        f"{full_requests:>7} {fast_requests:>8}"
    )
    key_ratio = full_keys / max(fast_keys, 1)
    request_ratio = full_requests / max(fast_requests, 1)
    print(
        f"keystrokes: ratio={key_ratio:.1f} (full={full_keys} fast={fast_keys}) "
        f"round_trips: ratio={request_ratio:.1f} (full={full_requests} fast={fast_requests})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also keep the figures (and request logs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.json or Path(scratch) / "keystrokes.json"
        _run(out)
        results = json.loads(out.read_text(encoding="utf-8"))
    _table(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
