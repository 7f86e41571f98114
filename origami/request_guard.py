"""Refuses, before any view, the requests that the database or the decoder cannot take.

PostgreSQL refuses a NUL character in any text value, so a NUL typed (or injected) into any
field used to end as a 500 wherever the value reached a query. Django decodes a form body in
the charset its Content-Type declares, and a charset it does not know, or bytes that are not
what the charset says, also ended as a 500. Every view assumed clean text; this middleware makes
that true in one place:

- a NUL in the path, a query-string name or value, a form field name or value, or anywhere in a
  JSON body (raw or as the ``\\u0000`` escape) is a 400;
- a body declared in any charset but UTF-8, or a form or JSON body that is not valid UTF-8, is a
  400;
- a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413.

People get a short French message; Ordoclic's webhook gets its own JSON error format
(``{"errors": [{"code", "message", "field"}]}``), the one its view answers with.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import NoReverseMatch, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

NUL = "\x00"
# A JSON \u0000 escape, unless its backslash is itself escaped ("\\u0000" is six characters).
_JSON_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
WEBHOOK_URL_NAME = "prescriptions:ordoclic_webhook"


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str  # for people (French)
    machine_message: str  # for the webhook's JSON (its messages are English)


def _nul() -> Refusal:
    return Refusal(
        400,
        "nul_character",
        _(
            "La requête contient un caractère nul, qui ne peut pas être enregistré. "
            "Retirez-le et réessayez."
        ),
        "The request contains a NUL character.",
    )


def _undecodable() -> Refusal:
    return Refusal(
        400,
        "undecodable_body",
        _(
            "La requête n'est pas encodée en UTF-8 : elle ne peut pas être lue. "
            "Réessayez depuis le formulaire de l'application."
        ),
        "The body is not UTF-8.",
    )


def _malformed() -> Refusal:
    return Refusal(
        400,
        "malformed_body",
        _("La requête est mal formée : elle ne peut pas être lue."),
        "The body is malformed.",
    )


def _too_large() -> Refusal:
    return Refusal(
        413,
        "body_too_large",
        _("La requête est trop volumineuse pour être traitée."),
        "The body is too large.",
    )


def _has_nul(values: Iterable[str]) -> bool:
    return any(NUL in value for value in values)


def _charset_is_utf8(request: HttpRequest) -> bool:
    charset = request.content_params.get("charset") if request.content_params else None
    if charset is None:
        return True
    try:
        return codecs.lookup(charset).name in ("utf-8", "ascii")
    except LookupError:
        return False


def request_refusal(request: HttpRequest) -> Refusal | None:
    """Why this request cannot be handled, or None when it is clean."""
    if NUL in request.path_info:
        return _nul()
    for name, values in request.GET.lists():
        if NUL in name or _has_nul(values):
            return _nul()
    if not _charset_is_utf8(request):
        return _undecodable()
    content_type = request.content_type or ""
    is_form = content_type in _FORM_TYPES
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if not (is_form or is_json):
        return None
    try:
        body = request.body
        if is_json or content_type == _FORM_TYPES[0]:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return _undecodable()
            if NUL in text or (is_json and _JSON_NUL_ESCAPE.search(text)):
                return _nul()
        if is_form:
            for name, values in request.POST.lists():
                if NUL in name or _has_nul(str(v) for v in values):
                    return _nul()
            for name in request.FILES:
                if NUL in name:
                    return _nul()
    except RequestDataTooBig:
        return _too_large()
    except (UnicodeDecodeError, MultiPartParserError):
        return _undecodable()
    except SuspiciousOperation:  # too many fields or files
        return _malformed()
    return None


def _is_webhook(request: HttpRequest) -> bool:
    try:
        return request.path_info == reverse(WEBHOOK_URL_NAME)
    except NoReverseMatch:
        return False


class RequestGuardMiddleware:
    """Installed right after SecurityMiddleware: nothing downstream (CSRF, sessions, views)
    reads a request it has not checked."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = request_refusal(request)
        if refusal is None:
            return self.get_response(request)
        response: HttpResponse
        if _is_webhook(request):
            response = JsonResponse(
                {
                    "errors": [
                        {"code": refusal.code, "message": refusal.machine_message, "field": ""}
                    ]
                },
                status=refusal.status,
            )
        else:
            response = HttpResponse(
                refusal.message,
                status=refusal.status,
                content_type="text/plain; charset=utf-8",
            )
        add_never_cache_headers(response)
        return response
