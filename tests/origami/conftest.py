"""A Redis of the test's own, which the test may kill, restart or hang."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from origami.celery import app
from tests.chaos.harness import _stop, free_port, redis_server


@dataclass
class OwnRedis:
    port: int
    directory: Path
    process: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = redis_server(self.port, self.directory)

    def kill(self) -> None:
        _stop(self.process, kill=True)

    def hang(self) -> None:
        """Connections stay open and accepted; nothing is answered any more."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGSTOP)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGCONT)
        self.kill()

    def queued_ids(self) -> list[str]:
        with redis.Redis(port=self.port, socket_timeout=5) as client:
            messages = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
        return [message["headers"]["argsrepr"] for message in messages]


@pytest.fixture
def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnRedis]:
    """The Celery app's broker for the test: redis-server on a free port, used by this process
    (Celery's connection pools are rebuilt around it)."""
    own = OwnRedis(port=free_port(), directory=tmp_path)
    own.start()
    # Celery prefers these variables to its configuration (a developer may have them set)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setitem(app.conf, "broker_url", own.url)
    app._after_fork()  # Celery's pools were built for the suite's Redis: drop them
    try:
        yield own
    finally:
        own.stop()
        app._after_fork()  # and the ones built for this Redis
