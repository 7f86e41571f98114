"""Latency of the prescriber's screens, as ratios to an authenticated trivial view of the same
app measured in the same run.

    python -m bench.latency [--rounds 40] [--clients 4] [--seconds 20] [--gunicorn-workers 2]

In its own environment (tests/chaos/harness.py: own database, Redis, served sandbox at zero
added latency, no Celery worker), for a prescriber with a patient and a prescription of 10 lines
whose analysis raised alerts:

1. in process: Django's test client against that database, Ordoclic being the sandbox in the
   same process (on the served sandbox's state: same partner, practitioners, catalogue);
2. served: gunicorn serving the app (``--gunicorn-workers``), the sandbox served over HTTP,
   ``--clients`` concurrent clients in a separate process, each with its own session and
   prescription, for ``--seconds``.

Each round times, as the browser does them: the reference ``GET /session/ping/`` (logged in, the
whole middleware stack, no page), the patient page, the prescription screen, a drug search
(the htmx partial), and "add a line + re-analysis" (the htmx POST of the line, then the POST of
the analysis that the editor's change triggers; the line is then removed, untimed, so that the
screen keeps 10 lines). Prints p50 and p95 per screen and their ratios to the reference, then
one line with the in-process p95 ratios:

    latency: screen_p95_ratio=… addline_p95_ratio=… search_p95_ratio=… patient_p95_ratio=…
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCREENS = ("ping", "patient", "screen", "search", "addline")
RATIOS = ("screen", "addline", "search", "patient")
SEARCHES = ("doli", "simva", "zecl", "amox", "parac", "ibupro", "levo", "metfor")
Samples = dict[str, list[float]]


# --- data and sessions (in the environment's database) -----------------------------------------


# Ten lines of a chronic patient's prescription, from the sandbox catalogue, with alerts:
# simvastatin with clarithromycin or amiodarone, warfarin with aspirin.
LINES = (
    "67037301",  # ZOCOR 20 mg (simvastatine)
    "67997205",  # ZECLAR 500 mg (clarithromycine)
    "63458349",  # AMLOR 5 mg
    "69364999",  # AMIODARONE 200 mg
    "60747455",  # DETENSIEL 10 mg
    "60331738",  # DIAMICRON 60 mg
    "63849839",  # COVERSYL 5 mg
    "60234100",  # DOLIPRANE 1000 mg
    "64631925",  # COUMADINE 2 mg (warfarine)
    "65265765",  # ASPIRINE UPSA 500 mg
)
ADDED = "64539416"  # CLAMOXYL 1 g: the line added at each round


def _prescription_with_alerts(user: Any, patient: Any) -> Any:
    """A draft of the 10 lines, analysed (its alerts stored, as on the screen)."""
    from ordoclic_client.sandbox.catalogue import curated_records
    from prescriptions.drafting import services
    from prescriptions.drugs.units import unit_for_form
    from tests.chaos import workload

    catalogue = {record["cis"]: record for record in curated_records()}
    drugs = tuple(
        workload.Drug(
            cis=cis,
            label=catalogue[cis]["label"],
            substance=catalogue[cis]["substances"][0]["name"].lower(),
            form=catalogue[cis]["form"],
            # one unit of the drug's own form (the screen refuses a "cp" of capsules)
            posology=f"1 {unit_for_form(catalogue[cis]['form']) or 'cp'} par jour 1 mois",
        )
        for cis in LINES
    )
    prescription = workload.draft(user, drugs, patient=patient)
    services.prescription_analyse(prescription=prescription, acting_user=user)
    prescription.refresh_from_db()
    return prescription


def _session_cookie(user: Any) -> str:
    """A logged-in session (second factor passed) as the login steps leave it."""
    from django.test import Client

    from tests.helpers import login

    client = login(Client(), user)
    return str(client.cookies["sessionid"].value)


def _urls(prescription: Any) -> dict[str, str]:
    from django.urls import reverse

    pk = prescription.pk
    return {
        "ping": reverse("session_ping"),
        "patient": reverse("patients:detail", args=[prescription.patient_id]),
        "screen": reverse("prescriptions:detail", args=[pk]),
        "search": reverse("prescriptions:drug_search", args=[pk]),
        "line_add": reverse("prescriptions:line_add", args=[pk]),
        "analyse": reverse("prescriptions:analyse", args=[pk]),
        "line_remove": reverse("prescriptions:line_remove", args=[pk, 0]).replace("/0/", "/{}/"),
    }


def _alerts(prescription: Any) -> int:
    from prescriptions.drafting.selectors import prescription_screen

    return len(prescription_screen(prescription=prescription).alerts)


# --- one client's rounds, whatever sends the requests --------------------------------------------

# send(method, url, form data or None) -> (status, body): the test client, or an httpx client.
Send = Callable[[str, str, "dict[str, str] | None"], tuple[int, str]]
VERSION = re.compile(r'name="version" value="(\d+)"')
LINE = re.compile(r"/lignes/(\d+)/modifier/")


def _rounds(send: Send, urls: dict[str, str], *, rounds: int, until: float = 0.0) -> Samples:
    """Time ``rounds`` rounds, or as many as fit before ``until`` (a monotonic time) if set."""
    samples: Samples = {name: [] for name in SCREENS}
    done = 0
    while (time.monotonic() < until) if until else (done < rounds):

        def timed(name: str, *calls: tuple[str, str, dict[str, str] | None]) -> str:
            return _timed(send, samples[name], name, calls)

        timed("ping", ("GET", urls["ping"], None))
        timed("patient", ("GET", urls["patient"], None))
        screen = timed("screen", ("GET", urls["screen"], None))
        query = SEARCHES[done % len(SEARCHES)]
        timed("search", ("GET", f"{urls['search']}?q={query}", None))
        line = {
            "drug_code": "60234100",
            "posology": "1 cp le matin 5j",
            "version": _version(screen),
        }
        timed("addline", ("POST", urls["line_add"], line), ("POST", urls["analyse"], {}))
        # Back to 10 lines, untimed: the newest line goes.
        _, screen = send("GET", urls["screen"], None)
        newest = max(int(found) for found in LINE.findall(screen))
        removed, _ = send("POST", urls["line_remove"].format(newest), {"version": _version(screen)})
        if removed != 200:
            raise RuntimeError(f"removing line {newest} answered {removed}")
        done += 1
    return samples


# With --profile DIR (in process only), each screen's calls run under its own profiler, whose
# statistics are written to DIR/<screen>.prof (read them with `python -m pstats`).
PROFILERS: dict[str, cProfile.Profile] = {}


def _timed(
    send: Send, into: list[float], name: str, calls: tuple[tuple[str, str, Any], ...]
) -> str:
    """Send ``calls`` one after the other; append their total time (ms); the last body."""
    profiler = PROFILERS.get(name)
    started = time.perf_counter()
    body = ""
    if profiler is not None:
        profiler.enable()
    try:
        for method, url, data in calls:
            status, body = send(method, url, data)
            if status != 200:
                raise RuntimeError(f"{name}: {method} {url} answered {status}")
    finally:
        if profiler is not None:
            profiler.disable()
    into.append((time.perf_counter() - started) * 1000)
    return body


def _version(html: str) -> str:
    found = VERSION.search(html)
    if found is None:
        raise RuntimeError("no draft version in the screen")
    return found.group(1)


# --- 1. in process -------------------------------------------------------------------------------


def _in_process(state: Path, rounds: int, profile: str = "") -> Samples:
    """Django's test client, Ordoclic being the sandbox in this process (zero latency)."""
    from django.test import Client

    from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client
    from ordoclic_client.sandbox import Sandbox
    from origami.ordoclic import override_client
    from tests.chaos import driver

    sandbox = Sandbox(state)
    client = OrdoclicClient(
        http=build_http_client(base_url="http://sandbox", transport=sandbox.transport),
        credentials=PartnerCredentials(
            partner_id=sandbox.partner_id, private_key_pem=sandbox.private_key_pem
        ),
    )
    try:
        with override_client(client):
            user = driver._prescribers()[0]
            prescription = _prescription_with_alerts(user, driver._patient())
            print(
                f"in process: prescription of {prescription.lines.count()} lines, "
                f"{_alerts(prescription)} alerts",
                file=sys.stderr,
            )
            browser = Client(SERVER_NAME="localhost")
            browser.cookies["sessionid"] = _session_cookie(user)

            def send(method: str, url: str, data: dict[str, str] | None) -> tuple[int, str]:
                if method == "GET":
                    response = browser.get(url, headers=HTMX if "?" in url else None)
                else:
                    response = browser.post(url, data or {}, headers=HTMX)
                return response.status_code, response.content.decode()

            urls = _urls(prescription)
            _rounds(send, urls, rounds=3)  # warm-up: imports, template and query caches
            if profile:
                PROFILERS.update({name: cProfile.Profile() for name in SCREENS})
            try:
                return _rounds(send, urls, rounds=rounds)
            finally:
                if profile:
                    Path(profile).mkdir(parents=True, exist_ok=True)
                for name, profiler in PROFILERS.items():
                    profiler.dump_stats(str(Path(profile) / f"{name}.prof"))
    finally:
        client.close()
        sandbox.close()


