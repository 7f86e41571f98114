"""Start the served sandbox as a separate process and wait until it answers (for tests,
benchmarks and the chaos suite: the app itself reaches a sandbox over HTTP)."""

from __future__ import annotations

import select
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]


def spawn(
    *,
    state: Path,
    port: int = 0,
    stderr: int | IO[Any] | None = subprocess.DEVNULL,
    start_new_session: bool = False,
    timeout: float = 60,
) -> tuple[subprocess.Popen[str], str]:
    """`python -m ordoclic_client.sandbox` on 127.0.0.1:`port` (0: a free port) over `state`;
    returns the process and its base URL once it has printed it. Raises RuntimeError (after
    killing it) when it does not start within `timeout` seconds."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "ordoclic_client.sandbox",
            *("--host", "127.0.0.1", "--port", str(port), "--state", str(state)),
        ],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=REPO,
        start_new_session=start_new_session,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    first_line = process.stdout.readline() if ready else ""
    if "http://" not in first_line:
        process.kill()
        process.wait(timeout=10)
        raise RuntimeError(f"the sandbox did not start: {first_line!r}")
    return process, first_line.split()[-1]
