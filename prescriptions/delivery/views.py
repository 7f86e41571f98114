"""Delivery screens: a prescription's page (the editor while it is a draft, then its status,
paper copy link and follow-up), signing, the prescriber's decision on a prescription that
consolidation held, and the administrators' operations page (queue depth, age of the oldest
queued submission, circuit breaker, last Ordoclic errors, held submissions and their requeue)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from practitioners.permissions import UserRequest, admin_required, prescriber_required

from ..access import prescription_get_for
from ..drafting.selectors import latest_decisions
from ..drafting.views import analysis_render, draft_screen, version_posted
from ..errors import PrescriptionError
from ..followup.paper import qr_data_uri
from ..followup.selectors import prescription_followup
from ..live import poll_delay, polls_asked, status_key, status_settled
from ..models import Decision, Prescription, Submission, TransmissionStatus
from . import submissions
from .selectors import delivery_health, held_alerts
from .signing import prescription_sign


def _detail_context(prescription: Prescription, *, polls: int = 0) -> dict[str, Any]:
    decisions = latest_decisions(prescription=prescription)
    held = prescription.transmission_status == TransmissionStatus.HELD
    return {
        "prescription": prescription,
        # the page follows the status by itself until it settles (prescriptions/live.py)
        "live_key": status_key(prescription),
        "live_polls": polls,
        "live_delay": None if status_settled(prescription) else poll_delay(polls),
        "qr": qr_data_uri(prescription),
        "decisions": [d for d in decisions.values() if d.decision == Decision.MAINTAIN],
        "lines": list(prescription.lines.all()),
        "attempts": list(prescription.submission.attempt_log.all())
        if hasattr(prescription, "submission")
        else [],
        "held_alerts": held_alerts(prescription=prescription, decisions=decisions) if held else [],
        "followup": prescription_followup(prescription=prescription),
    }


@require_GET
@prescriber_required
def prescription_detail(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk)
    if prescription.is_draft:
        return draft_screen(request, prescription)
    return render(request, "prescriptions/detail.html", _detail_context(prescription))


@require_GET
@prescriber_required
def prescription_live(request: UserRequest, pk: int) -> HttpResponse:
    """The page's question "has the status changed?": the next question (later each time, none
    once settled), and the prescription's card again when its status changed."""
    prescription = prescription_get_for(user=request.user, pk=pk)
    url = reverse("prescriptions:detail", kwargs={"pk": prescription.pk})
    if prescription.is_draft:  # a page of a draft has its own watch; this one is outdated
        return HttpResponseClientRedirect(url)
    context = _detail_context(prescription, polls=polls_asked(request.GET.get("n", "")) + 1)
    response = render(request, "prescriptions/detail.html#live", context)
    if request.GET.get("shown", "") != context["live_key"]:
        response.content += render_to_string(
            "prescriptions/detail.html#card", {**context, "card_oob": True}, request=request
        ).encode()
    return response


@require_POST
@prescriber_required
def sign(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    url = reverse("prescriptions:detail", kwargs={"pk": prescription.pk})
    try:
        outcome = prescription_sign(
            prescription=prescription, acting_user=request.user, version=version_posted(request)
        )
    except PrescriptionError as error:
        prescription.refresh_from_db()
        return analysis_render(request, prescription, error=error.message)
    if outcome.already_signed:
        messages.info(
            request, _("Cette ordonnance était déjà signée : rien n'a été envoyé deux fois.")
        )
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_GET
@admin_required
def operations(request: UserRequest) -> HttpResponse:
    context = {"health": delivery_health()}
    if request.htmx:
        return render(request, "prescriptions/operations.html#health", context)
    return render(request, "prescriptions/operations.html", context)


@require_POST
@admin_required
def submission_requeue(request: UserRequest, submission_id: int) -> HttpResponse:
    try:
        submissions.submission_requeue(submission_id=submission_id, acting_user=request.user)
    except Submission.DoesNotExist:
        messages.error(request, _("Cette transmission n'existe pas."))
    except PrescriptionError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Transmission %(id)s relancée : elle part au prochain passage.")
            % {"id": submission_id},
        )
    url = reverse("prescriptions:operations")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@prescriber_required
def held_release(request: UserRequest, pk: int) -> HttpResponse:
    """The prescriber maintains the alerts found before sending (with a justification where
    required): the prescription is analysed again and sent."""
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    reasons = {
        int(key.removeprefix("reason-")): request.POST.get(key, "")
        for key in request.POST
        if key.startswith("reason-") and key.removeprefix("reason-").isdigit()
    }
    url = reverse("prescriptions:detail", kwargs={"pk": prescription.pk})
    try:
        submissions.submission_release(
            prescription=prescription, acting_user=request.user, reasons=reasons
        )
    except PrescriptionError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Décision enregistrée : l'ordonnance est de nouveau en cours d'envoi.")
        )
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
