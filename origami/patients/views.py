from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from origami.http import HtmxHttpRequest
from origami.text import excerpt, length_error
from practitioners.permissions import UserRequest, prescriber_required

from . import services
from .forms import AllergyForm, ClinicalContextForm, TreatmentForm
from .models import Allergy, CurrentTreatment, Patient
from .selectors import patient_get, patient_search
from .signals import patient_viewed


@prescriber_required
@require_http_methods(["GET", "POST"])
def search(request: HtmxHttpRequest) -> HttpResponse:
    """GET: the empty search form. POST `q`: the patients found. The terms (names, birth dates,
    NIR) travel in the body, never in the URL: URLs end up in access logs, proxies and the
    browser's history."""
    query = request.POST.get("q", "") if request.method == "POST" else ""
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


# --- the clinical context, updated by the prescriber (patient page and prescription screen) -----

# The event an updated record sends to the page: whatever shows an analysis of this patient
# (the prescription screen) asks for it again.
RECORD_CHANGED = "patient-record-changed"


def _context_render(
    request: UserRequest, patient: Patient, *, changed: bool, **extra: Any
) -> HttpResponse:
    patient = patient_get(patient_id=patient.pk)
    context = {
        "patient": patient,
        "context_form": ClinicalContextForm(instance=patient),
        "allergy_form": AllergyForm(),
        "treatment_form": TreatmentForm(),
        "context_notice": "",
        **extra,
    }
    if request.htmx:
        response = render(request, "patients/_clinical_context.html", context)
        if changed:
            trigger_client_event(response, RECORD_CHANGED)
            if request.POST.get("page") == "patient":  # the patient page's facts, redrawn
                response.content += render_to_string(
                    "patients/detail.html#facts",
                    {"patient": patient, "facts_oob": True},
                    request=request,
                ).encode()
        return response
    if not changed:
        return render(request, "patients/clinical_context.html", context)
    return redirect(request.POST.get("next") or reverse("patients:detail", args=[patient.pk]))


@prescriber_required
@require_http_methods(["GET", "POST"])
def clinical_context(request: UserRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    if request.method == "GET":
        return _context_render(request, patient, changed=False)
    form = ClinicalContextForm(request.POST, instance=Patient.objects.get(pk=patient.pk))
    if not form.is_valid():
        return _context_render(request, patient, changed=False, context_form=form)
    changed = services.patient_clinical_context_update(
        patient=patient, acting_user=request.user, values=form.cleaned_data
    )
    return _context_render(
        request,
        patient,
        changed=bool(changed),
        context_notice=_("Dossier mis à jour.") if changed else _("Rien n'a changé."),
    )


@prescriber_required
@require_POST
def allergy_add(request: UserRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = AllergyForm(request.POST)
    if not form.is_valid():
        return _context_render(request, patient, changed=False, allergy_form=form)
    services.patient_allergy_add(
        patient=patient, acting_user=request.user, allergy=form.save(commit=False)
    )
    return _context_render(request, patient, changed=True, context_notice=_("Allergie ajoutée."))


@prescriber_required
@require_POST
def allergy_remove(request: UserRequest, patient_id: int, allergy_id: int) -> HttpResponse:
    allergy = get_object_or_404(Allergy, pk=allergy_id, patient_id=patient_id)
    services.patient_allergy_remove(allergy=allergy, acting_user=request.user)
    return _context_render(
        request, allergy.patient, changed=True, context_notice=_("Allergie retirée.")
    )


@prescriber_required
@require_POST
def treatment_add(request: UserRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    form = TreatmentForm(request.POST, instance=CurrentTreatment(patient=patient))
    if not form.is_valid():
        return _context_render(request, patient, changed=False, treatment_form=form)
    services.patient_treatment_add(
        patient=patient, acting_user=request.user, treatment=form.save(commit=False)
    )
    return _context_render(request, patient, changed=True, context_notice=_("Traitement ajouté."))


@prescriber_required
@require_POST
def treatment_remove(request: UserRequest, patient_id: int, treatment_id: int) -> HttpResponse:
    treatment = get_object_or_404(CurrentTreatment, pk=treatment_id, patient_id=patient_id)
    services.patient_treatment_remove(treatment=treatment, acting_user=request.user)
    return _context_render(
        request, treatment.patient, changed=True, context_notice=_("Traitement retiré.")
    )
