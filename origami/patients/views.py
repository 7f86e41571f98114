from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from origami.http import HtmxHttpRequest
from practitioners.permissions import prescriber_required

from .models import Patient
from .selectors import patient_get, patient_search
from .signals import patient_viewed


@prescriber_required
@require_http_methods(["GET", "POST"])
def search(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the empty search form. POST `q`: the patients found. The terms (names, birth dates,
    NIR) travel in the body, never in the URL: URLs end up in access logs, proxies and the
    browser's history."""
    query = request.POST.get("q", "") if request.method == "POST" else ""
    patients = patient_search(query=query)
    context = {"query": query, "patients": patients}
    if request.htmx and not request.htmx.boosted:
        return render(request, "patients/search.html#results", context)
    return render(request, "patients/search.html", context)


@prescriber_required
@require_GET
def detail(request: HtmxHttpRequest, patient_id: int) -> HttpResponse:
    patient = patient_get(patient_id=patient_id)
    # The audit trail belongs to the prescriptions: they listen (patient id only, never identity).
    patient_viewed.send(sender=Patient, patient=patient, user=request.user)
    return render(request, "patients/detail.html", {"patient": patient})
