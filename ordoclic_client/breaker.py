"""A circuit breaker whose state every process shares through Redis.

closed -> open after ``failures`` consecutive unavailable answers; open refuses every call at once
for ``reset_seconds``; then half-open lets exactly one probe through (``SET NX`` with an expiry, so
a probe that dies does not block the breaker forever); the probe's success closes the breaker, its
failure opens it again. A refused call (4xx) proves Ordoclic is up: it counts as a success.

The timing lives in Redis key expiries, so the processes' clocks never need to agree. If Redis
itself is unreachable the breaker lets calls through: it only saves time, it never decides.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal, Protocol

import redis

logger = logging.getLogger(__name__)

BreakerState = Literal["closed", "open", "half_open"]


class Breaker(Protocol):
    """What :class:`~ordoclic_client.client.OrdoclicClient` needs from a breaker."""

    def before_call(self) -> float | None:
        """None to go ahead; otherwise the call is refused and this many seconds remain
        before it is worth trying again."""

    def record_success(self) -> None: ...

    def record_failure(self, reason: str) -> None: ...

    def state(self) -> BreakerState: ...

    def last_error(self) -> str | None: ...

    def snapshot(self) -> BreakerSnapshot:
        """The state, the failures counted, the last error and the seconds left while open."""


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """For the admin ops page."""

    state: BreakerState
    consecutive_failures: int
    last_error: str | None
    retry_after: float | None


# KEYS: failures, tripped, open, last_error, probe.  ARGV: threshold, open ms, reason.
_RECORD_FAILURE = """
local n = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[4], ARGV[3])
if n >= tonumber(ARGV[1]) or redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SET', KEYS[2], '1')
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
  redis.call('DEL', KEYS[5])
  return 1
end
return 0
"""


class RedisBreaker:
    def __init__(
        self,
        client: redis.Redis,
        *,
        name: str = "ordoclic",
        failures: int = 3,
        reset_seconds: float = 30.0,
        probe_seconds: float | None = None,
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        self._redis = client
        self._threshold = failures
        self._reset_ms = max(1, int(reset_seconds * 1000))
        # A probe holds the half-open slot at most this long (it should end by its timeout).
        self._probe_ms = max(1, int((probe_seconds or reset_seconds) * 1000))
        prefix = f"breaker:{name}"
        self._failures = f"{prefix}:failures"
        self._tripped = f"{prefix}:tripped"
        self._open = f"{prefix}:open"
        self._last_error = f"{prefix}:last_error"
        self._probe = f"{prefix}:probe"
        self._record_failure = self._redis.register_script(_RECORD_FAILURE)

    def before_call(self) -> float | None:
        try:
            if not self._redis.exists(self._tripped):
                return None
            open_ms = int(self._redis.pttl(self._open))
            if open_ms > 0:
                return open_ms / 1000
            if self._redis.set(self._probe, "1", nx=True, px=self._probe_ms):
                return None  # this caller is the half-open probe
            probe_ms = int(self._redis.pttl(self._probe))
            return max(probe_ms, 0) / 1000
        except redis.RedisError:
            logger.warning("circuit breaker store unreachable: letting the call through")
            return None

    def record_success(self) -> None:
        try:
            self._redis.delete(self._failures, self._tripped, self._open, self._probe)
        except redis.RedisError:
            logger.warning("circuit breaker store unreachable: success not recorded")

    def record_failure(self, reason: str) -> None:
        keys = [self._failures, self._tripped, self._open, self._last_error, self._probe]
        try:
            if self._record_failure(keys=keys, args=[self._threshold, self._reset_ms, reason]):
                logger.warning("Ordoclic circuit breaker open: %s", reason)
        except redis.RedisError:
            logger.warning("circuit breaker store unreachable: failure not recorded")

    def state(self) -> BreakerState:
        return self.snapshot().state

    def last_error(self) -> str | None:
        return self.snapshot().last_error

    def snapshot(self) -> BreakerSnapshot:
        try:
            pipe = self._redis.pipeline()
            pipe.exists(self._tripped)
            pipe.pttl(self._open)
            pipe.get(self._failures)
            pipe.get(self._last_error)
            tripped, open_ms, failures, last_error = pipe.execute()
        except redis.RedisError:
            return BreakerSnapshot("closed", 0, "circuit breaker store unreachable", None)
        if isinstance(last_error, bytes):
            last_error = last_error.decode(errors="replace")
        state: BreakerState = "closed"
        retry_after = None
        if tripped:
            state = "open" if open_ms > 0 else "half_open"
            retry_after = open_ms / 1000 if open_ms > 0 else None
        return BreakerSnapshot(state, int(failures or 0), last_error, retry_after)

    def reset(self) -> None:
        """Close the breaker and forget its history (tests, admin)."""
        self._redis.delete(self._failures, self._tripped, self._open, self._probe, self._last_error)
