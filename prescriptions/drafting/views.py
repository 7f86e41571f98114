"""The prescriber's screens while writing: the prescription being written (lines, live
analysis, decisions), "Mes ordonnances" and the patient's prescriptions."""

from __future__ import annotations

from functools import cache, partial
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from origami.patients.models import Patient
from origami.text import excerpt, length_error
from practitioners.models import ExerciseContext
from practitioners.permissions import UserRequest, prescriber_required
from practitioners.selectors import (
    active_exercise_contexts,
    current_exercise_context,
    exercise_contexts_for,
    practitioner_for_request,
)
from practitioners.views import exercise_context_use

from ..access import prescription_get_for
from ..drugs.catalogue import DrugChoice, drug_choice_for_code, drug_presentation, drugs_find
from ..errors import PrescriptionError
from ..live import any_moving, poll_delay, polls_asked
from ..models import Alert, NonSubstitutableReason, Prescription, PrescriptionLine, Protocol
from . import favourites, services
from .preview import drug_preview as drug_preview_for
from .selectors import (
    LIST_FILTERS,
    prescription_history_for_patient,
    prescription_list_for,
    prescription_screen,
    recent_patients_for,
)

DRAFT_CHANGED = "draft-changed"


def version_posted(request: UserRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return 0


def _screen_context(
    request: UserRequest, prescription: Prescription, **extra: Any
) -> dict[str, Any]:
    # The patient came with the prescription; its record is read once, in four queries.
    patient = prescription.patient
    prefetch_related_objects([patient], "allergies", "alds", "current_treatments", "pathologies")
    account_current = prescription.prescriber.ordoclic_link_status == "linked"
    screen = prescription_screen(prescription=prescription, account_current=account_current)
    context: dict[str, Any] = {
        "screen": screen,
        "account_current": account_current,
        "prescription": prescription,
        "patient": patient,
        # read when the editor is drawn (not for the analysis alone)
        "contexts": cache(partial(_contexts_of, request, prescription)),
        "line_form": {},
        "line_errors": {},
        "edit_errors": {},
        "editing": 0,
        "error": "",
        "reasons": NonSubstitutableReason.choices,
        "notice": "",
        "protocol_form": {},
    }
    if prescription.is_draft:
        context["protocols"] = cache(partial(_protocols_for, request))
    context.update(extra)
    return context


def _contexts_of(request: UserRequest, prescription: Prescription) -> list[ExerciseContext]:
    """The places of practice the prescription may name: the prescriber's own contexts, as read
    for the top bar (once per request)."""
    own = practitioner_for_request(request)
    if own is not None and own.pk == prescription.prescriber_id:
        return active_exercise_contexts(request)
    return list(exercise_contexts_for(practitioner=prescription.prescriber))


def _protocols_for(request: UserRequest) -> list[Protocol]:
    return list(
        favourites.protocols_visible_to(
            user=request.user, contexts=active_exercise_contexts(request)
        )
    )


def _workspace(request: UserRequest, context: dict[str, Any], *, main: str) -> HttpResponse:
    """The whole screen as the server has it: the editor and the analysis, ``main`` swapped into
    the request's target and the other out of band. A refusal, or a draft changed elsewhere,
    never leaves this tab showing content other than what would be signed. The message goes
    where the user was looking (``main``) only."""
    other = "analysis" if main == "editor" else "editor"
    response = render(request, f"prescriptions/screen.html#{main}", context)
    beside = render_to_string(
        f"prescriptions/screen.html#{other}",
        {**context, f"{other}_oob": True, "error": "", "oob": False},
        request=request,
    )
    response.content += beside.encode()
    return response


def render_editor(
    request: UserRequest, prescription: Prescription, *, changed: bool, **extra: Any
) -> HttpResponse:
    context = _screen_context(request, prescription, **extra)
    if request.htmx and extra.get("error"):
        return _workspace(request, context, main="editor")
    if request.htmx:
        response = render(request, "prescriptions/screen.html#editor", context)
        if extra.get("context_switched"):  # the top bar says the place of practice chosen
            response.content += render_to_string(
                "origami/_context_switcher.html", {**context, "swap_oob": True}, request=request
            ).encode()
        if changed:
            # After the swap: the analysis asks for the version the editor now shows.
            trigger_client_event(response, DRAFT_CHANGED, after="settle")
        return response
    if extra.get("error"):
        return render(request, "prescriptions/screen.html", context)
    return redirect("prescriptions:detail", pk=prescription.pk)


@require_GET
@prescriber_required
def prescription_list(request: UserRequest) -> HttpResponse:
    filter_name = request.GET.get("filtre", "")
    if filter_name not in LIST_FILTERS:
        filter_name = ""
    query = request.GET.get("q", "").strip()[:100]
    prescriptions = list(
        prescription_list_for(
            user=request.user, filter_name=filter_name, query=query
        ).prefetch_related("lines")[:200]
    )
    polls = polls_asked(request.GET.get("n", ""))
    context = {
        "prescriptions": prescriptions,
        # follows the rows on their way to Ordoclic without a reload (prescriptions/live.py)
        "live_delay": poll_delay(polls) if any_moving(prescriptions) else None,
        "live_polls": polls + 1,
        "filter_name": filter_name,
        "query": query,
        "filters": [
            ("drafts", _("Brouillons")),
            ("sent", _("Envoyées")),
            ("attention", _("À traiter")),
            ("cancelled", _("Annulées")),
        ],
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "prescriptions/list.html#results", context)
    return render(request, "prescriptions/list.html", context)


@require_POST
@prescriber_required
def prescription_create(request: UserRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    practitioner = request.user.practitioner  # type: ignore[union-attr]
    prescription = services.prescription_create_draft(
        patient=patient,
        prescriber=practitioner,
        acting_user=request.user,
        exercise_context=current_exercise_context(request),
    )
    url = reverse("prescriptions:detail", kwargs={"pk": prescription.pk})
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def draft_screen(request: UserRequest, prescription: Prescription) -> HttpResponse:
    """The page of a draft (the prescription's page while it is written). A line's "Modifier"
    form is fetched when it is opened (`line_edit`); ``?modifier=<line>`` draws that line's
    form open, for a browser without scripts."""
    try:
        editing = int(request.GET.get("modifier", ""))
    except ValueError:
        editing = 0
    return render(
        request,
        "prescriptions/screen.html",
        _screen_context(request, prescription, editing=editing),
    )


@require_GET
@prescriber_required
def line_edit(request: UserRequest, pk: int, line_id: int) -> HttpResponse:
    """The form of a line's "Modifier", as the line is now."""
    prescription, line = _line_for(request, pk, line_id)
    url = reverse("prescriptions:detail", args=[prescription.pk])
    if not prescription.is_draft:  # signed meanwhile, in another tab: its page says so
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if not request.htmx:
        return redirect(f"{url}?modifier={line.pk}#line-{line.pk}")
    return render(
        request,
        "prescriptions/screen.html#line_edit_form",
        {
            "prescription": prescription,
            "line": line,
            "failed": None,
            "reasons": NonSubstitutableReason.choices,
        },
    )


@require_POST
@prescriber_required
def draft_watch(request: UserRequest, pk: int) -> HttpResponse:
    """The screen's poll: nothing (204) while the draft is the version this tab shows; else the
    whole screen as it is now, saying so, with what was being typed in "add a drug" kept; the
    prescription's page once it was signed elsewhere."""
    prescription = prescription_get_for(user=request.user, pk=pk)
    if not prescription.is_draft:
        return HttpResponseClientRedirect(reverse("prescriptions:detail", args=[prescription.pk]))
    try:
        shown = int(request.POST.get("shown", ""))
    except ValueError:
        shown = 0
    if shown == prescription.version:
        return HttpResponse(status=204)
    context = _screen_context(request, prescription, changed_elsewhere=True, line_form=request.POST)
    return _workspace(request, context, main="editor")


@require_GET
@prescriber_required
def drug_preview(request: UserRequest, pk: int) -> HttpResponse:
    """The alerts the picked drug would raise, shown before its posology is typed."""
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    preview = None
    code = request.GET.get("drug_code", "").strip()[:20]
    if code:
        try:
            drug = drug_choice_for_code(rpps=prescription.prescriber.rpps, code=code)
        except PrescriptionError:
            drug = None  # the line's own check says why when it is added
        if drug is not None:
            preview = drug_preview_for(prescription=prescription, drug=drug)
    return render(
        request,
        "prescriptions/screen.html#drug_preview",
        {"preview": preview, "prescription": prescription},
    )


@require_GET
@prescriber_required
def drug_search(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    text = request.GET.get("q", "").strip()
    drugs: list[dict[str, Any]] = []
    error = length_error(text, limit="search", what=_("La recherche")) or ""
    kept: dict[str, Any] = {"favourites": [], "protocols": []}
    offline = False
    if error:
        text = excerpt(text)
    elif len(text) >= 2:
        # The prescriber's own favourites and protocols first: they answer even when Ordoclic
        # does not.
        kept = {
            "favourites": favourites.favourites_matching(user=request.user, text=text),
            "protocols": favourites.protocols_matching(
                user=request.user, text=text, contexts=active_exercise_contexts(request)
            ),
        }
        try:
            found = drugs_find(rpps=prescription.prescriber.rpps, text=text, limit=12)
        except PrescriptionError as refusal:  # the query refused
            error = refusal.message
        else:
            offline = found.offline
            drugs = [
                {
                    "choice": DrugChoice.from_drug(d, verified=not offline),
                    "drug": d,
                    "presentation": drug_presentation(d),
                }
                for d in found.drugs
            ]
    return render(
        request,
        "prescriptions/screen.html#drug_results",
        {
            "drugs": drugs,
            "query": text,
            "search_error": error,
            "offline": offline,
            "prescription": prescription,
            **kept,
        },
    )


def line_input(request: UserRequest) -> services.LineInput:
    try:
        renewals = int(request.POST.get("renewals") or 0)
    except ValueError:
        renewals = -1
    return services.LineInput(
        posology=request.POST.get("posology", ""),
        quantity=request.POST.get("quantity", ""),
        renewals=renewals,
        non_substitutable=request.POST.get("non_substitutable") == "on",
        non_substitutable_reason=request.POST.get("non_substitutable_reason", ""),
        ald=request.POST.get("ald") == "on",
        instructions=request.POST.get("instructions", ""),
        non_reimbursable=request.POST.get("non_reimbursable") == "on",
        conditions_confirmed=request.POST.get("conditions_confirmed") == "on",
        overlap_allowed=request.POST.get("overlap_allowed") == "on",
    )


@require_POST
@prescriber_required
def line_add(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    try:
        drug = drug_choice_for_code(
            rpps=prescription.prescriber.rpps,
            code=request.POST.get("drug_code", ""),
            dci=request.POST.get("drug_dci") == "1",
        )
        services.prescription_line_add(
            prescription=prescription,
            acting_user=request.user,
            version=version_posted(request),
            drug=drug,
            data=line_input(request),
        )
    except PrescriptionError as error:
        prescription.refresh_from_db()
        # A refusal about one field is said under that field, once; any other also at the top.
        return render_editor(
            request,
            prescription,
            changed=False,
            error="" if error.field else error.message,
            line_form=request.POST,
            line_errors={error.field or "form": error.message},
        )
    prescription.refresh_from_db()
    return render_editor(request, prescription, changed=True, focus_search=True)


def _line_for(request: UserRequest, pk: int, line_id: int) -> tuple[Prescription, PrescriptionLine]:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    line = get_object_or_404(PrescriptionLine, pk=line_id, prescription=prescription)
    return prescription, line


@require_POST
@prescriber_required
def line_update(request: UserRequest, pk: int, line_id: int) -> HttpResponse:
    prescription, line = _line_for(request, pk, line_id)
    try:
        services.prescription_line_update(
            line=line,
            acting_user=request.user,
            version=version_posted(request),
            data=line_input(request),
        )
    except PrescriptionError as error:
        prescription.refresh_from_db()
        # Said in the line's form, drawn open; also at the top unless it is about the line's
        # own fields (a draft changed elsewhere may no longer show that line).
        return render_editor(
            request,
            prescription,
            changed=False,
            error="" if error.field else error.message,
            edit_errors={line.pk: {"message": error.message, "form": request.POST}},
        )
    prescription.refresh_from_db()
    return render_editor(request, prescription, changed=True)


@require_POST
@prescriber_required
def line_remove(request: UserRequest, pk: int, line_id: int) -> HttpResponse:
    prescription, line = _line_for(request, pk, line_id)
    try:
        services.prescription_line_remove(
            line=line, acting_user=request.user, version=version_posted(request)
        )
    except PrescriptionError as error:
        prescription.refresh_from_db()
        return render_editor(request, prescription, changed=False, error=error.message)
    prescription.refresh_from_db()
    return render_editor(request, prescription, changed=True)


@require_POST
@prescriber_required
def options_update(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    context_id = request.POST.get("exercise_context", "")
    exercise_context = None
    if context_id.isdigit():
        exercise_context = ExerciseContext.objects.filter(
            pk=int(context_id), practitioner=prescription.prescriber, is_active=True
        ).first()
    # The form posts the place with every change (a ticked box too): only a new place counts.
    place_changed = (
        exercise_context is not None and exercise_context.pk != prescription.exercise_context_id
    )
    try:
        services.prescription_options_update(
            prescription=prescription,
            acting_user=request.user,
            version=version_posted(request),
            exercise_context=exercise_context,
            dispensing_follow_up_objection=request.POST.get("objection") == "on",
            share_with_dmp=request.POST.get("share_with_dmp") == "on",
        )
    except PrescriptionError as error:
        prescription.refresh_from_db()
        return render_editor(request, prescription, changed=False, error=error.message)
    if place_changed and prescription.prescriber.user_id == request.user.pk:
        assert exercise_context is not None
        # Chosen on the prescription: also the prescriber's context for the session.
        exercise_context_use(
            request, practitioner=prescription.prescriber, exercise_context_id=exercise_context.pk
        )
        prescription.refresh_from_db()
        return render_editor(request, prescription, changed=True, context_switched=True)
    prescription.refresh_from_db()
    return render_editor(request, prescription, changed=True)


def analysis_render(request: UserRequest, prescription: Prescription, **extra: Any) -> HttpResponse:
    """The analysis panel; with the editor too after a refusal, or when the version the tab
    showed (every request of the screen carries it) is no longer the draft's."""
    shown = version_posted(request)
    changed_elsewhere = bool(shown) and shown != prescription.version and prescription.is_draft
    context = _screen_context(request, prescription, changed_elsewhere=changed_elsewhere, **extra)
    if request.htmx and (extra.get("error") or changed_elsewhere):
        return _workspace(request, context, main="analysis")
    if request.htmx:
        context["oob"] = True  # also refresh the level badge of each line
        return render(request, "prescriptions/screen.html#analysis", context)
    if extra.get("error"):
        return render(request, "prescriptions/screen.html", context)
    return redirect("prescriptions:detail", pk=prescription.pk)


@require_POST
@prescriber_required
def analyse(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    if prescription.is_draft:
        services.prescription_analyse(prescription=prescription, acting_user=request.user)
    return analysis_render(request, prescription)


@require_POST
@prescriber_required
def alert_decide(request: UserRequest, pk: int, alert_id: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    alert = get_object_or_404(Alert, pk=alert_id, prescription=prescription)
    try:
        services.alert_decide(
            alert=alert,
            acting_user=request.user,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
            version=version_posted(request),
        )
    except PrescriptionError as error:
        prescription.refresh_from_db()
        return analysis_render(
            request,
            prescription,
            error=error.message,
            decision_errors={alert.pk: error.message},
            decision_form={alert.pk: request.POST.get("reason", "")},
        )
    return analysis_render(request, prescription)


@require_POST
@prescriber_required
def analysis_waive(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    try:
        services.prescription_analysis_waive(
            prescription=prescription, acting_user=request.user, version=version_posted(request)
        )
    except PrescriptionError as error:
        return analysis_render(request, prescription, error=error.message)
    prescription.refresh_from_db()
    return analysis_render(request, prescription)


@require_GET
@prescriber_required
def recent_patients(request: UserRequest) -> HttpResponse:
    """The prescriber's recent patients: the card their home (the patient search) loads."""
    return render(
        request,
        "prescriptions/_recent_patients.html",
        {"patients": recent_patients_for(user=request.user)},
    )


@require_GET
@prescriber_required
def patient_history(request: UserRequest, patient_id: int) -> HttpResponse:
    """The patient's prescriptions this prescriber may see, and "Nouvelle ordonnance": the card
    the host record's patient page loads into its prescriptions slot."""
    patient = get_object_or_404(Patient, pk=patient_id)
    prescriptions = list(
        prescription_history_for_patient(user=request.user, patient_id=patient.pk)[:50]
    )
    polls = polls_asked(request.GET.get("n", ""))
    context = {
        "patient": patient,
        "prescriptions": prescriptions,
        "live_delay": poll_delay(polls) if any_moving(prescriptions) else None,
        "live_polls": polls + 1,
    }
    if request.htmx:
        return render(request, "prescriptions/_patient_history.html", context)
    return render(request, "prescriptions/patient_history.html", context)
