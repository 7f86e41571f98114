"""The prescriber's exercise context for the session: chooser page and top-bar switcher."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from origami.http import safe_next_url

from .models import ExerciseContext, Practitioner, User
from .permissions import prescriber_required
from .selectors import (
    EXERCISE_CONTEXT_SESSION_KEY,
    active_exercise_contexts,
    current_exercise_context,
    practitioner_for_request,
)
from .services import exercise_context_choose

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def exercise_context_required(view: ViewFunc) -> ViewFunc:
    """For prescriber views that act in an exercise context (put it under
    `prescriber_required`). Sets `request.exercise_context`; when the prescriber has several
    contexts and has not chosen one in this session, sends them to the chooser first."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        context = current_exercise_context(request)
        if context is None:
            url = reverse("practitioners:exercise_context") + "?next=" + request.get_full_path()
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(url)
            return HttpResponseRedirect(url)
        request.exercise_context = context  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return cast(ViewFunc, wrapped)


def exercise_context_use(
    request: HttpRequest, *, practitioner: Practitioner, exercise_context_id: int
) -> ExerciseContext:
    """The prescriber works in this context for the rest of the session (and it is remembered as
    the last used). ValidationError when it is not one of their active contexts."""
    chosen = exercise_context_choose(
        practitioner=practitioner,
        exercise_context_id=exercise_context_id,
        acting_user=cast(User, request.user),
    )
    request.session[EXERCISE_CONTEXT_SESSION_KEY] = chosen.pk
    return chosen


@prescriber_required
@require_http_methods(["GET", "POST"])
def exercise_context(request: HttpRequest) -> HttpResponse:
    """GET: the list of the prescriber's contexts (last used first). POST `exercise_context`:
    work in that one for this session, then go back where the prescriber was."""
    practitioner = practitioner_for_request(request)
    assert practitioner is not None  # prescriber_required guarantees it
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    contexts = active_exercise_contexts(request)
    error = ""
    if request.method == "POST":
        try:
            chosen = exercise_context_use(
                request,
                practitioner=practitioner,
                exercise_context_id=int(request.POST.get("exercise_context", "0")),
            )
        except (ValueError, ValidationError):
            error = _("Ce lieu d'exercice n'est pas disponible pour votre compte.")
        else:
            messages.success(
                request, _("Vous prescrivez maintenant depuis : %(name)s.") % {"name": chosen.name}
            )
            return redirect(safe_next_url(request, next_url))
    status = 400 if error else 200
    return render(
        request,
        "practitioners/exercise_context.html",
        {
            "contexts": contexts,
            "current": current_exercise_context(request),
            "next": next_url,
            "error": error,
            "last_used_id": practitioner.last_exercise_context_id,
        },
        status=status,
    )
