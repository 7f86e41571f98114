"""The consultation against the in-process sandbox: real drug search, real interaction engine,
real registration and ledger."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from practitioners.ordoclic import practitioner_link_ordoclic
from prescriptions.models import Prescription, Submission, TransmissionStatus
from tests.factories import PatientFactory, PrescriberFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
CLAIRE_MARTIN = "10100001238"


@pytest.fixture
def martin(ordoclic: Any) -> Any:
    user = PrescriberFactory(practitioner_record__rpps=CLAIRE_MARTIN)
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    user.practitioner.refresh_from_db()
    assert user.practitioner.ordoclic_link_status == "linked"
    return user


def _pick(client: Any, prescription: Prescription, text: str) -> str:
    html = client.get(
        reverse("prescriptions:drug_search", args=[prescription.pk]), {"q": text}, **HTMX
    ).content.decode()
    start = html.index('data-code="') + len('data-code="')
    return html[start : html.index('"', start)]


def _add(client: Any, prescription: Prescription, text: str, posology: str) -> None:
    prescription.refresh_from_db()
    code = _pick(client, prescription, text)
    response = client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {"version": prescription.version, "drug_code": code, "posology": posology},
        **HTMX,
    )
    triggered = response.headers.get("HX-Trigger-After-Settle", "")
    assert "draft-changed" in triggered, response.content.decode()


def _analysis(client: Any, prescription: Prescription) -> str:
    return client.post(
        reverse("prescriptions:analyse", args=[prescription.pk]), **HTMX
    ).content.decode()


def _ledger(ordoclic: Any) -> list[dict[str, Any]]:
    with ordoclic.sandbox.control() as control:
        return control.get("/_sandbox/ledger").json()["items"]


def test_consultation_with_a_maintained_ci_alert(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in_client(martin)
    patient = PatientFactory()
    response = client.post(reverse("prescriptions:create", args=[patient.pk]))
    prescription = Prescription.objects.get(patient=patient)
    assert response.url == reverse("prescriptions:detail", args=[prescription.pk])

    _add(client, prescription, "simvastatine", "1 cp le soir 1 mois")
    _add(client, prescription, "clarithromycine", "1 cp matin et soir 7j")
    html = _analysis(client, prescription)
    assert "Contre-indication" in html
    alert = prescription.alerts.get(level="CI")
    assert len(alert.line_refs) == 2

    prescription.refresh_from_db()
    decided = client.post(
        reverse("prescriptions:alert_decide", args=[prescription.pk, alert.pk]),
        {"version": prescription.version, "decision": "maintain", "reason": "Statine suspendue"},
        **HTMX,
    ).content.decode()
    assert "Maintenu" in decided
    assert 'rx-sign-button"' in decided
    assert 'rx-sign-button" disabled' not in decided

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("prescriptions:sign", args=[prescription.pk]),
            {"version": prescription.version},
            **HTMX,
        )
    assert response.headers["HX-Redirect"] == reverse(
        "prescriptions:detail", args=[prescription.pk]
    )
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    page = client.get(reverse("prescriptions:detail", args=[prescription.pk])).content.decode()
    assert prescription.number in page
    paper = client.get(reverse("prescriptions:paper", args=[prescription.pk])).content.decode()
    assert prescription.number in paper
    assert "data:image/svg+xml" in paper
    [entry] = _ledger(ordoclic)
    assert entry["externalId"] == str(prescription.external_id)
    assert (entry["creationRequests"], entry["registered"]) == (1, 1)


def test_modifying_instead_removes_the_alert(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in_client(martin)
    patient = PatientFactory()
    client.post(reverse("prescriptions:create", args=[patient.pk]))
    prescription = Prescription.objects.get(patient=patient)
    _add(client, prescription, "simvastatine", "1 cp le soir 1 mois")
    _add(client, prescription, "clarithromycine", "1 cp matin et soir 7j")
    assert "Contre-indication" in _analysis(client, prescription)

    clari = prescription.lines.get(label__icontains="ZECLAR")
    prescription.refresh_from_db()
    client.post(
        reverse("prescriptions:line_remove", args=[prescription.pk, clari.pk]),
        {"version": prescription.version},
        **HTMX,
    )
    html = _analysis(client, prescription)
    assert "Contre-indication" not in html
    prescription.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("prescriptions:sign", args=[prescription.pk]),
            {"version": prescription.version},
            **HTMX,
        )
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED


def test_registered_prescriptions_feed_the_next_analysis(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in_client(martin)
    patient = PatientFactory()
    client.post(reverse("prescriptions:create", args=[patient.pk]))
    first = Prescription.objects.get(patient=patient)
    _add(client, first, "simvastatine", "1 cp le soir 3 mois")
    _analysis(client, first)
    first.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("prescriptions:sign", args=[first.pk]), {"version": first.version})
    first.refresh_from_db()
    assert first.transmission_status == TransmissionStatus.REGISTERED

    client.post(reverse("prescriptions:create", args=[patient.pk]))
    second = Prescription.objects.filter(patient=patient).exclude(pk=first.pk).get()
    _add(client, second, "clarithromycine", "1 cp matin et soir 7j")
    html = _analysis(client, second)
    assert "Contre-indication" in html
    assert "traitement en cours" in html


def test_sandbox_down_at_signing_keeps_the_prescription_queued(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in_client(martin)
    patient = PatientFactory()
    client.post(reverse("prescriptions:create", args=[patient.pk]))
    prescription = Prescription.objects.get(patient=patient)
    _add(client, prescription, "paracetamol", "1 cp si besoin max 3/24h")
    _analysis(client, prescription)
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
    prescription.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("prescriptions:sign", args=[prescription.pk]), {"version": prescription.version}
        )
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    submission = Submission.objects.get(prescription=prescription)
    assert submission.attempts == 1
    assert submission.last_error
    page = client.get(reverse("prescriptions:detail", args=[prescription.pk])).content.decode()
    assert "transmise automatiquement" in page


def test_a_hanging_analysis_ends_within_the_request_budget_as_not_done(
    ordoclic: Any, martin: Any, logged_in_client: Any, settings: Any
) -> None:
    settings.ORDOCLIC_REQUEST_BUDGET = 0.6
    client = logged_in_client(martin)
    patient = PatientFactory()
    client.post(reverse("prescriptions:create", args=[patient.pk]))
    prescription = Prescription.objects.get(patient=patient)
    _add(client, prescription, "paracetamol", "1 cp x3/j 5j")
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": "hang"}).raise_for_status()
    html = _analysis(client, prescription)
    assert "Analyse non effectuée." in html
    assert "Je signerai sans analyse" in html
    assert prescription.analysis_runs.get().outcome == "unavailable"
