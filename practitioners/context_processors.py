"""What the top bar shows of the prescriber's session: the current exercise context and the
other ones to switch to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import current_exercise_context, exercise_contexts_for, practitioner_for_user


def exercise_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    practitioner = practitioner_for_user(user=user)
    if practitioner is None:
        return {}
    return {
        "current_practitioner": practitioner,
        "current_exercise_context": current_exercise_context(request),
        "exercise_contexts": list(exercise_contexts_for(practitioner=practitioner)),
    }