HTMX = {"HX-Request": "true"}


# --- 2. served by gunicorn, loaded from another process -----------------------------------------


def _prepare_served(clients: int) -> list[dict[str, Any]]:
    """One session and one prescription per client (their versions never collide), for the
    second prescriber, linked at the served sandbox."""
    from tests.chaos import driver

    user = driver._prescribers()[1]
    prepared = []
    for _ in range(clients):
        prescription = _prescription_with_alerts(user, driver._patient())
        prepared.append({"cookie": _session_cookie(user), "urls": _urls(prescription)})
    return prepared


def _load(base_url: str, prepared: list[dict[str, Any]], seconds: float) -> Samples:
    """Each client in a thread of its own, as a browser: its session cookie, the CSRF token the
    pages set, the htmx header on partial requests."""
    import httpx

    merged: Samples = {name: [] for name in SCREENS}
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(prepared))

    def one(client_data: dict[str, Any]) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            http.cookies.set("sessionid", client_data["cookie"])

            def send(method: str, url: str, data: dict[str, str] | None) -> tuple[int, str]:
                headers = dict(HTMX) if method == "POST" or "?" in url else {}
                if method == "POST":
                    headers["X-CSRFToken"] = http.cookies.get("csrftoken") or ""
                    response = http.post(url, data=data or {}, headers=headers)
                else:
                    response = http.get(url, headers=headers)
                return response.status_code, response.text

            try:
                _rounds(send, client_data["urls"], rounds=2)  # warm-up; sets the CSRF cookie
                start.wait(timeout=60)
                samples = _rounds(
                    send, client_data["urls"], rounds=0, until=time.monotonic() + seconds
                )
            except Exception as exc:  # reported below, with the others
                start.abort()
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                return
        with lock:
            for name, values in samples.items():
                merged[name].extend(values)

    threads = [threading.Thread(target=one, args=(data,)) for data in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 300)
    if errors or any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"load clients failed: {errors or 'still running'}")
    return merged


