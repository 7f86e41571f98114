from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from practitioners.permissions import prescriber_required

from .models import Patient
from .selectors import patient_get, patient_search


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@prescriber_required
@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
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
