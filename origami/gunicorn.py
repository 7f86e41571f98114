"""gunicorn settings for origami (``gunicorn -c origami/gunicorn.py origami.wsgi:application``).
Every value can be overridden on the command line or with GUNICORN_CMD_ARGS.

Zero-downtime upgrades (README, "Mises à jour sans interruption"): on SIGTERM gunicorn stops
accepting connections and gives the requests in flight ``graceful_timeout`` seconds, more than a
signing request's Ordoclic budget, before it stops. Metrics: with several workers, each writes its
request latencies into PROMETHEUS_MULTIPROC_DIR, which is emptied when the instance starts (files
left by a previous run would be summed with the new ones).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = 5
# Recycle workers now and then, staggered, so that no slow leak builds up.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
# No query string nor Referer in the access log (URLs may carry search terms): %(U)s is the path
# without its query string; %(r)s and %(q)s would carry it. The request id joins the app's logs.
access_log_format = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
