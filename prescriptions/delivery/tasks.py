"""Celery tasks of the delivery. Each takes only ids: Postgres holds the state, the broker only
says "look at this now" (at-least-once delivery: acks late, reject on worker lost, prefetch 1, in
origami/settings/celery.py)."""

from __future__ import annotations

from celery import shared_task

from . import submissions


@shared_task(name="prescriptions.submission_send")
def submission_send_task(submission_id: int) -> str:
    """One attempt to register the submission (with other due ones in the same batch); each
    attempt enqueues its next one if needed."""
    submission = submissions.submissions_send(submission_id=submission_id).get(submission_id)
    return "skipped" if submission is None else submission.status


@shared_task(name="prescriptions.submissions_sweep")
def submissions_sweep() -> int:
    """Re-enqueue due queued submissions whose task was lost."""
    return submissions.submissions_sweep()
