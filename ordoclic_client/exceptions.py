"""The client's internal exception tree.

These never leave :class:`~ordoclic_client.client.OrdoclicClient`: its public methods convert them
into :mod:`ordoclic_client.results` values at the boundary. They exist so that the code between
the transport and that boundary can stop early with a precise cause, raised ``from`` the httpx
error that produced it.

Messages never quote a request or response body: bodies carry health data.
"""

from __future__ import annotations

from typing import Any

from ordoclic_client.results import FieldError, UnavailableKind


class OrdoclicError(Exception):
    """Base of everything the client raises internally."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIConnectionError(OrdoclicError):
    """No usable answer came back from the network.

    ``sent`` is True when the request may have reached Ordoclic (the connection dropped after
    the request was written, a read timeout): the caller must look the outcome up before sending
    again.
    """

    def __init__(
        self, message: str, *, sent: bool, kind: UnavailableKind = UnavailableKind.CONNECT
    ) -> None:
        super().__init__(message)
        self.sent = sent
        self.kind = kind


class APITimeoutError(APIConnectionError):
    """A connect, write, read or pool timeout; ``sent`` tells which side of the request it hit."""


class APIStatusError(OrdoclicError):
    """Ordoclic answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        errors: tuple[FieldError, ...] = (),
        details: dict[str, object] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors
        self.details = details or {}
        self.retry_after = retry_after


class ClientError(APIStatusError):
    """A 4xx answer: the request itself is wrong or not allowed."""


class BadRequestError(ClientError):
    """400."""


class AuthenticationError(ClientError):
    """401: the signed assertion or the token was refused (twice, after one refresh)."""


class PermissionDeniedError(ClientError):
    """403."""


class NotFoundError(ClientError):
    """404."""


class ConflictError(ClientError):
    """409: e.g. an idempotency key reused with another body."""


class UnprocessableEntityError(ClientError):
    """422: e.g. a registration refused because of unacknowledged alerts."""


class RateLimitError(ClientError):
    """429: Ordoclic asks us to slow down; temporary, unlike the other 4xx."""


class ServerError(APIStatusError):
    """A 5xx answer. ``sent`` is True when it answered the call itself (which may have been
    processed), False when it answered the token request that had to come first."""

    def __init__(self, message: str, *, sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.sent = sent


class InvalidResponseError(OrdoclicError):
    """The answer could not be used: not JSON, wrong shape, too large, missing token claims."""


class CircuitOpenError(OrdoclicError):
    """The breaker refused the call without sending it."""

    def __init__(self, *, retry_after: float | None) -> None:
        super().__init__("circuit open")
        self.retry_after = retry_after


_STATUS_ERRORS: dict[int, type[ClientError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The exception class for an error status (>= 400)."""
    if status >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status, ClientError)
