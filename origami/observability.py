"""Structured logs that carry request and prescription ids, never patient identity.

`RequestIdMiddleware` gives every request an id (taken from `X-Request-ID` when a proxy set a sane
one), puts it in a context variable and in the response header. `ContextFilter` copies the ids
into every log record; `KeyValueFormatter` writes `key=value` lines a log shipper can parse.
Code that works on a prescription tags it with `bind_prescription(id)`.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from .scrubbing import patient_names_var, scrub_text, scrub_values

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
prescription_id_var: ContextVar[str] = ContextVar("prescription_id", default="-")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        # The patients read during this request, for the scrubbing of logs and Sentry events.
        names_token = patient_names_var.set(())
        try:
            response = self.get_response(request)
        finally:
            patient_names_var.reset(names_token)
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


@contextmanager
def bind_prescription(prescription_id: object) -> Iterator[None]:
    """Tag the log lines written inside the block with a prescription id (never a name)."""
    token = prescription_id_var.set(str(prescription_id))
    try:
        yield
    finally:
        prescription_id_var.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.prescription_id = prescription_id_var.get()
        return True


class ScrubFilter(logging.Filter):
    """Patient data out of every log record by value (NIR/INS, dates, the names of the patients
    read in this request or task): the message and its arguments. Arguments are scrubbed one by
    one rather than formatted here, so the formatter still decides how an exception argument is
    written (its type only)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub_text(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: _scrub_arg(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_scrub_arg(v) for v in record.args)
        return True


def _scrub_arg(value: object) -> object:
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str | dict | list | tuple):
        return scrub_values(value)
    if isinstance(value, BaseException):
        return value  # the formatter writes its type only
    return scrub_text(str(value))


class KeyValueFormatter(logging.Formatter):
    """One line per record: `time level logger request_id prescription_id msg="…"`."""

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.args, dict) and "exc" in record.args:
            # Celery's task failure lines fill "%(exc)s" with the exception's repr: its message
            # may quote patient data. The type only, as below.
            record = logging.makeLogRecord(record.__dict__)
            record.args = {**record.args, "exc": _exc_name(record)}  # type: ignore[dict-item]
        message = record.getMessage().replace('"', "'").replace("\n", " ")
        line = (
            f"{self.formatTime(record)} level={record.levelname} logger={record.name} "
            f"request_id={getattr(record, 'request_id', '-')} "
            f"prescription_id={getattr(record, 'prescription_id', '-')} "
            f'msg="{message}"'
        )
        if record.exc_info:
            # The exception type and place only: exception messages may quote patient data.
            exc_type = _exc_name(record)
            tb = record.exc_info[2]
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
            line += f" exc={exc_type} at={where}"
        return line


def _exc_name(record: logging.LogRecord) -> str:
    if record.exc_info and record.exc_info[0] is not None:
        return record.exc_info[0].__name__
    return "Exception"
