"""The chaos scenarios. Each signs prescriptions through the services while a fault is on,
heals the system and waits (bounded) for the queue to drain; the caller then checks the sandbox
ledger against the app's accepted prescriptions. ``n`` scales the number of prescriptions.

Each returns the seconds the queue took to drain once Ordoclic was healthy again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .harness import Chaos


def _heal(chaos: Chaos) -> float:
    started = time.monotonic()
    chaos.heal()
    return time.monotonic() - started


def outage(chaos: Chaos, n: int) -> float:
    """Ordoclic down while prescriptions are signed, then back: all consolidate (those that
    the new analysis finds a contraindication in are held, decided, then sent)."""
    chaos.faults("down")
    chaos.driver("sign", "--count", str(n), "--ci-every", "7", "--threads", "3")
    return _heal(chaos)


def slow_and_flaky(chaos: Chaos, n: int) -> float:
    chaos.faults("flaky", latency_ms=150, error_rate=0.4)
    chaos.driver("sign", "--count", str(n // 2), "--threads", "3")
    chaos.faults("slow", latency_ms=1200)  # slower than the signing budget allows for
    chaos.driver("sign", "--count", str(n - n // 2), "--threads", "3")
    return _heal(chaos)


def hang(chaos: Chaos, n: int) -> float:
    """Ordoclic accepts connections and never answers: client timeouts, then the breaker."""
    chaos.faults("hang")
    chaos.driver("sign", "--count", str(n), "--threads", "3")
    return _heal(chaos)


def commit_then_drop(chaos: Chaos, n: int) -> float:
    """Ordoclic registers the prescription, then the connection drops before the answer."""
    chaos.faults("commit_then_drop")
    chaos.driver("sign", "--count", str(n), "--threads", "3")
    return _heal(chaos)


def worker_killed(chaos: Chaos, n: int) -> float:
    """A Celery worker killed with SIGKILL in the middle of sending, twice."""
    chaos.faults("down")
    chaos.driver("sign", "--count", str(n), "--threads", "3")
    # Slow answers so that workers are in the middle of sending when killed.
    chaos.faults("slow", latency_ms=700)
    started = time.monotonic()
    for _ in range(2):
        time.sleep(2.5)
        chaos.kill_worker(0)
        time.sleep(0.5)
        chaos.start_worker(0)
    chaos.settle(120)
    return time.monotonic() - started + _heal(chaos)


def _registered_there_not_here(chaos: Chaos, *, timeout: float) -> bool:
    """Wait (bounded) until Ordoclic has registered a prescription the app has not recorded
    as registered yet: a worker's batch is between its calls and its commit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        there = sum(1 for item in chaos.ledger() if item["registered"])
        [(here,)] = chaos.query(
            "SELECT count(*) FROM prescriptions_submission WHERE status = 'registered'"
        )
        if there > int(here):
            return True
        time.sleep(0.2)
    return False


def worker_killed_in_flight(chaos: Chaos, n: int) -> float:
    """Workers SIGKILLed with calls in flight on prescriptions no attempt was made for yet (the
    web process died right after signing): Ordoclic registered some of them, the workers'
    transactions never committed. Every attempt was recorded as started before its calls, so
    the next one looks each prescription up by external id before sending it again (the
    verdict counts creation requests sent again without a lookup: none is allowed)."""
    for index in range(chaos.workers):
        chaos.kill_worker(index)  # nobody sends while they are signed
    chaos.faults("ok")
    chaos.driver("sign", "--count", str(n), "--threads", "3", "--web-dies")
    # Every answer comes 0.8 s late, after Ordoclic processed the request: a kill lands while a
    # batch waits on its calls, after some of its creations were registered.
    chaos.faults("ok", latency_ms=800)
    started = time.monotonic()
    for _ in range(2):
        for index in range(chaos.workers):
            chaos.start_worker(index)
        _registered_there_not_here(chaos, timeout=60)
        for index in range(chaos.workers):
            chaos.kill_worker(index)
    chaos.faults("ok")  # answers on time again for the drain
    for index in range(chaos.workers):
        chaos.start_worker(index)
    chaos.settle(120)
    return time.monotonic() - started + _heal(chaos)


def redis_restarted(chaos: Chaos, n: int) -> float:
    """Redis restarted without persistence while submissions are queued: every task is lost;
    the sweeper re-enqueues from Postgres."""
    chaos.faults("down")
    chaos.driver("sign", "--count", str(n), "--threads", "3")
    chaos.restart_redis()
    return _heal(chaos)


def concurrent_signing(chaos: Chaos, n: int) -> float:
    """The same prescription signed at once from two sessions: one prescription, one
    submission, one registration. Half of them while Ordoclic is flaky."""
    chaos.faults("ok")
    chaos.driver("sign-same", "--count", str(n - n // 2))
    chaos.faults("flaky", latency_ms=100, error_rate=0.5)
    chaos.driver("sign-same", "--count", str(n // 2))
    return _heal(chaos)


def signing_during_recovery(chaos: Chaos, n: int) -> float:
    """Prescriptions signed from another thread while Ordoclic flips between down and up."""
    stop = threading.Event()

    def flip() -> None:
        modes = ["down", "ok", "flaky", "ok"]
        i = 0
        while not stop.wait(1.0):
            chaos.faults(modes[i % len(modes)], error_rate=0.5)
            i += 1

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        chaos.driver("sign", "--count", str(n), "--ci-every", "9", "--threads", "3")
    finally:
        stop.set()
        flipper.join(timeout=10)
    return _heal(chaos)


def offline_from_the_start(chaos: Chaos, n: int) -> float:
    """Ordoclic down before the consultations start: the drugs are found in origami's memory
    (lines unverified), the prescriptions signed without analysis; Ordoclic back: each line is
    checked against Ordoclic, then the prescription analysed and sent."""
    chaos.faults("down")
    [(verified_before,)] = chaos.query(
        "SELECT count(*) FROM prescriptions_auditevent WHERE action = 'drugs_verified'"
    )
    chaos.driver("sign-offline", "--count", str(n), "--threads", "3")
    healed = _heal(chaos)
    [(verified,)] = chaos.query(
        "SELECT count(*) FROM prescriptions_auditevent WHERE action = 'drugs_verified'"
    )
    [(unverified,)] = chaos.query(
        "SELECT count(*) FROM prescriptions_prescriptionline l "
        "JOIN prescriptions_submission s ON s.prescription_id = l.prescription_id "
        "WHERE NOT l.drug_verified AND s.status = 'registered'"
    )
    if verified - verified_before < n or unverified:
        raise AssertionError(
            f"lines picked offline: {verified - verified_before} prescriptions checked of {n}, "
            f"{unverified} registered lines never checked"
        )
    return healed


SCENARIOS: dict[str, Callable[[Chaos, int], float]] = {
    "outage": outage,
    "slow_and_flaky": slow_and_flaky,
    "hang": hang,
    "commit_then_drop": commit_then_drop,
    "worker_killed": worker_killed,
    "worker_killed_in_flight": worker_killed_in_flight,
    "redis_restarted": redis_restarted,
    "concurrent_signing": concurrent_signing,
    "signing_during_recovery": signing_during_recovery,
    "offline_from_the_start": offline_from_the_start,
}
