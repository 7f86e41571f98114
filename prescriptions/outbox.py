"""One outbox mechanism for everything origami must get to Ordoclic: the submissions of signed
prescriptions (`delivery.submissions`) and the cancellations (`followup.cancellation`).

Postgres is the record of what must be sent: a row with a status, an attempt count and the time
of its next attempt, created in the transaction of the act that asks for it. Celery and Redis only
make delivery prompt. The mechanism, the same for every outbox:

- **claim, recorded as started**: a row is taken with ``select_for_update(skip_locked=True)``,
  only when it is waiting (``queued``) and due, and its ``attempt_started_at`` is set in a
  transaction of its own, committed *before* any call to Ordoclic (`Outbox.attempt`). From then
  on a session advisory lock keeps the row for the whole attempt (a concurrent attempt, a web
  request and a worker, two workers, a duplicated task, finds nothing to do); a process that dies
  mid-attempt releases it with its connection. The attempt's outcome is recorded in a second
  transaction, which clears the marker. A claim that finds the marker still set knows the
  previous attempt died with its calls in flight (a worker SIGKILLed after Ordoclic registered a
  prescription but before its transaction committed): that row counts as tried, and the next
  attempt looks it up by external id before sending anything again;
- **retry delay**: exponential backoff with full jitter (`retry_delay`), at least what Ordoclic
  asked (``Retry-After``), capped far below the broker's visibility timeout so that a task waiting
  for its countdown is never delivered twice by Redis merely because it waited;
- **counting**: a call the open circuit breaker refused sent nothing: it is not an attempt;
- **enqueue after commit**: the next attempt's task is published once the attempt's transaction
  has committed; a short-lived marker in the cache says a task is on its way;
- **sweep**: a periodic task re-enqueues the rows whose attempt time has passed by more than the
  grace period and that no task is on its way for (Redis keeps nothing on disk; a worker may be
  killed with its prefetched task).

Each outbox supplies only its send step and what it does with the answer.
"""

from __future__ import annotations

import contextlib
import logging
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from origami.celery import enqueue_within_budget

from .ordoclic import NotAnswered

logger = logging.getLogger(__name__)

Row = TypeVar("Row", bound=models.Model)

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
    """Rows whose next attempt time has come."""
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + DUE_TOLERANCE)


def counts_as_attempt(answer: object) -> bool:
    """Whether an answer counts as an attempt: a refusal of the open breaker sent nothing."""
    return not (isinstance(answer, NotAnswered) and answer.breaker_open)


# Advisory lock keys are two int4: the outbox (a hash of its name) and the row id, folded into
# int4. A fold collision only makes an attempt skip a row for a while (its task comes back).
_INT4 = 2147483647


@dataclass
class Claimed(Generic[Row]):
    """The rows an attempt holds, and those whose previous attempt was interrupted (started,
    never recorded): a call of that attempt may have reached Ordoclic."""

    rows: list[Row]
    interrupted: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.rows)


