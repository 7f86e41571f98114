from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.middleware import HtmxDetails

from practitioners.permissions import prescriber_required

from .models import Patient
from .selectors import patient_get, patient_search


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


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
    _trace_read(patient=patient, user=request.user)
    return render(request, "patients/detail.html", {"patient": patient})


def _trace_read(*, patient: Patient, user: Any) -> None:
    """Who opened which patient record, in the audit trail with the prescriptions' events (the
    patient's id only, never their identity)."""
    from prescriptions.records import audit_record  # the trail lives with the prescriptions

    audit_record(
        actor=user, action="patient_viewed", prescription=None, details={"patient": patient.pk}
    )
