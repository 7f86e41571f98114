"""Screens to prescribe faster: keeping a line as a favourite, inserting a protocol, saving a draft
as a protocol, renewing a past prescription, and "Favoris et protocoles", where a prescriber
renames and deletes them and writes a protocol from scratch."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from practitioners.models import ExerciseContext
from practitioners.permissions import UserRequest, prescriber_required
from practitioners.selectors import active_exercise_contexts, current_exercise_context

from .. import ordoclic
from ..access import prescription_get_for
from ..drugs.catalogue import DrugChoice, drug_choice_for_code
from ..errors import PrescriptionError
from ..models import NonSubstitutableReason, PrescriptionLine, ProtocolLine
from . import favourites
from .renewal import prescription_renew
from .views import line_input, render_editor, version_posted


def _own_context(request: UserRequest, field: str = "shared_context") -> ExerciseContext | None:
    """The exercise context a form names, if it is one of the prescriber's active ones."""
    value = request.POST.get(field, "")
    if not value.isdigit():
        return None
    return ExerciseContext.objects.filter(
        pk=int(value), practitioner__user=request.user, is_active=True
    ).first()


def _redirect(request: UserRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- on the prescription screen -----------------------------------------------------------------


@require_POST
@prescriber_required
def favourite_from_line(request: UserRequest, pk: int, line_id: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    line = get_object_or_404(PrescriptionLine, pk=line_id, prescription=prescription)
    favourite = favourites.favourite_create_from_line(line=line, acting_user=request.user)
    return render_editor(
        request,
        prescription,
        changed=False,
        notice=_("« %(name)s » est dans vos favoris : il vient en tête de la recherche.")
        % {"name": favourite.name},
    )


@require_POST
@prescriber_required
def protocol_insert(request: UserRequest, pk: int, protocol_id: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    protocol = favourites.protocol_get_for(user=request.user, pk=protocol_id)
    try:
        favourites.prescription_protocol_insert(
            prescription=prescription,
            acting_user=request.user,
            version=version_posted(request),
            protocol=protocol,
        )
    except PrescriptionError as error:
        prescription.refresh_from_db()
        return render_editor(request, prescription, changed=False, error=error.message)
    prescription.refresh_from_db()
    return render_editor(
        request,
        prescription,
        changed=True,
        focus_search=True,
        notice=_("Protocole « %(name)s » ajouté.") % {"name": protocol.name},
    )


@require_POST
@prescriber_required
def protocol_from_draft(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    try:
        protocol = favourites.protocol_create(
            acting_user=request.user,
            name=request.POST.get("name", ""),
            shared_context=_own_context(request),
            from_prescription=prescription,
        )
    except PrescriptionError as error:
        return render_editor(
            request,
            prescription,
            changed=False,
            error=error.message,
            protocol_form=request.POST,
        )
    return render_editor(
        request,
        prescription,
        changed=False,
        notice=_("Protocole « %(name)s » enregistré.") % {"name": protocol.name},
    )


@require_POST
@prescriber_required
def renew(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk)
    try:
        new = prescription_renew(
            prescription=prescription,
            acting_user=request.user,
            exercise_context=current_exercise_context(request),
        )
    except PrescriptionError as error:
        messages.error(request, error.message)
        return _redirect(request, reverse("prescriptions:detail", kwargs={"pk": prescription.pk}))
    return _redirect(request, reverse("prescriptions:detail", kwargs={"pk": new.pk}))


# --- "Favoris et protocoles" --------------------------------------------------------------------


def _manage_context(request: UserRequest, **extra: Any) -> dict[str, Any]:
    contexts = active_exercise_contexts(request)  # read once per request, the top bar's too
    context: dict[str, Any] = {
        "favourites": list(favourites.favourites_for(user=request.user)),
        "protocols": list(favourites.protocols_visible_to(user=request.user, contexts=contexts)),
        "contexts": contexts,
        "error": "",
        "form": {},
    }
    context.update(extra)
    return context


@require_GET
@prescriber_required
def manage(request: UserRequest) -> HttpResponse:
    return render(request, "prescriptions/favourites.html", _manage_context(request))


def _manage_render(request: UserRequest, **extra: Any) -> HttpResponse:
    context = _manage_context(request, **extra)
    if request.htmx:
        return render(request, "prescriptions/favourites.html#shortcuts", context)
    if extra.get("error"):
        return render(request, "prescriptions/favourites.html", context, status=200)
    return redirect("prescriptions:favourites")


@require_POST
@prescriber_required
def favourite_rename(request: UserRequest, favourite_id: int) -> HttpResponse:
    favourite = favourites.favourite_get_for(user=request.user, pk=favourite_id)
    try:
        favourites.favourite_rename(
            favourite=favourite, acting_user=request.user, name=request.POST.get("name", "")
        )
    except PrescriptionError as error:
        return _manage_render(request, error=error.message)
    return _manage_render(request, notice=_("Favori renommé."))


@require_POST
@prescriber_required
def favourite_delete(request: UserRequest, favourite_id: int) -> HttpResponse:
    favourite = favourites.favourite_get_for(user=request.user, pk=favourite_id)
    favourites.favourite_delete(favourite=favourite, acting_user=request.user)
    return _manage_render(request, notice=_("Favori supprimé."))


@require_POST
@prescriber_required
def protocol_create(request: UserRequest) -> HttpResponse:
    try:
        protocol = favourites.protocol_create(
            acting_user=request.user,
            name=request.POST.get("name", ""),
            shared_context=_own_context(request),
        )
    except PrescriptionError as error:
        return _manage_render(request, error=error.message, form=request.POST)
    return _redirect(
        request, reverse("prescriptions:protocol", kwargs={"protocol_id": protocol.pk})
    )


def _protocol_context(request: UserRequest, protocol_id: int, **extra: Any) -> dict[str, Any]:
    protocol = favourites.protocol_get_for(user=request.user, pk=protocol_id)
    context: dict[str, Any] = {
        "protocol": protocol,
        "lines": list(protocol.lines.order_by("position", "pk")),
        "may_change": protocol.practitioner.user_id == request.user.pk,
        "contexts": active_exercise_contexts(request),
        "reasons": NonSubstitutableReason.choices,
        "line_form": {},
        "line_errors": {},
        "error": "",
    }
    context.update(extra)
    return context


@require_GET
@prescriber_required
def protocol_detail(request: UserRequest, protocol_id: int) -> HttpResponse:
    return render(request, "prescriptions/protocol.html", _protocol_context(request, protocol_id))


def _protocol_render(request: UserRequest, protocol_id: int, **extra: Any) -> HttpResponse:
    context = _protocol_context(request, protocol_id, **extra)
    if request.htmx:
        return render(request, "prescriptions/protocol.html#protocol_editor", context)
    if extra.get("error"):
        return render(request, "prescriptions/protocol.html", context)
    return redirect("prescriptions:protocol", protocol_id=protocol_id)


@require_POST
@prescriber_required
def protocol_update(request: UserRequest, protocol_id: int) -> HttpResponse:
    protocol = favourites.protocol_get_for(user=request.user, pk=protocol_id, for_change=True)
    try:
        favourites.protocol_update(
            protocol=protocol,
            acting_user=request.user,
            name=request.POST.get("name", ""),
            shared_context=_own_context(request),
        )
    except PrescriptionError as error:
        return _protocol_render(request, protocol_id, error=error.message)
    return _protocol_render(request, protocol_id, notice=_("Protocole enregistré."))


@require_POST
@prescriber_required
def protocol_delete(request: UserRequest, protocol_id: int) -> HttpResponse:
    protocol = favourites.protocol_get_for(user=request.user, pk=protocol_id, for_change=True)
    favourites.protocol_delete(protocol=protocol, acting_user=request.user)
    messages.success(request, _("Protocole « %(name)s » supprimé.") % {"name": protocol.name})
    return _redirect(request, reverse("prescriptions:favourites"))


@require_GET
@prescriber_required
def protocol_drug_search(request: UserRequest, protocol_id: int) -> HttpResponse:
    protocol = favourites.protocol_get_for(user=request.user, pk=protocol_id, for_change=True)
    text = request.GET.get("q", "").strip()[:100]
    drugs: list[dict[str, Any]] = []
    error = ""
    if len(text) >= 2:
        try:
            found = ordoclic.drugs_search(rpps=protocol.practitioner.rpps, text=text, per_page=12)
        except PrescriptionError as refusal:
            error = refusal.message
        else:
            drugs = [{"choice": DrugChoice.from_drug(d), "drug": d} for d in found]
    return render(
        request,
        "prescriptions/screen.html#drug_results",
        {"drugs": drugs, "query": text, "search_error": error},
    )


@require_POST
@prescriber_required
def protocol_line_add(request: UserRequest, protocol_id: int) -> HttpResponse:
    protocol = favourites.protocol_get_for(user=request.user, pk=protocol_id, for_change=True)
    try:
        drug = drug_choice_for_code(
            rpps=protocol.practitioner.rpps, code=request.POST.get("drug_code", "")
        )
        favourites.protocol_line_add(
            protocol=protocol, acting_user=request.user, drug=drug, data=line_input(request)
        )
    except PrescriptionError as error:
        return _protocol_render(
            request,
            protocol_id,
            error=error.message,
            line_form=request.POST,
            line_errors={error.field or "form": error.message},
        )
    return _protocol_render(request, protocol_id, focus_search=True)


@require_POST
@prescriber_required
def protocol_line_remove(request: UserRequest, protocol_id: int, line_id: int) -> HttpResponse:
    protocol = favourites.protocol_get_for(user=request.user, pk=protocol_id, for_change=True)
    line = get_object_or_404(ProtocolLine, pk=line_id, protocol=protocol)
    favourites.protocol_line_remove(line=line, acting_user=request.user)
    return _protocol_render(request, protocol_id)