# --- report --------------------------------------------------------------------------------------


def _p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _report(title: str, samples: Samples) -> dict[str, float]:
    """Prints the table; returns the p95 ratios to the reference."""
    ping50, ping95 = _p50_p95(samples["ping"])
    print(f"{title} ({len(samples['ping'])} rounds)")
    print(f"  {'':28} {'p50 ms':>8} {'p95 ms':>8} {'p50 x':>7} {'p95 x':>7}")
    labels = {
        "ping": "reference (session ping)",
        "patient": "patient page",
        "screen": "prescription screen",
        "search": "drug search",
        "addline": "add a line + re-analysis",
    }
    ratios = {}
    for name in SCREENS:
        p50, p95 = _p50_p95(samples[name])
        ratios[name] = p95 / ping95
        print(f"  {labels[name]:28} {p50:8.1f} {p95:8.1f} {p50 / ping50:7.1f} {p95 / ping95:7.1f}")
    return ratios


def _subprocess(args: list[str], env: dict[str, str], timeout: float) -> Any:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.latency", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.latency {args[0]} failed: {done.stderr[-3000:]}")
    sys.stderr.write(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency")
    parser.add_argument("--rounds", type=int, default=40, help="in-process rounds")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (served)")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration (served)")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--profile", default="", help="in process only, profiles to this folder")
    parser.add_argument("--in-process", default="", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", default="", help=argparse.SUPPRESS)
    if argv is None:  # `python -m bench` runs every benchmark with its defaults
        argv = sys.argv[1:] if __name__ == "__main__" else []
    args = parser.parse_args(argv)
    if args.in_process or args.prepare:
        import django

        django.setup()
        if args.in_process:
            result: Any = _in_process(Path(args.in_process), args.rounds, args.profile)
        else:
            result = _prepare_served(args.clients)
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    if args.load:
        base_url, prepared = json.loads(Path(args.load).read_text())
        sys.stdout.write(json.dumps(_load(base_url, prepared, args.seconds)) + "\n")
        return 0

    sys.path.insert(0, str(ROOT))
    from tests.chaos.harness import Chaos, _stop, _wait_port, free_port

    root = Path(tempfile.mkdtemp(prefix="origami-latency-"))
    with Chaos(root=root, workers=0) as chaos:
        # Connections kept between requests, as deployed (the chaos harness closes them, to
        # see every failure): a connection's prepared statements then serve its next requests.
        env = {**chaos.env(), "POSTGRES_CONN_MAX_AGE": "60"}
        in_process = _subprocess(
            [
                *("--in-process", str(root / "sandbox"), "--rounds", str(args.rounds)),
                *(("--profile", str(Path(args.profile).resolve())) if args.profile else ()),
            ],
            env,
            1800,
        )
        if args.profile:
            _report("in process, profiled (times inflated)", in_process)
            print(f"profiles in {args.profile}: python -m pstats {args.profile}/screen.prof")
            return 0
        prepared = _subprocess(["--prepare", "--clients", str(args.clients)], env, 600)
        port = free_port()
        gunicorn = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                *(sys.executable, "-m", "gunicorn", "origami.wsgi:application"),
                *("--bind", f"127.0.0.1:{port}", "--workers", str(args.gunicorn_workers)),
                *("--timeout", "60", "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
            stdout=(root / "gunicorn.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_port(port, 60)
            plan = root / "load.json"
            plan.write_text(json.dumps([f"http://127.0.0.1:{port}", prepared]))
            load_env = {**os.environ, "PYTHONPATH": str(ROOT)}
            served = _subprocess(
                ["--load", str(plan), "--seconds", str(args.seconds)],
                load_env,
                args.seconds + 600,
            )
        finally:
            _stop(gunicorn)
    ratios = _report("in process (test client, in-process sandbox)", in_process)
    served_ratios = _report(
        f"served (gunicorn x{args.gunicorn_workers}, {args.clients} concurrent clients, "
        f"{args.seconds:.0f} s)",
        served,
    )
    print(
        "latency (served): "
        + " ".join(f"{name}_p95_ratio={served_ratios[name]:.1f}" for name in RATIOS)
    )
    print("latency: " + " ".join(f"{name}_p95_ratio={ratios[name]:.1f}" for name in RATIOS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
