"""The FHIR read API for the host application (a bearer token per application, no session) and
the prescriber's "FHIR" download of a prescription. Every read is an audit event."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from practitioners.permissions import UserRequest, prescriber_required, public

from ..access import prescription_get_for
from ..models import AuditAction, BusinessStatus, FhirClient, Prescription
from ..records import audit_record
from .bundle import medication_request_resource, prescription_bundle, searchset
from .clients import fhir_client_for_token, fhir_rate_exceeded

FHIR_JSON = "application/fhir+json"
MAX_COUNT = 200


def _fhir(body: dict[str, Any], *, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status, content_type=FHIR_JSON)
    response["Cache-Control"] = "no-store"
    return response


def _outcome(status: int, code: str, text: str) -> JsonResponse:
    return _fhir(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}],
        },
        status=status,
    )


def _client_or_refusal(request: HttpRequest) -> FhirClient | JsonResponse:
    client = fhir_client_for_token(request.headers.get("Authorization", ""))
    if client is None:
        refusal = _outcome(401, "login", "Jeton d'application manquant, inconnu ou désactivé.")
        refusal["WWW-Authenticate"] = 'Bearer realm="fhir"'
        return refusal
    if fhir_rate_exceeded(client):
        refusal = _outcome(429, "throttled", "Trop de lectures : réessayez dans une minute.")
        refusal["Retry-After"] = "60"
        return refusal
    return client


def _exported() -> Any:
    """Signed prescriptions (never drafts), with what their Bundle reads."""
    return (
        Prescription.objects.exclude(status=BusinessStatus.DRAFT)
        .select_related("patient", "prescriber__user", "exercise_context")
        .prefetch_related("lines")
    )


@require_GET
@public  # authenticated by the application's bearer token, not by a session
def medication_requests(request: HttpRequest) -> JsonResponse:
    client = _client_or_refusal(request)
    if isinstance(client, JsonResponse):
        return client
    patient = request.GET.get("patient", "").removeprefix("Patient/").removeprefix("patient-")
    if not patient.isdigit() or len(patient) > 12:
        return _outcome(400, "required", "Paramètre « patient » attendu (identifiant du patient).")
    count = request.GET.get("_count", "50")
    limit = min(int(count), MAX_COUNT) if count.isdigit() and int(count) > 0 else 50
    prescriptions = list(_exported().filter(patient_id=int(patient)).order_by("-signed_at")[:limit])
    resources = [
        medication_request_resource(p, line)
        for p in prescriptions
        for line in sorted(p.lines.all(), key=lambda line: (line.position, line.pk))
    ]
    audit_record(
        actor=None,
        action=AuditAction.FHIR_READ,
        prescription=None,
        details={
            "client": client.pk,
            "resource": "MedicationRequest",
            "patient": int(patient),
            "count": len(resources),
        },
    )
    return _fhir(searchset(resources, total=len(resources)))


@require_GET
@public  # authenticated by the application's bearer token, not by a session
def bundle(request: HttpRequest, bundle_id: str) -> JsonResponse:
    client = _client_or_refusal(request)
    if isinstance(client, JsonResponse):
        return client
    try:
        external_id = uuid.UUID(bundle_id)
    except ValueError:
        return _outcome(404, "not-found", "Aucune ordonnance avec cet identifiant.")
    prescription = _exported().filter(external_id=external_id).first()
    if prescription is None:
        return _outcome(404, "not-found", "Aucune ordonnance avec cet identifiant.")
    audit_record(
        actor=None,
        action=AuditAction.FHIR_READ,
        prescription=prescription,
        details={"client": client.pk, "resource": "Bundle"},
    )
    return _fhir(prescription_bundle(prescription))


@require_GET
@prescriber_required
def prescription_download(request: UserRequest, pk: int) -> HttpResponse:
    """The prescriber's copy of a signed prescription in FHIR, as a file."""
    prescription = prescription_get_for(user=request.user, pk=pk)
    if prescription.is_draft:
        return _outcome(404, "not-found", "Un brouillon n'est pas exporté.")
    audit_record(
        actor=request.user,
        action=AuditAction.FHIR_DOWNLOADED,
        prescription=prescription,
        details={},
    )
    response = _fhir(prescription_bundle(prescription))
    name = prescription.number or str(prescription.external_id)
    response["Content-Disposition"] = f'attachment; filename="ordonnance-{name}.fhir.json"'
    return response
