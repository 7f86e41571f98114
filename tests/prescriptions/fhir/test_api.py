"""The FHIR read API for the host record: one bearer token per application, read only,
rate-limited, every read in the audit trail; the prescriber's download of a prescription."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from prescriptions.fhir.clients import fhir_client_create
from prescriptions.models import AuditAction, AuditEvent, FhirClient
from tests.factories import AdminFactory, PatientFactory

from ..conftest import draft_with_lines, registered_prescription

pytestmark = pytest.mark.django_db


@pytest.fixture
def token() -> str:
    _client, token = fhir_client_create(name="Dossier patient", acting_user=AdminFactory())
    return token


def read(url: str, token: str = "") -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().get(url, **headers)


def test_the_host_reads_a_patients_medication_requests_and_a_bundle(
    ordoclic: Any, martin: Any, token: str
) -> None:
    patient = PatientFactory()
    prescription = registered_prescription(user=martin, patient=patient)
    draft_with_lines(user=martin, patient=patient)  # a draft is never exported

    answer = read(reverse("fhir:medication_requests") + f"?patient={patient.pk}", token)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/fhir+json"
    body = answer.json()
    Bundle.model_validate(body)
    assert body["total"] == 2  # the two lines of the registered prescription

    bundle = read(reverse("fhir:bundle", args=[prescription.external_id]), token)
    assert bundle.status_code == 200
    assert bundle.json()["identifier"]["value"] == prescription.number
    reads = AuditEvent.objects.filter(action=AuditAction.FHIR_READ)
    assert reads.count() == 2
    assert reads.filter(prescription=prescription).exists()


def test_no_token_a_wrong_one_or_a_deactivated_application_reads_nothing(
    ordoclic: Any, martin: Any, token: str
) -> None:
    prescription = registered_prescription(user=martin)
    url = reverse("fhir:bundle", args=[prescription.external_id])
    assert read(url).status_code == 401
    assert read(url, "not-the-token").status_code == 401
    FhirClient.objects.update(is_active=False)
    refused = read(url, token)
    assert refused.status_code == 401
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert not AuditEvent.objects.filter(action=AuditAction.FHIR_READ).exists()


@override_settings(FHIR_RATE_LIMIT=3)
def test_reads_are_rate_limited_per_application(
    ordoclic: Any, martin: Any, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One minute for the whole test, whatever the clock says between two reads; its counter
    # starts empty (Redis outlives the test database).
    now = time.time()
    monkeypatch.setattr("prescriptions.fhir.clients.time.time", lambda: now)
    cache.delete_many([f"fhir:rate:{c.pk}:{int(now // 60)}" for c in FhirClient.objects.all()])
    url = reverse("fhir:medication_requests") + f"?patient={PatientFactory().pk}"
    statuses = [read(url, token).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[-1] == 429


def test_bad_parameters_get_an_operation_outcome(token: str) -> None:
    assert read(reverse("fhir:medication_requests"), token).status_code == 400
    assert read(reverse("fhir:medication_requests") + "?patient=%00x", token).status_code == 400
    assert read(reverse("fhir:bundle", args=["not-a-uuid"]), token).status_code == 404


def test_the_prescriber_downloads_the_fhir_copy(
    ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    prescription = registered_prescription(user=martin)
    client = logged_in_client(martin)
    download = client.get(reverse("prescriptions:fhir_download", args=[prescription.pk]))
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    Bundle.model_validate(download.json())
    assert AuditEvent.objects.filter(
        action=AuditAction.FHIR_DOWNLOADED, prescription=prescription, actor=martin
    ).exists()
