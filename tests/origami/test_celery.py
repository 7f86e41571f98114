"""Celery workers and their database connection: kept from one task to the next (Celery's
Django fixup would otherwise open a new PostgreSQL connection per task), and replaced before a
task when it broke."""

from __future__ import annotations

import pytest
from celery.fixups.django import DjangoWorkerFixup  # type: ignore[attr-defined]
from django.db import connection

from origami.celery import _database_connections, app
from prescriptions.tasks import submission_send_task

pytestmark = pytest.mark.django_db(transaction=True)


def one_task(fixup: DjangoWorkerFixup) -> None:
    """What a worker does around a task, with a query inside."""
    task = submission_send_task
    fixup.on_task_prerun(sender=task)
    _database_connections(sender=task, task=task)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    fixup.on_task_postrun(sender=task)
    _database_connections(sender=task, task=task)


def test_a_worker_keeps_its_database_connection_from_one_task_to_the_next() -> None:
    fixup = DjangoWorkerFixup(app)
    connection.ensure_connection()
    first = connection.connection
    for _ in range(5):
        one_task(fixup)
    assert connection.connection is first


def test_a_broken_database_connection_is_replaced_before_the_next_task() -> None:
    fixup = DjangoWorkerFixup(app)
    one_task(fixup)
    broken = connection.connection
    broken.close()  # the server went away between two tasks
    one_task(fixup)  # no OperationalError: the task got a new connection
    assert connection.connection is not broken
