"""Reads about accounts, practitioners and exercise contexts."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest

from .models import ExerciseContext, Practitioner, Role

# Session key holding the id of the exercise context chosen for this session.
EXERCISE_CONTEXT_SESSION_KEY = "origami_exercise_context_id"


def practitioner_for_user(*, user: Any) -> Practitioner | None:
    """The practitioner record of a prescriber account, or None."""
    if not user.is_authenticated or user.role != Role.PRESCRIBER:
        return None
    try:
        return Practitioner.objects.select_related("user").get(user=user)
    except Practitioner.DoesNotExist:
        return None


def exercise_contexts_for(*, practitioner: Practitioner) -> QuerySet[ExerciseContext]:
    """The active exercise contexts of a practitioner, the last used one first."""
    contexts = ExerciseContext.objects.filter(practitioner=practitioner, is_active=True)
    return contexts.annotate(
        is_last=Case(
            When(pk=practitioner.last_exercise_context_id, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("-is_last", "name")


def practitioner_for_request(request: HttpRequest) -> Practitioner | None:
    """`practitioner_for_user` for the request's user, read once per request: through
    ``user.practitioner``, which Django caches on the request's user object (the permission
    check reads it too)."""
    user: Any = request.user
    if not user.is_authenticated or user.role != Role.PRESCRIBER:
        return None
    try:
        return cast(Practitioner, user.practitioner)
    except Practitioner.DoesNotExist:
        return None


# Attribute of the request holding its prescriber's active contexts, read once per request.
_ACTIVE_CONTEXTS_ATTRIBUTE = "_origami_active_exercise_contexts"


def active_exercise_contexts(request: HttpRequest) -> list[ExerciseContext]:
    """`exercise_contexts_for` the request's prescriber (last used first), read once per
    request: the top bar of every render, partials included, and the views share it."""
    cached: list[ExerciseContext] | None = getattr(request, _ACTIVE_CONTEXTS_ATTRIBUTE, None)
    if cached is not None:
        return cached
    practitioner = practitioner_for_request(request)
    contexts = (
        [] if practitioner is None else list(exercise_contexts_for(practitioner=practitioner))
    )
    for context in contexts:
        context.practitioner = practitioner  # type: ignore[assignment]
    setattr(request, _ACTIVE_CONTEXTS_ATTRIBUTE, contexts)
    return contexts


def current_exercise_context(request: HttpRequest) -> ExerciseContext | None:
    """The exercise context the prescriber works in for this session, or None when it must be
    asked first.

    - the context chosen in this session, if it is still active and the user's own;
    - otherwise, when the practitioner has exactly one active context, that one (chosen
      automatically and stored in the session);
    - otherwise None: with several contexts the prescriber picks one (never guessed, not even
      from the last used one, which the chooser only lists first).
    Views that need a context use `exercise_context_required` (practitioners.views). Reads
    nothing once `active_exercise_contexts` was read for the request.
    """
    contexts = active_exercise_contexts(request)
    chosen_id = request.session.get(EXERCISE_CONTEXT_SESSION_KEY)
    if chosen_id is not None:
        for context in contexts:
            if context.pk == chosen_id:
                return context
        request.session.pop(EXERCISE_CONTEXT_SESSION_KEY, None)
    if len(contexts) == 1:
        request.session[EXERCISE_CONTEXT_SESSION_KEY] = contexts[0].pk
        return contexts[0]
    return None


# The Ordoclic currency check lives with the link service (practitioners/ordoclic.py); it is a
# read, so it is offered here too, where the prescription services look for it.
from .ordoclic import practitioner_ordoclic_current  # noqa: E402, F401
