"""What every call of the client returns at its boundary: a closed set of frozen values.

Callers `match` on them::

    match client.drug_search(rpps=rpps, text="doli"):
        case Ok(page): ...
        case Rejected(errors=errors): ...      # permanent: fix the request, never retry
        case Unavailable(reason=reason, retry_after=delay): ...  # retry later
        case _ as unreachable: assert_never(unreachable)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeAlias, TypeVar

T = TypeVar("T")

# The reason of an Unavailable the circuit breaker gave without sending anything.
CIRCUIT_OPEN = "circuit open"


class UnavailableKind(StrEnum):
    """Why no usable answer came back: callers decide on this closed set, never on ``reason``
    (free text for logs and administrators)."""

    CONNECT = "connect"  # no connection could be made (refused, connect timeout): nothing sent
    TIMEOUT = "timeout"  # no answer in time
    CONNECTION_LOST = "connection_lost"  # the connection dropped mid-exchange
    SERVER_ERROR = "server_error"  # 5xx
    RATE_LIMITED = "rate_limited"  # 429
    BREAKER_OPEN = "breaker_open"  # refused by the shared circuit breaker, nothing sent
    BAD_RESPONSE = "bad_response"  # not JSON, wrong shape, too large, unusable token
    CONFIGURATION = "configuration"  # our side: no client configured, unusable partner key
    CLIENT_ERROR = "client_error"  # an unexpected error inside the client


@dataclass(frozen=True, slots=True)
class FieldError:
    """One reason a request was refused, as Ordoclic's error body gives it."""

    message: str
    code: str = ""
    field: str = ""


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    value: T


@dataclass(frozen=True, slots=True)
class Rejected:
    """A 4xx answer (other than 429): permanent, never retried, not counted by the breaker."""

    status: int
    errors: tuple[FieldError, ...] = ()
    # Structured extras some refusals carry (e.g. the alerts that block a registration).
    details: dict[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return "; ".join(e.message for e in self.errors) or f"HTTP {self.status}"


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Network error, timeout, 5xx, 429, malformed body or open breaker: try again later.

    `sent` tells whether the request may have reached Ordoclic (a timeout after sending, a dropped
    connection): the caller must then look the outcome up before sending again.
    """

    reason: str
    retry_after: float | None = None
    sent: bool = False
    kind: UnavailableKind = UnavailableKind.BAD_RESPONSE

    @property
    def refused_by_breaker(self) -> bool:
        """Nothing was sent: the shared breaker is open (not a failed attempt)."""
        return self.kind == UnavailableKind.BREAKER_OPEN and not self.sent


Result: TypeAlias = Ok[T] | Rejected | Unavailable
