"""How long an enqueue takes when Redis is down or hung, after the process had used it.

    python -m bench.enqueue_outage [--tries 3]

A Redis of its own (redis-server on a free port) is used once by this process, then either
killed (connections refused) or stopped with SIGSTOP (connections accepted, nothing answered).
Each of Celery's default path (``apply_async(retry=False)``, as the app enqueued before
``origami.celery.enqueue_within_budget``) and the budgeted helper then enqueues ``tries`` times;
the slowest try is printed. Nothing is written to a database.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.chaos.harness import _stop, free_port, redis_server

ROOT = Path(__file__).resolve().parents[1]


def _slowest(enqueue: Callable[[], object], tries: int) -> tuple[float, str]:
    slowest, outcome = 0.0, ""
    for _ in range(tries):
        started = time.monotonic()
        try:
            enqueue()
            outcome = "published"
        except Exception as exc:
            outcome = f"refused ({type(exc).__name__})"
        slowest = max(slowest, time.monotonic() - started)
    return slowest, outcome


def _inside(tries: int) -> int:
    import django

    django.setup()
    from origami.celery import app, enqueue_within_budget
    from prescriptions.tasks import submission_send_task

    paths: dict[str, Callable[[], object]] = {
        "celery default": lambda: submission_send_task.apply_async(args=(0,), retry=False),
        "enqueue_within_budget": lambda: enqueue_within_budget(submission_send_task, args=(0,)),
    }
    figures: list[str] = []
    with tempfile.TemporaryDirectory() as directory:
        for state in ("down", "hung"):
            for name, enqueue in paths.items():
                port = free_port()
                app.conf["broker_url"] = f"redis://127.0.0.1:{port}/0"
                app._after_fork()  # type: ignore[attr-defined]  # pools of the previous Redis
                redis = redis_server(port, Path(directory))
                try:
                    enqueue()  # the process has used Redis: its connection is pooled
                    if state == "down":
                        _stop(redis, kill=True)
                    else:
                        os.killpg(redis.pid, signal.SIGSTOP)
                    slowest, outcome = _slowest(enqueue, tries)
                finally:
                    if redis.poll() is None:
                        os.killpg(redis.pid, signal.SIGCONT)
                    _stop(redis, kill=True)
                print(f"Redis {state:4}  {name:22}  slowest of {tries}: {slowest:6.3f} s", outcome)
                key = f"{state}_{'default' if name.startswith('celery') else 'budget'}_s"
                figures.append(f"{key}={slowest:.3f}")
    print("enqueue_outage: " + " ".join(figures))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    if argv is None:  # `python -m bench` runs every benchmark with its defaults
        argv = sys.argv[1:] if __name__ == "__main__" else []
    args = parser.parse_args(argv)
    if args.inside:
        return _inside(args.tries)
    # In a process of its own: the Celery app and its pools are this run's only.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "origami.settings.local", "SENTRY_DSN": ""}
    command = [sys.executable, "-m", "bench.enqueue_outage", "--inside", "--tries", str(args.tries)]
    done = subprocess.run(command, cwd=ROOT, env=env, check=False, timeout=600)  # noqa: S603 - our own interpreter and module
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
