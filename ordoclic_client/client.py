"""OrdoclicClient: one small class over an injected ``httpx.Client``.

Inside, failures are exceptions (:mod:`ordoclic_client.exceptions`); at the boundary every public
method returns a :data:`~ordoclic_client.results.Result` and never raises. The client does not
retry, except a refused connection (nothing was sent) once: retries belong to the caller's outbox.
"""

from __future__ import annotations

import copy
import email.utils
import json
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from ordoclic_client import contract
from ordoclic_client.auth import (
    OrdoclicAuth,
    PartnerCredentials,
    TokenCache,
    TokenKey,
    auth_body,
    token_expiry,
)
from ordoclic_client.breaker import Breaker
from ordoclic_client.contract import (
    AnalysisAlert,
    AnalysisRequest,
    AnalysisResult,
    Drug,
    Page,
    PrescriptionCancel,
    PrescriptionCreate,
    PrescriptionStatus,
    RegisteredPrescription,
)
from ordoclic_client.exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    CircuitOpenError,
    InvalidResponseError,
    OrdoclicError,
    RateLimitError,
    ServerError,
    status_error_class,
)
from ordoclic_client.models import AuthResponse, Entity, Professional
from ordoclic_client.results import (
    CIRCUIT_OPEN,
    FieldError,
    Ok,
    Rejected,
    Result,
    Unavailable,
    UnavailableKind,
)

logger = logging.getLogger(__name__)

