"""Drug search latency on the full BDPM import, as a ratio to a trivial sandbox request.

Imports the BDPM extract into a temporary sandbox state, serves the sandbox as its own process,
then times realistic searches (``GET /drugbase/v1/drugs?q=...``) against
``GET /_sandbox/ledger?per_page=1`` measured in the same run over the same connection, so the
ratio says what the search itself costs beyond HTTP and the server's plumbing.

    python -m bench.drug_search [--bdpm DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ordoclic_client.auth import PartnerCredentials, auth_body
from ordoclic_client.sandbox.app import SandboxApp
from ordoclic_client.sandbox.catalogue import import_bdpm
from ordoclic_client.sandbox.process import spawn

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BDPM = REPO.parent / "shared" / "data" / "bdpm"
RPPS = "10100001238"
QUERIES = [
    "doliprane",
    "paracetamol",
    "paracétamol 500",
    "amox",
    "augmentin",
    "ibuprofene 400",
    "kardegic",
    "simvastatine",
    "levothyrox",
    "tramadol",
    "zeclar",
    "metformine 1000",
    "ventoline",
    "lovenox",
    "eliquis",
    "prednisolone",
    "oméprazole 20",
    "spasfon",
    "xanax",
    "aerius",
    "a",
    "co",
]


def _token(client: httpx.Client, state: Path) -> str:
    partner = json.loads((state / "partner.json").read_text())
    credentials = PartnerCredentials.from_key_file(
        partner_id=partner["partnerId"], private_key_path=partner["privateKeyPath"]
    )
    response = client.post("/v1/auth", json=auth_body(credentials, rpps=RPPS))
    response.raise_for_status()
    return str(response.json()["token"])


def _timed(client: httpx.Client, url: str, **kwargs: object) -> float:
    start = time.perf_counter()
    response = client.get(url, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed * 1000


def _summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drug_search")
    parser.add_argument("--bdpm", type=Path, default=DEFAULT_BDPM)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    if not (args.bdpm / "CIS_bdpm.txt").is_file():
        print(f"BDPM extract not found in {args.bdpm}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        state = Path(tmp)
        started = time.perf_counter()
        app = SandboxApp(state)
        count = import_bdpm(app.store, args.bdpm)
        app.store.close()
        print(f"imported {count} products in {time.perf_counter() - started:.1f} s")
        process, base_url = spawn(state=state)
        try:
            with httpx.Client(base_url=base_url, timeout=10) as client:
                headers = {"Authorization": f"Bearer {_token(client, state)}"}
                for query in QUERIES:  # warm up caches and the connection
                    _timed(client, "/drugbase/v1/drugs", params={"q": query}, headers=headers)
                search, trivial = [], []
                for _ in range(args.rounds):
                    for query in QUERIES:
                        search.append(
                            _timed(
                                client,
                                "/drugbase/v1/drugs",
                                params={"q": query, "per_page": 20},
                                headers=headers,
                            )
                        )
                        trivial.append(_timed(client, "/_sandbox/ledger", params={"per_page": 1}))
        finally:
            process.terminate()
            process.wait(timeout=10)
    search_median, search_p95 = _summary(search)
    trivial_median, trivial_p95 = _summary(trivial)
    print(f"{len(search)} searches over {len(QUERIES)} queries, {args.rounds} rounds")
    print(f"drug search : median {search_median:.2f} ms, p95 {search_p95:.2f} ms")
    print(f"trivial GET : median {trivial_median:.2f} ms, p95 {trivial_p95:.2f} ms")
    print(
        f"ratio search/trivial: median {search_median / trivial_median:.2f}x, "
        f"p95 {search_p95 / trivial_p95:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
