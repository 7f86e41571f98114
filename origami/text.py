"""How long free text may be, in one place for every app's forms and services.

The server is the guard (a form's `maxlength` is only a courtesy: anything can be posted), and
its refusal never quotes what was typed beyond a short excerpt: a 5,000-character paste must
not come back whole in an error message, nor reach a log line."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _

# Characters, after the surrounding spaces are stripped.
TEXT_LIMITS: dict[str, int] = {
    "posology": 200,  # a quick entry: "1 cp matin midi soir 5j"
    "quantity": 64,  # PrescriptionLine.quantity
    "instructions": 300,  # printed as one sentence under the line
    "justification": 1000,  # why an alert is maintained
    "cancellation_comment": 500,
    "search": 100,  # drug and patient searches
    "lookup_number": 100,  # a unique number read out on the phone, with its spaces
    "reveal_reason": 500,
    "journal_prescription": 64,
    "journal_user": 150,
}
EXCERPT_LENGTH = 40


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """The start of what was typed, to quote it in a message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def length_error(value: str, *, limit: str, what: str | Promise) -> str | None:
    """A French message when `value` is longer than the limit named `limit`, else None."""
    maximum = TEXT_LIMITS[limit]
    count = len(value.strip())
    if count <= maximum:
        return None
    return _(
        "%(what)s : %(max)s caractères au plus (%(count)s saisis) ; raccourcissez le texte."
    ) % {
        "what": what,
        "max": number_format(maximum, force_grouping=True),
        "count": number_format(count, force_grouping=True),
    }


def limits(request: HttpRequest) -> dict[str, Any]:
    """Template context: `limits.posology` and the others, for the inputs' `maxlength`."""
    return {"limits": TEXT_LIMITS}
