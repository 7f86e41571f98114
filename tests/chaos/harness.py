"""The chaos environment: its own PostgreSQL database, Redis, served sandbox, Celery workers and
beat, all started and stopped here, so that killing and restarting them disturbs nothing else.

Database: the run creates (and drops first) its own database, ``<POSTGRES_DB>_chaos`` by default
(or ``CHAOS_POSTGRES_DB``), on the PostgreSQL server the settings point at, and migrates it; every
process of the run (driver, workers, beat) uses it. It is not pytest-django's test database: the
workers are separate processes that must see committed rows.

The oracle: the sandbox ledger (``GET /_sandbox/ledger``) against the app's accepted
prescriptions (one submission row per signed prescription).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from ordoclic_client.sandbox.process import spawn

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PORT_RANGE = range(18550, 18600)
# As in the Procfile and docker-compose.yml: the cluster-monitoring steps, which the app does not
# use, off (mingle delays the start, gossip logs errors at every Redis restart).
WORKER_OPTIONS = ("--without-gossip", "--without-mingle", "--without-heartbeat")


def free_port() -> int:
    """A free port in the chaos range, else any free port."""
    for port in PORT_RANGE:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


def _stop(process: subprocess.Popen[Any] | None, *, kill: bool = False) -> None:
    """Stop a process and its group (Celery's pool children), bounded."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def redis_server(port: int, directory: Path) -> subprocess.Popen[Any]:
    """A Redis of one's own on ``port``, without persistence (a restart loses every queued
    task), in its own process group; returns once it accepts connections."""
    process = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(directory)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_port(port, 15)
    except BaseException:
        _stop(process, kill=True)
        raise
    return process


def default_database() -> str:
    """``CHAOS_POSTGRES_DB``, else ``<POSTGRES_DB>_chaos`` (plus the xdist worker): two people
    or two test processes running the chaos suite never share a database."""
    if os.environ.get("CHAOS_POSTGRES_DB"):
        return os.environ["CHAOS_POSTGRES_DB"]
    name = f"{os.environ.get('POSTGRES_DB', 'origami')}_chaos"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{name}_{worker}" if worker else name


@dataclass
class Verdict:
    accepted: int
    registered: int
    lost: int
    duplicated: int
    unexpected: int
    held: int
    pending: int
    # creation requests sent again with no lookup by external id before them (sandbox ledger)
    resent_without_lookup: int = 0
    # external ids whose creation requests did not all carry the same Idempotency-Key
    keys_changed: int = 0
    # submissions found registered by a lookup (an earlier attempt's answer or worker was lost)
    found_by_lookup: int = 0

    @property
    def clean(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.unexpected == 0
            and self.resent_without_lookup == 0
            and self.keys_changed == 0
        )


@dataclass
class Chaos:
    root: Path
    workers: int = 2
    concurrency: int = 2
    database: str = field(default_factory=lambda: default_database())
    settings: dict[str, str] = field(default_factory=dict)
    autostart: bool = True  # start the workers with the environment
    pool: str = "prefork"  # Celery's execution pool (prefork, threads)
    redis_port: int = 0
    sandbox_url: str = ""
    partner: dict[str, str] = field(default_factory=dict)
    _redis: subprocess.Popen[Any] | None = None
    _sandbox: subprocess.Popen[Any] | None = None
    _workers: list[subprocess.Popen[Any] | None] = field(default_factory=list)
    _beat: subprocess.Popen[Any] | None = None
    supervised: bool = True  # restart a worker that exited, as a production supervisor would
    worker_exits: int = 0
    worker_restarts: int = 0

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self.start_redis()
            self._start_sandbox()
            self._create_database()
            self.driver("setup")
            self._workers = [None] * self.workers
            if self.autostart:
                for index in range(self.workers):
                    self.start_worker(index)
            self._start_beat()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        _stop(self._beat)
        for process in self._workers:
            _stop(process)
        _stop(self._sandbox)
        _stop(self._redis)

    def __enter__(self) -> Chaos:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        broker = f"redis://127.0.0.1:{self.redis_port}/0"
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "origami.settings.local",
                "DJANGO_DEBUG": "0",
                "POSTGRES_DB": self.database,
                "POSTGRES_CONN_MAX_AGE": "0",
                "REDIS_URL": broker,
                "CELERY_BROKER_URL": broker,
                "ORDOCLIC_BASE_URL": self.sandbox_url,
                "ORDOCLIC_PARTNER_ID": self.partner.get("partnerId", ""),
                "ORDOCLIC_PRIVATE_KEY_PATH": self.partner.get("privateKeyPath", ""),
                # Short timeouts and delays so that a run takes minutes, not hours.
                "ORDOCLIC_CONNECT_TIMEOUT": "1",
                "ORDOCLIC_READ_TIMEOUT": "1.5",
                "ORDOCLIC_REQUEST_BUDGET": "2",
                "ORDOCLIC_BREAKER_RESET_SECONDS": "1.5",
                "ORIGAMI_SUBMISSION_RETRY_BASE_DELAY": "0.2",
                "ORIGAMI_SUBMISSION_RETRY_MAX_DELAY": "2",
                "ORIGAMI_SUBMISSION_MAX_ATTEMPTS": "1000",
                "ORIGAMI_SUBMISSION_SWEEP_SECONDS": "1",
                "ORIGAMI_SUBMISSION_SWEEP_GRACE": "2",
                "ORIGAMI_LOG_LEVEL": "ERROR",
                "SENTRY_DSN": "",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.settings)
        return env

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen[Any]:
        log = (self.root / f"{name}.log").open("ab")
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_redis(self) -> None:
        if not self.redis_port:
            self.redis_port = free_port()
        self._redis = redis_server(self.redis_port, self.root)

    def restart_redis(self) -> None:
        """Redis dies and comes back empty (no persistence): every queued task is gone."""
        _stop(self._redis, kill=True)
        self.start_redis()

    def _start_sandbox(self) -> None:
        state = self.root / "sandbox"
        self._sandbox, self.sandbox_url = spawn(
            state=state, port=free_port(), start_new_session=True
        )
        self.partner = json.loads((state / "partner.json").read_text())

    def _connect(self, dbname: str) -> psycopg.Connection[Any]:
        # The database belongs to the owner role, who migrates it; the workers and the app
        # connect as the app's role (scripts/db_roles.sh creates both).
        return psycopg.connect(
            dbname=dbname,
            user=os.environ.get("POSTGRES_OWNER_USER", "origami_owner"),
            password=os.environ.get("POSTGRES_OWNER_PASSWORD", ""),
            host=os.environ.get("POSTGRES_HOST", "127.0.0.1"),
            port=os.environ.get("POSTGRES_PORT", "5432"),
            autocommit=True,
            connect_timeout=10,
        )

    def _create_database(self) -> None:
        with self._connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--database", "owner", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env(),
            check=True,
            timeout=300,
        )

    def start_worker(self, index: int) -> None:
        self._workers[index] = self._spawn(
            [
                *(PYTHON, "-m", "celery", "-A", "origami", "worker", "--loglevel", "WARNING"),
                *("--concurrency", str(self.concurrency), "--pool", self.pool),
                *WORKER_OPTIONS,
                *("-n", f"chaos{index}@%h"),
            ],
            f"worker{index}",
        )

    def kill_worker(self, index: int) -> None:
        """SIGKILL a worker and its pool: no chance to acknowledge or to clean up."""
        _stop(self._workers[index], kill=True)
        self._workers[index] = None

    def _start_beat(self) -> None:
        self._beat = self._spawn(
            [
                *(PYTHON, "-m", "celery", "-A", "origami", "beat", "--loglevel", "WARNING"),
                *("--schedule", str(self.root / "beat-schedule")),
            ],
            "beat",
        )

    # --- levers and readings ----------------------------------------------------------------

    def driver(self, *args: str, timeout: float = 600) -> dict[str, Any]:
        done = subprocess.run(
            [PYTHON, "-m", "tests.chaos.driver", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"driver {args} failed: {done.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        errors = {k: v for k, v in result.items() if str(k).startswith("error")}
        if errors:
            raise RuntimeError(f"driver {args}: {errors}")
        return result

    def faults(self, mode: str, **extra: Any) -> None:
        with httpx.Client(base_url=self.sandbox_url, timeout=10) as control:
            control.post("/_sandbox/faults", json={"mode": mode, **extra}).raise_for_status()

    def ledger(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        with httpx.Client(base_url=self.sandbox_url, timeout=30) as control:
            page = 1
            while True:
                body = control.get("/_sandbox/ledger", params={"page": page, "per_page": 500})
                body.raise_for_status()
                data = body.json()
                items.extend(data["items"])
                if page >= data["page_count"] or page >= 1000:
                    return items
                page += 1

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self._connect(self.database) as conn:
            return list(conn.execute(sql).fetchall())  # type: ignore[arg-type]

    def pending(self) -> int:
        [(count,)] = self.query(
            "SELECT count(*) FROM prescriptions_submission WHERE status IN ('queued', 'sending')"
        )
        return int(count)

    def held_now(self) -> int:
        [(count,)] = self.query(
            "SELECT count(*) FROM prescriptions_submission WHERE status = 'held'"
        )
        return int(count)

    def supervise(self) -> None:
        """Count the workers that exited; when ``supervised``, restart them, as a process
        supervisor would in production. Beat is always restarted."""
        for index, process in enumerate(self._workers):
            if process is not None and process.poll() is not None:
                self.worker_exits += 1
                self._workers[index] = None
            if self._workers[index] is None and self.supervised:
                self.worker_restarts += 1
                self.start_worker(index)
        if self._beat is None or self._beat.poll() is not None:
            self._start_beat()

    def workers_alive(self) -> int:
        return sum(1 for process in self._workers if process is not None and process.poll() is None)

    def settle(self, timeout: float = 120) -> bool:
        """Wait (bounded) until nothing is queued any more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending() == 0:
                return True
            self.supervise()
            time.sleep(0.5)
        return False

    def heal(self, timeout: float = 120) -> None:
        """Ordoclic back to normal; the prescribers decide on what was held; wait for the
        queue to drain."""
        self.faults("ok")
        self.settle(timeout)
        if self.held_now():
            self.driver("release-held")
            self.settle(timeout)

    def verdict(self) -> Verdict:
        accepted = {
            str(external_id)
            for (external_id,) in self.query("SELECT external_id FROM prescriptions_submission")
        }
        held_now = {
            str(external_id)
            for (external_id,) in self.query(
                "SELECT external_id FROM prescriptions_submission WHERE status = 'held'"
            )
        }
        [(ever_held,)] = self.query(
            "SELECT count(DISTINCT prescription_id) FROM prescriptions_auditevent "
            "WHERE action = 'submission_held'"
        )
        [(found,)] = self.query(
            "SELECT count(DISTINCT submission_id) FROM prescriptions_submissionattempt "
            "WHERE outcome = 'found'"
        )
        ledger = self.ledger()
        registered = {item["externalId"] for item in ledger if item["registered"] > 0}
        return Verdict(
            accepted=len(accepted),
            registered=len(registered & accepted),
            lost=len(accepted - registered - held_now),
            duplicated=sum(1 for item in ledger if item["registered"] > 1),
            unexpected=len(registered - accepted),
            held=int(ever_held),
            pending=self.pending(),
            resent_without_lookup=sum(item["resendsWithoutLookup"] for item in ledger),
            keys_changed=sum(1 for item in ledger if len(item["idempotencyKeys"]) > 1),
            found_by_lookup=int(found),
        )
