from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from origami.http import HtmxHttpRequest
from origami.text import excerpt, length_error
from practitioners.permissions import prescriber_required

from .models import Patient
from .selectors import patient_get, patient_search
from .signals import patient_viewed


@prescriber_required
@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    error = length_error(query, limit="search", what=_("La recherche"))
    if error:
        query = excerpt(query)
    patients: QuerySet[Patient] | list[Patient] | None = (
        [] if error else patient_search(query=query)
    )
    context = {"query": query, "patients": patients, "error": error}
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