__version__ = "0.1.0"
USER_AGENT = f"origami-ordoclic-client/{__version__}"
# No answer of this API is legitimately larger; a bigger one is refused unread.
MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_CONNECT_TIMEOUT = 2.0
DEFAULT_READ_TIMEOUT = 5.0

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def build_http_client(
    *,
    base_url: str,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` shaped for Ordoclic: base URL, explicit timeouts, no redirects."""
    return httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        transport=transport,
        follow_redirects=False,
    )


class OrdoclicClient:
    """Ordoclic's integrator API, acting for one professional (``rpps=``) per call.

    ``entity_id``: the structure this client acts in; tokens are cached per (rpps, entity). The
    documented auth assertion does not name an entity, so a partner working in several entities
    uses one client per entity.
    """

    def __init__(
        self,
        *,
        http: httpx.Client,
        credentials: PartnerCredentials,
        breaker: Breaker | None = None,
        entity_id: str | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._breaker = breaker
        self._entity_id = entity_id
        self._tokens = tokens or TokenCache()
        self._timeout: httpx.Timeout | None = None

    def with_timeout(self, *, read: float, connect: float | None = None) -> OrdoclicClient:
        """The same client (connection pool, token cache, breaker) with shorter timeouts, for a
        caller on a budget such as a web request. Timeouts apply per phase and per request: a
        call that must first fetch a token makes two requests."""
        default = self._http.timeout
        if connect is None:
            connect = min(read, default.connect) if default.connect is not None else read
        shorter = copy.copy(self)
        shorter._timeout = httpx.Timeout(read, connect=connect, pool=connect)
        return shorter

    @property
    def breaker(self) -> Breaker | None:
        return self._breaker

    @property
    def partner_id(self) -> str:
        return self._credentials.partner_id

    def close(self) -> None:
        self._http.close()

    # --- documented: authentication, professionals, entities ---------------------------------

    def auth(self, *, rpps: str) -> Result[AuthResponse]:
        """Fetch a new token for ``rpps`` (and cache it); the answer names the professional."""

        def fetch() -> AuthResponse:
            key = (rpps, self._entity_id)
            answer = self._fetch_auth(key)
            self._tokens.put(key, answer.token, token_expiry(answer.token))
            return answer

        return self._guard(fetch)

    def professional_validate(
        self, *, rpps: str, professional_rpps: str | None = None
    ) -> Result[Professional]:
        """Resolve Ordoclic's professional from an RPPS (by default the acting one's own)."""
        return self._call(
            rpps,
            "POST",
            contract.PROFESSIONAL_VALIDATE,
            json_body={"rpps": professional_rpps or rpps},
            parse=_model(Professional),
        )

    def professional_get(self, *, rpps: str, ref: str) -> Result[Professional]:
        """``ref``: Ordoclic's UUID or an RPPS."""
        path = contract.PROFESSIONAL.format(ref=ref)
        return self._call(rpps, "GET", path, parse=_model(Professional))

    def professional_activate(self, *, rpps: str, professional_id: str) -> Result[Professional]:
        path = contract.PROFESSIONAL_ACTIVATE.format(id=professional_id)
        return self._call(rpps, "POST", path, json_body={}, parse=_model(Professional))

    def professional_deactivate(
        self, *, rpps: str, professional_id: str, reason: str
    ) -> Result[Professional]:
        path = contract.PROFESSIONAL_DEACTIVATE.format(id=professional_id)
        return self._call(
            rpps, "POST", path, json_body={"reason": reason}, parse=_model(Professional)
        )

    def entity_create(self, *, rpps: str, name: str, admins: list[str]) -> Result[Entity]:
        body = {"name": name, "admins": admins}
        return self._call(rpps, "POST", contract.ENTITIES, json_body=body, parse=_model(Entity))

    def entity_add_professional(
        self, *, rpps: str, entity_id: str, professional_id: str
    ) -> Result[Entity]:
        path = contract.ENTITY_PROFESSIONALS.format(id=entity_id)
        body = {"professionalId": professional_id}
        return self._call(rpps, "POST", path, json_body=body, parse=_model(Entity))

    # --- assumed: drugs ------------------------------------------------------------------------

    def drug_search(
        self, *, rpps: str, text: str, page: int = 1, per_page: int = 20
    ) -> Result[Page[Drug]]:
        params: dict[str, str | int] = {"q": text, "page": page, "per_page": per_page}
        return self._call(rpps, "GET", contract.DRUGS, params=params, parse=_model(Page[Drug]))

    def drug_get(self, *, rpps: str, cis: str) -> Result[Drug]:
        return self._call(rpps, "GET", contract.DRUG.format(cis=cis), parse=_model(Drug))

    def drug_by_code(self, *, rpps: str, code: str) -> Result[Drug | None]:
        """The drug a CIS, CIP13 or UCD13 code designates; None when no drug has it."""
        return self._call(
            rpps, "GET", contract.DRUGS, params={"code": code}, parse=_first(Page[Drug])
        )

    # --- assumed: analysis and prescriptions ---------------------------------------------------

    def prescription_analyse(
        self, *, rpps: str, request: AnalysisRequest
    ) -> Result[AnalysisResult]:
        return self._call(
            rpps,
            "POST",
            contract.ANALYSIS,
            json_body=request,
            parse=_model(AnalysisResult),
        )

    def prescription_create(
        self, *, rpps: str, request: PrescriptionCreate, idempotency_key: str
    ) -> Result[RegisteredPrescription]:
        """Register a prescription. Pass the same ``idempotency_key`` on every attempt for the
        same submission: Ordoclic then answers a replay with the first registration."""
        return self._call(
            rpps,
            "POST",
            contract.PRESCRIPTIONS,
            json_body=request,
            headers={contract.IDEMPOTENCY_HEADER: idempotency_key},
            parse=_model(RegisteredPrescription),
        )

    def prescription_get(
        self, *, rpps: str, prescription_id: str
    ) -> Result[RegisteredPrescription]:
        path = contract.PRESCRIPTION.format(id=prescription_id)
        return self._call(rpps, "GET", path, parse=_model(RegisteredPrescription))

    def prescription_find_by_external_id(
        self, *, rpps: str, external_id: str
    ) -> Result[RegisteredPrescription | None]:
        """The prescription registered under our external id, or None (nothing registered)."""
        return self._call(
            rpps,
            "GET",
            contract.PRESCRIPTIONS,
            params={"externalId": external_id},
            parse=_first(Page[RegisteredPrescription]),
        )

    def prescription_status(self, *, rpps: str, prescription_id: str) -> Result[PrescriptionStatus]:
        path = contract.PRESCRIPTION_STATUS.format(id=prescription_id)
        return self._call(rpps, "GET", path, parse=_model(PrescriptionStatus))

    def prescription_cancel(
        self, *, rpps: str, prescription_id: str, reason: str, comment: str = ""
    ) -> Result[RegisteredPrescription]:
        path = contract.PRESCRIPTION_CANCEL.format(id=prescription_id)
        body = PrescriptionCancel(reason=reason, comment=comment)
        return self._call(rpps, "POST", path, json_body=body, parse=_model(RegisteredPrescription))

    # --- machinery -----------------------------------------------------------------------------

    def _call(
        self,
        rpps: str,
        method: str,
        path: str,
        *,
        parse: Callable[[Any], T],
        json_body: BaseModel | dict[str, Any] | None = None,
        params: dict[str, str | int] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Result[T]:
        def call() -> T:
            request = self._build(method, path, json_body=json_body, params=params)
            request.headers.update(headers or {})
            key = (rpps, self._entity_id)
            auth = OrdoclicAuth(key=key, cache=self._tokens, fetch=self._fetch_token)
            return parse(self._send(request, auth=auth))

        return self._guard(call)

    def _guard(self, call: Callable[[], T]) -> Result[T]:
        """The boundary: breaker first, then exceptions become values."""
        result: Result[T]
        if self._breaker is not None:
            wait = self._breaker.before_call()
            if wait is not None:
                return _to_result(CircuitOpenError(retry_after=wait))
        try:
            result = Ok(call())
        except OrdoclicError as exc:
            result = _to_result(exc)
        except Exception as exc:
            # A bug of ours must not take the caller down either; no traceback: its frames
            # hold patient data.
            logger.error("unexpected error in the Ordoclic client: %s", type(exc).__name__)
            result = Unavailable(
                f"unexpected client error ({type(exc).__name__})",
                sent=True,
                kind=UnavailableKind.CLIENT_ERROR,
            )
        if self._breaker is not None:
            match result:
                case Unavailable(reason=reason):
                    self._breaker.record_failure(reason)
                case _:
                    self._breaker.record_success()
        return result

    def _build(
        self,
        method: str,
        path: str,
        *,
        json_body: BaseModel | dict[str, Any] | None = None,
        params: dict[str, str | int] | None = None,
    ) -> httpx.Request:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        content: bytes | None = None
        if json_body is not None:
            if isinstance(json_body, BaseModel):
                content = json_body.model_dump_json(by_alias=True).encode()
            else:
                content = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        extra: dict[str, Any] = {} if self._timeout is None else {"timeout": self._timeout}
        return self._http.build_request(
            method, path, content=content, params=params, headers=headers, **extra
        )

    def _send(self, request: httpx.Request, *, auth: httpx.Auth | None = None) -> Any:
        """Send, read at most MAX_BODY_BYTES, and return the decoded JSON of a 2xx answer."""
        try:
            response = self._send_once(request, auth)
        except httpx.ConnectError:
            # Refused before anything was written: the only retry the client does itself.
            try:
                response = self._send_once(request, auth)
            except httpx.ConnectError as exc:
                raise APIConnectionError("connection refused", sent=False) from exc
        try:
            body = _read_capped(response)
        finally:
            response.close()
        if response.is_success:
            return _decode_json(body)
        raise _status_error(response, body)

    def _send_once(self, request: httpx.Request, auth: httpx.Auth | None) -> httpx.Response:
        try:
            return self._http.send(request, auth=auth, stream=True, follow_redirects=False)
        except httpx.ConnectError:
            raise
        except httpx.TimeoutException as exc:
            # Nothing was sent when the connection (or a pooled one) could not be had in time.
            sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            raise APITimeoutError(
                _timeout_reason(exc),
                sent=sent,
                kind=UnavailableKind.TIMEOUT if sent else UnavailableKind.CONNECT,
            ) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(
                _transport_reason(exc), sent=True, kind=UnavailableKind.CONNECTION_LOST
            ) from exc

    def _fetch_auth(self, key: TokenKey) -> AuthResponse:
        rpps, _entity = key
        try:
            body = auth_body(self._credentials, rpps=rpps)
        except (ValueError, TypeError) as exc:
            # A configuration problem, but the boundary never raises: nothing was sent.
            raise APIConnectionError(
                "the partner private key is unusable",
                sent=False,
                kind=UnavailableKind.CONFIGURATION,
            ) from exc
        return _model(AuthResponse)(self._send(self._build("POST", contract.AUTH, json_body=body)))

    def _fetch_token(self, key: TokenKey) -> tuple[str, float]:
        """A token for the call in progress. If none can be had, that call was not processed
        (never sent, or refused with a 401), whatever happened to the auth request itself."""
        try:
            answer = self._fetch_auth(key)
            return answer.token, token_expiry(answer.token)
        except APIConnectionError as exc:
            raise APIConnectionError(exc.message, sent=False, kind=exc.kind) from exc
        except InvalidResponseError as exc:
            raise APIConnectionError(
                exc.message, sent=False, kind=UnavailableKind.BAD_RESPONSE
            ) from exc
        except ServerError as exc:
            raise ServerError(
                exc.message, status=exc.status, retry_after=exc.retry_after, sent=False
            ) from exc


# --- parsing -----------------------------------------------------------------------------------


def _model(model: type[M]) -> Callable[[Any], M]:
    def parse(data: Any) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise InvalidResponseError(_shape_reason(model.__name__, exc)) from exc

    return parse


def _first(model: type[Page[M]]) -> Callable[[Any], M | None]:
    def parse(data: Any) -> M | None:
        page = _model(model)(data)
        return page.items[0] if page.items else None

    return parse


def _shape_reason(name: str, exc: ValidationError) -> str:
    # Locations and error types only: pydantic's own message quotes the input (health data).
    fields = ", ".join(
        ".".join(str(part) for part in error["loc"]) or "body" for error in exc.errors()[:3]
    )
    return f"malformed response: unexpected {name} ({fields})"


def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise InvalidResponseError("malformed response: body too large")
            chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise APITimeoutError(
            _timeout_reason(exc), sent=True, kind=UnavailableKind.TIMEOUT
        ) from exc
    except httpx.TransportError as exc:
        raise APIConnectionError(
            _transport_reason(exc), sent=True, kind=UnavailableKind.CONNECTION_LOST
        ) from exc
    return b"".join(chunks)


def _decode_json(body: bytes) -> Any:
    if not body.strip():
        raise InvalidResponseError("malformed response: empty body")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidResponseError("malformed response: not JSON") from exc


_error_body = TypeAdapter(contract.ErrorBody)
_alerts = TypeAdapter(list[AnalysisAlert])


def _status_error(response: httpx.Response, body: bytes) -> APIStatusError:
    status = response.status_code
    cls = status_error_class(status)
    data: Any = None
    try:
        data = json.loads(body) if body.strip() else None
    except (ValueError, RecursionError):
        data = None  # an error page in HTML: the status alone says enough
    errors: tuple[FieldError, ...] = ()
    details: dict[str, object] = {}
    if isinstance(data, dict):
        try:
            parsed = _error_body.validate_python(data)
            errors = tuple(FieldError(e.message, code=e.code, field=e.field) for e in parsed.errors)
        except ValidationError:
            errors = ()
        if "alerts" in data:
            try:
                details["alerts"] = _alerts.validate_python(data["alerts"])
            except ValidationError as exc:
                # These alerts are what the prescriber must decide on: never drop one silently.
                raise InvalidResponseError(_shape_reason("alerts", exc)) from exc
    retry_after = _retry_after(response.headers.get("Retry-After"))
    return cls(
        f"HTTP {status}", status=status, errors=errors, details=details, retry_after=retry_after
    )


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(seconds, 0.0)


def _timeout_reason(exc: httpx.TimeoutException) -> str:
    kinds = {
        httpx.ConnectTimeout: "connect timeout",
        httpx.ReadTimeout: "read timeout",
        httpx.WriteTimeout: "write timeout",
        httpx.PoolTimeout: "connection pool timeout",
    }
    return kinds.get(type(exc), "timeout")


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection dropped"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "connection lost"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    return f"network error ({type(exc).__name__})"


def _to_result(exc: OrdoclicError) -> Unavailable | Rejected:
    match exc:
        case CircuitOpenError(retry_after=retry_after):
            return Unavailable(
                CIRCUIT_OPEN, retry_after=retry_after, kind=UnavailableKind.BREAKER_OPEN
            )
        case APIConnectionError(sent=sent, kind=kind):
            return Unavailable(exc.message, sent=sent, kind=kind)
        case RateLimitError(retry_after=retry_after):
            return Unavailable(
                "rate limited (HTTP 429)",
                retry_after=retry_after,
                kind=UnavailableKind.RATE_LIMITED,
            )
        case ServerError(status=status, retry_after=retry_after, sent=sent):
            return Unavailable(
                f"server error (HTTP {status})",
                retry_after=retry_after,
                sent=sent,
                kind=UnavailableKind.SERVER_ERROR,
            )
        case APIStatusError(status=status, errors=errors, details=details):
            return Rejected(status=status, errors=errors, details=details)
        case InvalidResponseError():
            return Unavailable(exc.message, sent=True, kind=UnavailableKind.BAD_RESPONSE)
    return Unavailable(exc.message, sent=True, kind=UnavailableKind.CLIENT_ERROR)
