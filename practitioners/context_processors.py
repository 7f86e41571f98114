"""What the top bar shows of the prescriber's session: the current exercise context and the
other ones to switch to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import active_exercise_contexts, current_exercise_context, practitioner_for_request


def exercise_context(request: HttpRequest) -> dict[str, Any]:
    """Run at every render, partials included: the reads are made once per request (cached on
    the request and its user by the selectors)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    practitioner = practitioner_for_request(request)
    if practitioner is None:
        return {}
    return {
        "current_practitioner": practitioner,
        "current_exercise_context": current_exercise_context(request),
        "exercise_contexts": active_exercise_contexts(request),
    }
