"""Waiting in tests, always with a deadline and a message that says what was awaited: on a busy
machine things are slow, not stuck, and a test that waits forever tells nobody anything."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T], *, what: str, timeout: float = 15.0) -> T:
    """Poll ``check`` until it returns something truthy, and return it; fail, naming ``what``
    was awaited, once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout:.0f} s for {what}")
        time.sleep(0.05)


def join_all(threads: Iterable[threading.Thread], *, what: str, timeout: float = 30.0) -> None:
    """Join ``threads`` within one deadline; fail, naming what they do, if one still runs."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            raise AssertionError(f"{what}: a thread still runs after {timeout:.0f} s")
