"""Two web instances (gunicorn, production settings over plain HTTP, each on its own port) and two
Celery workers against one PostgreSQL database and one Redis behave as one application: a
session, the login lockout, the circuit breaker, the staff lookup rate limit and an idempotent
sign give the same answer whichever instance serves the request.

The environment is the chaos suite's (tests/chaos/harness.py: its own database, Redis, served
sandbox, two workers and beat); this test adds the two gunicorn instances and stops everything
at the end. Every wait is bounded.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from django_otp.oath import totp
from prometheus_client.parser import text_string_to_metric_families

from tests.chaos.harness import PYTHON, ROOT, Chaos, _stop, _wait_port, free_port

pytestmark = pytest.mark.served

LOGIN_MAX_FAILURES = 3
LOOKUP_LIMIT = 4
TOKEN = "two-instances-scrape-token"


class Browser:
    """One user's browser: its cookies (sent back by hand: the production cookies are marked
    Secure and these instances speak plain HTTP, as behind a TLS-terminating proxy) and the
    CSRF token, on whichever instance it is pointed at."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, base: str, method: str, path: str, **data: str) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if method == "POST":
            data = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **data}
        response = httpx.request(
            method, base + path, headers=headers, data=data or None, timeout=20
        )
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, base: str, path: str) -> httpx.Response:
        return self.request(base, "GET", path)

    def post(self, base: str, path: str, **data: str) -> httpx.Response:
        return self.request(base, "POST", path, **data)

    def login(self, base: str, username: str, password: str) -> httpx.Response:
        self.get(base, "/connexion/")  # the CSRF cookie
        return self.post(base, "/connexion/", username=username, password=password)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Chaos, list[str]]]:
    settings = {
        "ORIGAMI_LOGIN_MAX_FAILURES": str(LOGIN_MAX_FAILURES),
        "ORIGAMI_STAFF_LOOKUP_RATE_LIMIT": str(LOOKUP_LIMIT),
        "ORDOCLIC_BREAKER_RESET_SECONDS": "30",
    }
    chaos = Chaos(root=tmp_path_factory.mktemp("instances"), workers=2, settings=settings)
    webs: list[subprocess.Popen[Any]] = []
    chaos.start()
    try:
        urls = []
        for index in range(2):
            port = free_port()
            env = chaos.env()
            env.update(
                {
                    "DJANGO_SETTINGS_MODULE": "origami.settings.production",
                    "DJANGO_SECRET_KEY": "two-instances-test-key-not-a-secret",
                    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                    "DJANGO_SECURE_SSL_REDIRECT": "false",
                    "DJANGO_SECURE_HSTS_SECONDS": "0",
                    "GUNICORN_BIND": f"127.0.0.1:{port}",
                    # A: two gunicorn workers summed through the multiprocess directory.
                    "GUNICORN_WORKERS": "2" if index == 0 else "1",
                    "ORIGAMI_METRICS_TOKEN": TOKEN,
                    **(
                        {"PROMETHEUS_MULTIPROC_DIR": str(chaos.root / "metrics-a")}
                        if index == 0
                        else {}
                    ),
                }
            )
            log = (chaos.root / f"web{index}.log").open("ab")
            webs.append(
                subprocess.Popen(
                    [PYTHON, "-m", "gunicorn", "-c", "origami/gunicorn.py", "origami.wsgi"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            _wait_port(port, 60)
            urls.append(f"http://127.0.0.1:{port}")
        yield chaos, urls
    finally:
        for web in webs:
            _stop(web)
        chaos.stop()


def _driver(chaos: Chaos, command: str) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, "-m", "tests.served.instances_driver", command],
        cwd=ROOT,
        env=chaos.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _code(key: str) -> str:
    return f"{totp(bytes.fromhex(key)):06d}"


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout}s")


def _breaker(base: str) -> str:
    return str(httpx.get(f"{base}/sante/pret/", timeout=10).json()["ordoclic"]["breaker"])


def test_two_instances_and_two_workers_behave_as_one(cluster: tuple[Chaos, list[str]]) -> None:
    chaos, (a, b) = cluster
    for base in (a, b):
        ready = httpx.get(f"{base}/sante/pret/", timeout=10)
        assert ready.status_code == 200, ready.text
    accounts = _driver(chaos, "accounts")
    password = accounts["password"]

    # A session: the password on A, the second factor on B, then every page on either.
    doctor = Browser()
    assert doctor.login(a, accounts["prescriber"], password).headers["location"] == (
        "/connexion/code/"
    )
    done = doctor.post(b, "/connexion/code/", code=_code(accounts["totp_key"]))
    assert done.status_code == 302, done.text[-500:]
    for base in (a, b, a):
        assert doctor.get(base, "/").headers["location"] == "/patients/"  # not the login page
        assert doctor.get(base, "/patients/").status_code == 200

    # An idempotent sign: the same signature posted to both instances at once.
    draft = _driver(chaos, "draft")
    answers: list[int] = []

    def sign(base: str) -> None:
        answers.append(
            doctor.post(
                base, f"/ordonnances/{draft['pk']}/signer/", version=str(draft["version"])
            ).status_code
        )

    signers = [threading.Thread(target=sign, args=(base,)) for base in (a, b)]
    for thread in signers:
        thread.start()
    for thread in signers:
        thread.join(timeout=60)
    assert sorted(answers) == [302, 302]
    pk = int(draft["pk"])
    [(submissions,)] = chaos.query(
        f"SELECT count(*) FROM prescriptions_submission WHERE prescription_id = {pk}"  # noqa: S608
    )
    assert submissions == 1
    assert chaos.settle(60)
    [(external_id,)] = chaos.query(
        f"SELECT external_id FROM prescriptions_prescription WHERE id = {pk}"  # noqa: S608
    )
    [entry] = [i for i in chaos.ledger() if i["externalId"] == str(external_id)]
    assert entry["registered"] == 1

    # The breaker: Ordoclic goes down while a prescription is signed through B; the workers'
    # retries open the shared breaker, and both instances report it; both see it close.
    chaos.faults("down")
    second = _driver(chaos, "draft")
    signed = doctor.post(b, f"/ordonnances/{second['pk']}/signer/", version=str(second["version"]))
    assert signed.status_code == 302
    _wait(lambda: _breaker(a) == "open", 60, "breaker open seen from A")
    assert _breaker(b) == "open"
    chaos.faults("ok")
    assert chaos.settle(90)  # the half-open probe succeeds, the queued prescription goes
    assert _breaker(a) == _breaker(b) == "closed"

    # The staff lookup rate limit: counted across instances, refused on either beyond it.
    desk = Browser()
    assert desk.login(b, accounts["staff"][0], password).status_code == 302
    statuses = [
        desk.post((a, b)[i % 2], "/ordonnances/assistance/", number="ABCD1234").status_code
        for i in range(LOOKUP_LIMIT)
    ]
    assert 429 not in statuses
    assert desk.post(a, "/ordonnances/assistance/", number="ABCD1234").status_code == 429
    assert desk.post(b, "/ordonnances/assistance/", number="ABCD1234").status_code == 429

    # The login lockout (last: it locks this address out): failures counted across instances.
    intruder = Browser()
    for i in range(LOGIN_MAX_FAILURES):
        refused = intruder.login((a, b)[i % 2], accounts["staff"][1], "wrong-password")
        assert refused.status_code == 200
        assert "Identifiant ou mot de passe incorrect" in refused.text
    for base in (a, b):
        locked = Browser().login(base, accounts["staff"][1], password)
        assert locked.status_code == 200  # the right password, refused: locked out
        assert "Trop de tentatives" in locked.text

    # One application's figures, whichever instance is scraped.
    figures = [_figures(base) for base in (a, b)]
    assert figures[0] == figures[1]
    assert figures[0]['origami_submissions{status="registered"}'] == "2.0"
    assert figures[0]["origami_submissions_queued"] == "0.0"
    # Request latencies are per instance: A sums its two workers' (every /patients/ request
    # made on A, whichever worker took it).
    latency = httpx.get(
        f"{a}/metriques/", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ).text
    served_on_a = [
        sample.value
        for family in text_string_to_metric_families(latency)
        for sample in family.samples
        if sample.name == "origami_http_request_duration_seconds_count"
        and sample.labels == {"view": "patients:search", "method": "GET", "status": "2xx"}
    ]
    assert served_on_a == [2.0], latency[-3000:]


def _figures(base: str) -> dict[str, str]:
    """The scrape's database-derived figures (the request latencies are per instance)."""
    text = httpx.get(
        f"{base}/metriques/", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ).text
    wanted = re.compile(r"^(origami_submissions\S*|origami_prescriptions_held) (\S+)$", re.M)
    return dict(wanted.findall(text))
