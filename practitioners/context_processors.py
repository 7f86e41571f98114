"""What the top bar shows of the prescriber's session: the current exercise context and the
other ones to switch to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import active_exercise_contexts, current_exercise_context, practitioner_for_request


def exercise_context(request: HttpRequest) -> dict[str, Any]:
    """Run at every render, partials included: the contexts are read once per request (cached
    on the request by the selectors), and only by a render that shows them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    practitioner = practitioner_for_request(request)
    if practitioner is None:
        return {}
    # Read when a template asks (the top bar of a whole page), not for a partial that does not.
    return {
        "current_practitioner": practitioner,
        "current_exercise_context": lambda: current_exercise_context(request),
        "exercise_contexts": lambda: active_exercise_contexts(request),
    }
