"""The Celery application. Settings live in origami/settings/celery.py (CELERY_ namespace)."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

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
