"""Retry delays for work that waits on Ordoclic (queued submissions, queued cancellations).

Exponential backoff with full jitter: the n-th retry waits a random time between 0 and
``base * 2**(n-1)``, never more than the cap. The cap stays far below the broker's visibility
timeout, so that a task scheduled with that countdown is never delivered twice by Redis merely
because it waited. When Ordoclic said how long to wait (``Retry-After`` on a 429 or a 503), the
delay is at least that, still capped.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

# A task may run a little before the time kept in the row (clocks, broker rounding).
DUE_TOLERANCE = timedelta(seconds=1)

_rng = random.SystemRandom()


def retry_cap() -> float:
    """Longest delay between two attempts, in seconds (a fraction of the visibility timeout)."""
    visibility = float(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600))
    return max(1.0, min(float(settings.SUBMISSION_RETRY_MAX_DELAY), visibility / 4))


def retry_delay(*, attempts: int, retry_after: float | None) -> float:
    """Seconds to wait before the next attempt, given how many attempts were already made."""
    cap = retry_cap()
    exponent = max(0, attempts - 1)
    # Avoid huge floats for large attempt counts: past 2**30 the cap always wins.
    ceiling = (
        cap
        if exponent > 30
        else min(cap, float(settings.SUBMISSION_RETRY_BASE_DELAY) * 2**exponent)
    )
    delay = _rng.uniform(0.0, ceiling)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(float(retry_after), cap))
    return delay


def due(now: datetime) -> Q:
    """Rows of an outbox (submissions, cancellations) whose next attempt time has come."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + DUE_TOLERANCE)
