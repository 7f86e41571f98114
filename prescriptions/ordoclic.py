"""The prescriptions package's boundary with Ordoclic.

The client answers every call with ``Ok / Rejected / Unavailable`` (``ordoclic_client.results``);
this module is the only place of the package that matches on them. The rest of the app receives
the contract's values (a drug, an analysis, a registered prescription) or one of two domain
values saying why there is none:

- :class:`Refused`: Ordoclic refused the request (a 4xx): permanent, never retried as is;
- :class:`NotAnswered`: no usable answer (network, timeout, 5xx, 429, open breaker): try later.

It also gives the client: ``client()`` for workers (the client's own timeouts) and
``client_for_request()`` / :class:`RequestBudget` for web requests, which never wait on Ordoclic
beyond ``ORDOCLIC_REQUEST_BUDGET``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TypeVar, assert_never

from django.conf import settings
from django.utils.translation import gettext as _

from ordoclic_client import OrdoclicClient, contract
from ordoclic_client.results import Ok, Rejected, Result, Unavailable, UnavailableKind
from origami.ordoclic import get_client

from .errors import OrdoclicUnavailable, PrescriptionError

T = TypeVar("T")

# Below this much budget left, a web request stops calling and leaves the rest to the workers.
MIN_CALL_BUDGET = 0.2


@dataclass(frozen=True, slots=True)
class Refused:
    """Ordoclic refused the request (a 4xx other than 429): fix it, never send it again as is."""

    message: str
    status: int
    codes: frozenset[str] = frozenset()
    # structured extras some refusals carry (e.g. the alerts that block a registration)
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotAnswered:
    """No usable answer: try again later (after ``retry_after`` seconds when Ordoclic said).

    ``sent``: the request may have reached Ordoclic (look the outcome up before sending again);
    ``breaker_open``: the shared circuit breaker refused the call, nothing was sent (not a
    failed attempt)."""

    reason: str
    retry_after: float | None = None
    sent: bool = False
    breaker_open: bool = False


def _domain(result: Result[T]) -> T | Refused | NotAnswered:
    match result:
        case Ok(value=value):
            return value
        case Rejected() as rejected:
            return Refused(
                message=rejected.message,
                status=rejected.status,
                codes=frozenset(e.code for e in rejected.errors if e.code),
                details=dict(rejected.details),
            )
        case Unavailable() as unavailable:
            return NotAnswered(
                reason=unavailable.reason,
                retry_after=unavailable.retry_after,
                sent=unavailable.sent,
                breaker_open=unavailable.kind == UnavailableKind.BREAKER_OPEN,
            )
        case _ as unreachable:
            assert_never(unreachable)


# --- the client -----------------------------------------------------------------------------


def client() -> OrdoclicClient:
    """The process's client (workers: bounded by the client's own timeouts)."""
    return get_client()


def client_for_request() -> OrdoclicClient:
    """The client bounded by the web request's budget (ORDOCLIC_REQUEST_BUDGET): a call that may
    first fetch a token makes two requests, each given half of it."""
    half = settings.ORDOCLIC_REQUEST_BUDGET / 2
    return get_client().with_timeout(
        read=half, connect=min(half, settings.ORDOCLIC_CONNECT_TIMEOUT)
    )


class RequestBudget:
    """The time a web request may still spend on Ordoclic; ``seconds=None``: a worker, no
    budget beyond the client's own timeouts."""

    def __init__(self, seconds: float | None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def client(self, base: OrdoclicClient) -> OrdoclicClient | None:
        """``base`` bounded by what is left, or None when too little is left."""
        if self.deadline is None:
            return base
        left = self.deadline - time.monotonic()
        if left < MIN_CALL_BUDGET:
            return None
        # A call may first fetch a token: two requests, each bounded by half of what is left.
        return base.with_timeout(
            read=left / 2, connect=min(left / 2, settings.ORDOCLIC_CONNECT_TIMEOUT)
        )


def breaker_wait(base: OrdoclicClient) -> float | None:
    """Seconds before the shared breaker lets calls through again, None when it is closed (or
    half-open: then the call itself may be the probe)."""
    if base.breaker is None:
        return None
    state = base.breaker.snapshot()
    if state.state == "open":
        return float(state.retry_after or settings.ORDOCLIC_BREAKER_RESET_SECONDS)
    return None


# --- the drug database ------------------------------------------------------------------------


def drugs_search(*, rpps: str, text: str, per_page: int) -> list[contract.Drug]:
    """Ordoclic's drug search within the request budget. Raises :class:`OrdoclicUnavailable`
    when it cannot answer, :class:`PrescriptionError` when it refuses the query."""
    match _domain(client_for_request().drug_search(rpps=rpps, text=text, per_page=per_page)):
        case Refused(message=message):
            raise PrescriptionError(message, field="drug")
        case NotAnswered():
            raise OrdoclicUnavailable(
                _("Recherche indisponible pour l'instant (Ordoclic ne répond pas).")
            )
        case page:
            return list(page.items)


def drug_by_code(*, rpps: str, code: str) -> contract.Drug | None:
    """The drug Ordoclic knows under ``code`` (CIS, CIP13, UCD), None when it knows none.
    Raises :class:`OrdoclicUnavailable` when it cannot answer."""
    match _domain(client_for_request().drug_by_code(rpps=rpps, code=code)):
        case Refused():
            return None
        case NotAnswered():
            raise OrdoclicUnavailable(_("Ordoclic ne répond pas pour l'instant."))
        case drug:
            return drug


def drug_lookup(
    *, base: OrdoclicClient, rpps: str, code: str
) -> contract.Drug | Refused | NotAnswered | None:
    """The drug Ordoclic knows under ``code``, None when it knows none (404); for workers
    (the check before sending), as a value like the calls below."""
    match _domain(base.drug_by_code(rpps=rpps, code=code)):
        case Refused(status=404):
            return None
        case answer:
            return answer


# --- analysis and registration (each answers a value, never raises) ----------------------------


def analysis_run(
    *, base: OrdoclicClient, rpps: str, request: contract.AnalysisRequest
) -> contract.AnalysisResult | Refused | NotAnswered:
    return _domain(base.prescription_analyse(rpps=rpps, request=request))


def registration_find(
    *, base: OrdoclicClient, rpps: str, external_id: str
) -> contract.RegisteredPrescription | Refused | NotAnswered | None:
    """The prescription registered under our external id, None when there is none."""
    return _domain(base.prescription_find_by_external_id(rpps=rpps, external_id=external_id))


def registration_create(
    *, base: OrdoclicClient, rpps: str, request: contract.PrescriptionCreate, idempotency_key: str
) -> contract.RegisteredPrescription | Refused | NotAnswered:
    return _domain(
        base.prescription_create(rpps=rpps, request=request, idempotency_key=idempotency_key)
    )


def registration_cancel(
    *, base: OrdoclicClient, rpps: str, prescription_id: str, reason: str, comment: str
) -> contract.RegisteredPrescription | Refused | NotAnswered:
    return _domain(
        base.prescription_cancel(
            rpps=rpps, prescription_id=prescription_id, reason=reason, comment=comment
        )
    )


def registration_state(
    *, base: OrdoclicClient, rpps: str, prescription_id: str
) -> contract.PrescriptionStatus | Refused | NotAnswered:
    return _domain(base.prescription_status(rpps=rpps, prescription_id=prescription_id))
