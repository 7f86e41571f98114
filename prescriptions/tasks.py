"""The prescriptions' Celery tasks, where Celery's autodiscovery looks for them (each lives with
its subpackage)."""

from .delivery.tasks import submission_send_task, submissions_sweep
from .followup.tasks import cancellation_send_task, cancellations_sweep, dispensing_poll_task

__all__ = [
    "cancellation_send_task",
    "cancellations_sweep",
    "dispensing_poll_task",
    "submission_send_task",
    "submissions_sweep",
]
