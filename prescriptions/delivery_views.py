"""Delivery screens: the administrators' operations page (queue depth, age of the oldest queued
submission, circuit breaker, last Ordoclic errors, held submissions and their requeue) and the
prescriber's decision on a prescription that consolidation held."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from practitioners.permissions import admin_required, prescriber_required

from . import delivery
from .models import Submission
from .selectors import delivery_health, prescription_get_for


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
@admin_required
def operations(request: HtmxHttpRequest) -> HttpResponse:
    context = {"health": delivery_health()}
    if request.htmx:
        return render(request, "prescriptions/operations.html#health", context)
    return render(request, "prescriptions/operations.html", context)


@require_POST
@admin_required
def submission_requeue(request: HtmxHttpRequest, submission_id: int) -> HttpResponse:
    try:
        delivery.submission_requeue(submission_id=submission_id, acting_user=request.user)
    except Submission.DoesNotExist:
        messages.error(request, _("Cette transmission n'existe pas."))
    except delivery.DeliveryError as error:
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
def held_release(request: HtmxHttpRequest, pk: int) -> HttpResponse:
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
        delivery.submission_release(
            prescription=prescription, acting_user=request.user, reasons=reasons
        )
    except delivery.DeliveryError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Décision enregistrée : l'ordonnance est de nouveau en cours d'envoi.")
        )
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
