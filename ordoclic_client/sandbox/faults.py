"""Fault injection for the API (never for ``/_sandbox/``): the chaos suite's levers."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

MODES = ("ok", "down", "slow", "error", "flaky", "hang", "commit_then_drop")
DEFAULT_SLOW_MS = 1000
HANG_MAX_SECONDS = 60.0


@dataclass(frozen=True)
class Faults:
    mode: str = "ok"
    latency_ms: int = 0
    error_rate: float = 0.0

    def as_wire(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """What the fault layer does to one API request."""

    refuse_status: int | None = None  # answer this status without processing
    delay_seconds: float = 0.0  # process, then answer this late
    hang: bool = False  # never answer within the client's timeout
    drop_after_processing: bool = False  # process, then close the connection


class FaultSwitch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults = Faults()
        self._changed = threading.Event()
        self._random = random.Random()  # a simulation, not security

    @property
    def current(self) -> Faults:
        with self._lock:
            return self._faults

    def set(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            previous, self._changed = self._changed, threading.Event()
        previous.set()  # release requests hanging under the previous setting

    def wait_for_change(self, seconds: float) -> None:
        with self._lock:
            changed = self._changed
        changed.wait(seconds)

    def decide(self, *, is_write: bool) -> Decision:
        faults = self.current
        latency = faults.latency_ms / 1000
        match faults.mode:
            case "down":
                return Decision(refuse_status=503)
            case "error":
                return Decision(refuse_status=500)
            case "flaky":
                with self._lock:
                    failed = self._random.random() < faults.error_rate
                return Decision(refuse_status=503) if failed else Decision(delay_seconds=latency)
            case "slow":
                return Decision(delay_seconds=latency or DEFAULT_SLOW_MS / 1000)
            case "hang":
                return Decision(hang=True)
            case "commit_then_drop":
                return Decision(drop_after_processing=is_write, delay_seconds=latency)
            case _:
                return Decision(delay_seconds=latency)
