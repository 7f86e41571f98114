"""The prescriber's screens: the prescription being written (lines, live analysis, decisions,
signing), the prescription once signed, its paper copy, and "Mes ordonnances"."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event
from django_htmx.middleware import HtmxDetails

from ordoclic_client.results import Ok, Rejected, Unavailable
from origami.patients.models import Patient
from practitioners.models import ExerciseContext
from practitioners.permissions import prescriber_required
from practitioners.selectors import current_exercise_context, exercise_contexts_for
from practitioners.views import exercise_context_use

from . import services
from .delivery import held_alerts
from .models import (
    Alert,
    NonSubstitutableReason,
    Prescription,
    PrescriptionLine,
    TransmissionStatus,
)
from .selectors import (
    LIST_FILTERS,
    latest_decisions,
    prescription_get_for,
    prescription_list_for,
    prescription_screen,
)

DRAFT_CHANGED = "draft-changed"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return 0


def _screen_context(
    request: HttpRequest, prescription: Prescription, **extra: Any
) -> dict[str, Any]:
    patient = Patient.objects.prefetch_related(
        "allergies", "alds", "current_treatments", "pathologies"
    ).get(pk=prescription.patient_id)
    prescription.patient = patient
    screen = prescription_screen(
        prescription=prescription,
        account_current=prescription.prescriber.ordoclic_link_status == "linked",
    )
    context: dict[str, Any] = {
        "screen": screen,
        "prescription": prescription,
        "patient": patient,
        "contexts": list(exercise_contexts_for(practitioner=prescription.prescriber)),
        "line_form": {},
        "line_errors": {},
        "edit_errors": {},
        "error": "",
        "reasons": NonSubstitutableReason.choices,
    }
    context.update(extra)
    return context


def _render_editor(
    request: HtmxHttpRequest, prescription: Prescription, *, changed: bool, **extra: Any
) -> HttpResponse:
    context = _screen_context(request, prescription, **extra)
    if request.htmx:
        response = render(request, "prescriptions/screen.html#editor", context)
        if extra.get("context_switched"):  # the top bar says the place of practice chosen
            response.content += render_to_string(
                "origami/_context_switcher.html", {**context, "swap_oob": True}, request=request
            ).encode()
        if changed:
            trigger_client_event(response, DRAFT_CHANGED)
        return response
    if extra.get("error"):
        return render(request, "prescriptions/screen.html", context)
    return redirect("prescriptions:detail", pk=prescription.pk)


@require_GET
@prescriber_required
def prescription_list(request: HtmxHttpRequest) -> HttpResponse:
    filter_name = request.GET.get("filtre", "")
    if filter_name not in LIST_FILTERS:
        filter_name = ""
    prescriptions = prescription_list_for(user=request.user, filter_name=filter_name)[:200]
    context = {
        "prescriptions": prescriptions,
        "filter_name": filter_name,
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
def prescription_create(request: HtmxHttpRequest, patient_id: int) -> HttpResponse:
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


@require_GET
@prescriber_required
def prescription_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk)
    if prescription.is_draft:
        return render(request, "prescriptions/screen.html", _screen_context(request, prescription))
    decisions = latest_decisions(prescription=prescription)
    held = prescription.transmission_status == TransmissionStatus.HELD
    return render(
        request,
        "prescriptions/detail.html",
        {
            "prescription": prescription,
            "qr": _qr_data_uri(prescription),
            "decisions": [d for d in decisions.values() if d.decision == "maintain"],
            "lines": list(prescription.lines.all()),
            "attempts": list(prescription.submission.attempt_log.all())
            if hasattr(prescription, "submission")
            else [],
            "held_alerts": held_alerts(prescription=prescription, decisions=decisions)
            if held
            else [],
        },
    )


@require_GET
@prescriber_required
def drug_search(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    text = request.GET.get("q", "").strip()
    drugs: list[Any] = []
    error = ""
    if len(text) >= 2:
        match services.ordoclic_for_request().drug_search(
            rpps=prescription.prescriber.rpps, text=text, per_page=12
        ):
            case Ok(value=page):
                drugs = [
                    {"choice": services.DrugChoice.from_drug(d), "drug": d} for d in page.items
                ]
            case Rejected() as rejected:
                error = rejected.message
            case Unavailable():
                error = _("Recherche indisponible pour l'instant (Ordoclic ne répond pas).")
    return render(
        request,
        "prescriptions/screen.html#drug_results",
        {"drugs": drugs, "query": text, "search_error": error, "prescription": prescription},
    )


def _line_input(request: HttpRequest) -> services.LineInput:
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
    )


def _drug_choice(request: HttpRequest, prescription: Prescription) -> services.DrugChoice:
    """The drug the prescriber picked, checked against Ordoclic's catalogue by its code. When
    Ordoclic cannot answer, what the search returned is kept: the analysis checks it again."""
    code = request.POST.get("drug_code", "").strip()
    if not code:
        raise services.PrescriptionError(
            _("Choisissez un médicament dans la liste de recherche."), field="drug"
        )
    match services.ordoclic_for_request().drug_by_code(
        rpps=prescription.prescriber.rpps, code=code
    ):
        case Ok(value=None) | Rejected():
            raise services.PrescriptionError(
                _("Médicament inconnu (code %(code)s) : choisissez-le dans la recherche.")
                % {"code": code},
                field="drug",
            )
        case Ok(value=drug) if drug is not None:
            return services.DrugChoice.from_drug(drug)
        case Unavailable():
            return services.DrugChoice(
                code=code,
                label=request.POST.get("drug_label", code),
                substance=request.POST.get("drug_substance", ""),
                form=request.POST.get("drug_form", ""),
                route=request.POST.get("drug_route", ""),
                default_unit=request.POST.get("drug_unit", ""),
            )
    raise AssertionError("unreachable")


@require_POST
@prescriber_required
def line_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    try:
        drug = _drug_choice(request, prescription)
        services.prescription_line_add(
            prescription=prescription,
            acting_user=request.user,
            version=_version(request),
            drug=drug,
            data=_line_input(request),
        )
    except services.PrescriptionError as error:
        prescription.refresh_from_db()
        return _render_editor(
            request,
            prescription,
            changed=False,
            error=error.message,
            line_form=request.POST,
            line_errors={error.field or "form": error.message},
        )
    prescription.refresh_from_db()
    return _render_editor(request, prescription, changed=True, focus_search=True)


def _line_for(request: HttpRequest, pk: int, line_id: int) -> tuple[Prescription, PrescriptionLine]:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    line = get_object_or_404(PrescriptionLine, pk=line_id, prescription=prescription)
    return prescription, line


@require_POST
@prescriber_required
def line_update(request: HtmxHttpRequest, pk: int, line_id: int) -> HttpResponse:
    prescription, line = _line_for(request, pk, line_id)
    try:
        services.prescription_line_update(
            line=line,
            acting_user=request.user,
            version=_version(request),
            data=_line_input(request),
        )
    except services.PrescriptionError as error:
        prescription.refresh_from_db()
        return _render_editor(
            request,
            prescription,
            changed=False,
            error=error.message,
            edit_errors={line.pk: {"message": error.message, "form": request.POST}},
        )
    prescription.refresh_from_db()
    return _render_editor(request, prescription, changed=True)


@require_POST
@prescriber_required
def line_remove(request: HtmxHttpRequest, pk: int, line_id: int) -> HttpResponse:
    prescription, line = _line_for(request, pk, line_id)
    try:
        services.prescription_line_remove(
            line=line, acting_user=request.user, version=_version(request)
        )
    except services.PrescriptionError as error:
        prescription.refresh_from_db()
        return _render_editor(request, prescription, changed=False, error=error.message)
    prescription.refresh_from_db()
    return _render_editor(request, prescription, changed=True)


@require_POST
@prescriber_required
def options_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
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
            version=_version(request),
            exercise_context=exercise_context,
            dispensing_follow_up_objection=request.POST.get("objection") == "on",
            share_with_dmp=request.POST.get("share_with_dmp") == "on",
        )
    except services.PrescriptionError as error:
        prescription.refresh_from_db()
        return _render_editor(request, prescription, changed=False, error=error.message)
    if place_changed and prescription.prescriber.user_id == request.user.pk:
        assert exercise_context is not None
        # Chosen on the prescription: also the prescriber's context for the session.
        exercise_context_use(
            request, practitioner=prescription.prescriber, exercise_context_id=exercise_context.pk
        )
        prescription.refresh_from_db()
        return _render_editor(request, prescription, changed=True, context_switched=True)
    prescription.refresh_from_db()
    return _render_editor(request, prescription, changed=True)


def _render_analysis(
    request: HtmxHttpRequest, prescription: Prescription, **extra: Any
) -> HttpResponse:
    context = _screen_context(request, prescription, **extra)
    if request.htmx:
        context["oob"] = True  # also refresh the level badge of each line
        return render(request, "prescriptions/screen.html#analysis", context)
    if extra.get("error"):
        return render(request, "prescriptions/screen.html", context)
    return redirect("prescriptions:detail", pk=prescription.pk)


@require_POST
@prescriber_required
def analyse(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    if prescription.is_draft:
        services.prescription_analyse(prescription=prescription, acting_user=request.user)
    return _render_analysis(request, prescription)


@require_POST
@prescriber_required
def alert_decide(request: HtmxHttpRequest, pk: int, alert_id: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    alert = get_object_or_404(Alert, pk=alert_id, prescription=prescription)
    try:
        services.alert_decide(
            alert=alert,
            acting_user=request.user,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
            version=_version(request),
        )
    except services.PrescriptionError as error:
        prescription.refresh_from_db()
        return _render_analysis(
            request,
            prescription,
            error=error.message,
            decision_errors={alert.pk: error.message},
            decision_form={alert.pk: request.POST.get("reason", "")},
        )
    return _render_analysis(request, prescription)


@require_POST
@prescriber_required
def analysis_waive(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    try:
        services.prescription_analysis_waive(
            prescription=prescription, acting_user=request.user, version=_version(request)
        )
    except services.PrescriptionError as error:
        return _render_analysis(request, prescription, error=error.message)
    prescription.refresh_from_db()
    return _render_analysis(request, prescription)


@require_POST
@prescriber_required
def sign(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    url = reverse("prescriptions:detail", kwargs={"pk": prescription.pk})
    try:
        outcome = services.prescription_sign(
            prescription=prescription, acting_user=request.user, version=_version(request)
        )
    except services.PrescriptionError as error:
        prescription.refresh_from_db()
        return _render_analysis(request, prescription, error=error.message)
    if outcome.already_signed:
        messages.info(
            request, _("Cette ordonnance était déjà signée : rien n'a été envoyé deux fois.")
        )
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _qr_data_uri(prescription: Prescription) -> str:
    """The QR code of the paper copy as an SVG data URI (no inline style: strict CSP)."""
    if not prescription.qr_payload:
        return ""
    return str(segno.make(prescription.qr_payload, error="m").svg_data_uri(scale=4, border=2))


@require_GET
@prescriber_required
def paper_copy(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk)
    if prescription.is_draft:
        raise Http404
    patient = Patient.objects.prefetch_related("alds").get(pk=prescription.patient_id)
    lines = list(prescription.lines.all())
    qr = _qr_data_uri(prescription)
    return render(
        request,
        "prescriptions/paper.html",
        {
            "prescription": prescription,
            "patient": patient,
            "ald_lines": [line for line in lines if line.ald],
            "other_lines": [line for line in lines if not line.ald],
            "has_ald": bool(patient.alds.all()) or any(line.ald for line in lines),
            "qr": qr,
            "renewal_max": max((line.renewals for line in lines), default=0),
        },
    )
