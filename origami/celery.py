"""The Celery application. Settings live in origami/settings/celery.py (CELERY_ namespace)."""

import os
import threading
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections
from kombu import Connection
from kombu.connection import ConnectionPool

from origami.scrubbing import patient_names_reset

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "origami.settings.local")

app = Celery("origami")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections(*, task: Any = None, **kwargs: Any) -> None:
    """Around each task, what Django does around each request: drop a connection that is
    broken, in error or older than CONN_MAX_AGE; keep the others (CELERY_DB_REUSE_MAX). Not for
    a task run eagerly: it runs inside its caller's connection and transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


@task_prerun.connect
def _patients_out_of_scope(**kwargs: Any) -> None:
    """Each task starts with no patient in scope for the scrubbing of logs and Sentry events
    (origami/scrubbing.py); the patients it reads come into scope as it reads them."""
    patient_names_reset()


# --- enqueueing within a request's budget --------------------------------------------------------

_budget_pools: dict[tuple[int, str, float], ConnectionPool] = {}
_budget_pools_lock = threading.Lock()


def _budget_pool(budget: float) -> ConnectionPool:
    """Broker connections whose every step is bounded by half the budget: connecting once (no
    kombu retry loop), then each socket operation. A separate pool from Celery's own, whose
    timeouts suit workers. One per process: a pool inherited through fork is not reused."""
    url = str(app.conf.broker_write_url or app.conf.broker_url)
    key = (os.getpid(), url, budget)
    with _budget_pools_lock:
        pool = _budget_pools.get(key)
        if pool is None:
            step = budget / 2
            options = {
                **(app.conf.broker_transport_options or {}),
                "socket_connect_timeout": step,
                "socket_timeout": step,
                "retry_on_timeout": False,
                "max_retries": 0,
            }
            connection = Connection(
                url,
                transport=app.conf.broker_transport,
                connect_timeout=step,
                transport_options=options,
            )
            pool = _budget_pools[key] = connection.Pool(limit=app.conf.broker_pool_limit)
        return pool


def enqueue_within_budget(
    task: Any, *, args: tuple[Any, ...], countdown: float = 0.0, budget: float | None = None
) -> None:
    """Publish ``task`` (a task, or a task's name) with ``args``, or raise (kombu's
    OperationalError, or a socket error) within about ``budget`` seconds
    (ORIGAMI_ENQUEUE_BUDGET) whatever the broker's state: down, refusing connections, or
    accepting them and never answering. For enqueues that are a
    speed-up only, made from a web request: Postgres holds what must be sent and the sweepers
    enqueue again what this could not. Celery's own path would spend ``broker_connection_timeout``
    retrying the connection, and wait on a hung broker as long as the workers' socket timeout."""
    if budget is None:
        from django.conf import settings

        budget = float(settings.ORIGAMI_ENQUEUE_BUDGET)
    pool = _budget_pool(budget)
    connection = pool.acquire(block=True, timeout=budget / 2)
    try:
        if isinstance(task, str):  # by name: the outboxes enqueue their task by its name
            app.send_task(task, args=args, countdown=countdown, retry=False, connection=connection)
        else:
            task.apply_async(args=args, countdown=countdown, retry=False, connection=connection)
    except BaseException:
        # A connection that failed midway is not trusted for the next enqueue.
        connection.collect()
        raise
    finally:
        connection.release()