class Outbox(Generic[Row]):
    """An outbox table: its rows have ``status``, ``attempts``, ``next_attempt_at`` and
    ``attempt_started_at``; a row waiting to be sent has the status ``queued``; ``task_name`` is
    the Celery task that makes one attempt for a row id."""

    def __init__(self, *, name: str, model: type[Row], queued: str, task_name: str) -> None:
        self.name = name
        self.model = model
        self.queued = queued
        self.task_name = task_name
        self.marker = f"outbox:{name}:enqueued:{{pk}}"
        self.lock_class = zlib.crc32(f"outbox:{name}".encode()) & _INT4

    # --- claiming ----------------------------------------------------------------------------

    def claimable(self) -> QuerySet[Row]:
        """Waiting rows no one else holds, locked for the caller's transaction once read."""
        manager = self.model._default_manager
        return manager.select_for_update(skip_locked=True, of=("self",)).filter(status=self.queued)

    def claim(
        self, *, pk: int, shape: Callable[[QuerySet[Row]], QuerySet[Row]] | None = None
    ) -> Row | None:
        """The row, locked, if it is waiting, due and free; ``shape`` adds what the send step
        reads with it (``select_related``, annotations)."""
        rows = self.claimable().filter(due(timezone.now()), pk=pk)
        return (shape(rows) if shape else rows).first()

    @contextlib.contextmanager
    def attempt(self, claim: Callable[[], list[Row]]) -> Iterator[Claimed[Row]]:
        """Claim rows for one attempt and record it as started before any call to Ordoclic.

        ``claim`` selects the rows with `claimable` (locked, waiting, due; rows it takes
        besides the one its task names should have no ``attempt_started_at``, since those are
        held by another attempt or left by an interrupted one, which its own task names); it
        runs in a transaction of its own, which also takes a session advisory lock on each
        row (the rows another attempt still holds are dropped) and sets their
        ``attempt_started_at``, and commits. The block makes the calls and records the
        outcome in its own transaction, setting ``attempt_started_at`` back to None on every
        row it records; the advisory locks are released when the block ends (or with the
        connection, if the process dies).
        """
        with transaction.atomic():
            rows = self._hold(claim())
            interrupted = {row.pk for row in rows if row.attempt_started_at is not None}  # type: ignore[attr-defined]
            if rows:
                now = timezone.now()
                self.model._default_manager.filter(pk__in=[row.pk for row in rows]).update(
                    attempt_started_at=now
                )
                for row in rows:
                    row.attempt_started_at = now  # type: ignore[attr-defined]
        for pk in sorted(interrupted):
            logger.warning(
                "previous attempt interrupted: looking up before sending again",
                extra={"outbox": self.name, "row_id": pk},
            )
        try:
            yield Claimed(rows=rows, interrupted=interrupted)
        finally:
            self._release([row.pk for row in rows])

    def _hold(self, rows: list[Row]) -> list[Row]:
        """The rows whose advisory lock this session could take (in the claim's order)."""
        if not rows:
            return rows
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM unnest(%s::bigint[]) AS id "
                "WHERE pg_try_advisory_lock(%s, (id %% %s)::int4)",
                [[row.pk for row in rows], self.lock_class, _INT4],
            )
            held = {pk for (pk,) in cursor.fetchall()}
        return [row for row in rows if row.pk in held]

    def _release(self, pks: list[int]) -> None:
        if not pks:
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, (id %% %s)::int4) "
                    "FROM unnest(%s::bigint[]) AS id",
                    [self.lock_class, _INT4, pks],
                )
        except Exception as exc:  # a broken connection has released them with its session
            logger.warning(
                "outbox advisory locks not released (%s)",
                type(exc).__name__,
                extra={"outbox": self.name},
            )
            if not connection.in_atomic_block:
                # End the session, and its locks with it, rather than keep a reused
                # connection that holds rows no attempt is working on.
                connection.close()

    # --- scheduling --------------------------------------------------------------------------

    @staticmethod
    def next_attempt_at(*, attempts: int, retry_after: float | None) -> datetime:
        return timezone.now() + timedelta(
            seconds=retry_delay(attempts=max(1, attempts), retry_after=retry_after)
        )

    def enqueue(self, *, pk: int, at: datetime | None) -> bool:
        """Ask a worker to attempt the row at ``at`` (now when None). Never raises and never
        waits on a broker that is down: the sweeper re-enqueues what this could not."""
        countdown = 0.0 if at is None else max(0.0, (at - timezone.now()).total_seconds())
        try:
            # Bounded whatever the broker's state (down, or hung): a web request never waits
            # on it beyond ORIGAMI_ENQUEUE_BUDGET.
            enqueue_within_budget(self.task_name, args=(pk,), countdown=countdown)
        except Exception as exc:  # the broker is down: Postgres still has the row
            logger.warning(
                "outbox row not enqueued (%s): the sweeper will",
                type(exc).__name__,
                extra={"outbox": self.name, "row_id": pk},
            )
            return False
        # The marker only spares the sweeper a duplicate: losing it costs nothing.
        with contextlib.suppress(Exception):
            cache.set(
                self.marker.format(pk=pk),
                1,
                timeout=int(countdown + settings.SUBMISSION_SWEEP_GRACE) + 1,
            )
        return True

    def enqueue_on_commit(self, *, pk: int, at: datetime | None) -> None:
        """Once the caller's transaction has committed, ask a worker to try at ``at``."""
        transaction.on_commit(lambda: self.enqueue(pk=pk, at=at))

    def enqueued(self, pk: int) -> bool:
        """Whether a task for the row is on its way (its marker is alive)."""
        try:
            return cache.get(self.marker.format(pk=pk)) is not None
        except Exception:
            return False

    # --- sweeping ----------------------------------------------------------------------------

    def overdue(self, *, limit: int) -> list[int]:
        """Waiting rows whose attempt time has passed by more than the sweep grace."""
        overdue = timezone.now() - timedelta(seconds=settings.SUBMISSION_SWEEP_GRACE)
        return list(
            self.model._default_manager.filter(status=self.queued, next_attempt_at__lte=overdue)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )

    def sweep(self, *, limit: int = 1000) -> int:
        """Re-enqueue the overdue rows whose task was lost, skipping those whose task is on its
        way. Returns how many were enqueued."""
        ids = self.overdue(limit=limit)
        if not ids:
            return 0
        try:
            marked = cache.get_many([self.marker.format(pk=pk) for pk in ids])
        except Exception:
            marked = {}
        enqueued = 0
        for pk in ids:
            if self.marker.format(pk=pk) in marked:
                continue
            if self.enqueue(pk=pk, at=None):
                enqueued += 1
        if enqueued:
            logger.info("sweeper re-enqueued", extra={"outbox": self.name, "count": enqueued})
        return enqueued
