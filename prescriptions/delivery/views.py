"""Delivery screens: a prescription's page (the editor while it is a draft, then its status,
paper copy link and follow-up), signing, the prescriber's decision on a prescription that
consolidation held, and the administrators' operations page (queue depth, age of the oldest
queued submission, circuit breaker, last Ordoclic errors, held submissions and their requeue)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
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
from ..models import Decision, Submission, TransmissionStatus
from . import submissions
from .selectors import delivery_health, held_alerts
from .signing import prescription_sign


@require_GET
@prescriber_required
def prescription_detail(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk)
    if prescription.is_draft:
        return draft_screen(request, prescription)
    decisions = latest_decisions(prescription=prescription)
    held = prescription.transmission_status == TransmissionStatus.HELD
    return render(
        request,
        "prescriptions/detail.html",
        {
            "prescription": prescription,
            "qr": qr_data_uri(prescription),
            "decisions": [d for d in decisions.values() if d.decision == Decision.MAINTAIN],
            "lines": list(prescription.lines.all()),
            "attempts": list(prescription.submission.attempt_log.all())
            if hasattr(prescription, "submission")
            else [],
            "held_alerts": held_alerts(prescription=prescription, decisions=decisions)
            if held
            else [],
            "followup": prescription_followup(prescription=prescription),
        },
    )


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
