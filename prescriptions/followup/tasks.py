"""Celery tasks of the follow-up: the dispensing poll, cancellation attempts and their sweeper.
Each task takes only ids (or nothing): Postgres holds the state."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import cancellation, dispensing


@shared_task(name="prescriptions.dispensing_poll")
def dispensing_poll_task() -> dict[str, int | bool]:
    """One batch of prescriptions not fully dispensed nor cancelled, checked longest ago first;
    stops at the first unavailable answer (the breaker keeps the next rounds cheap)."""
    report = dispensing.dispensing_poll(limit=settings.DISPENSING_POLL_BATCH)
    return {"checked": report.checked, "applied": report.applied, "stopped": report.stopped}


@shared_task(name="prescriptions.cancellation_send")
def cancellation_send_task(cancellation_id: int) -> str:
    """One attempt to cancel at Ordoclic; an unavailable answer schedules the next one."""
    done = cancellation.cancellation_send(cancellation_id=cancellation_id)
    return "skipped" if done is None else done.status


@shared_task(name="prescriptions.cancellations_sweep")
def cancellations_sweep() -> int:
    """Re-enqueue every queued cancellation whose attempt is overdue and whose task was lost
    (a lost task is not lost work: the row is still queued)."""
    return cancellation.cancellations_sweep()
