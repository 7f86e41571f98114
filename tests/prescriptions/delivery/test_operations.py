"""What people see of the delivery: the prescriber's banner, paper copy and held decision, the
"à traiter" list, the administrators' operations page and the `submissions` command."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from origami.patients.models import Patient
from prescriptions.delivery import submissions as delivery
from prescriptions.delivery.selectors import undecided_alerts
from prescriptions.delivery.submissions import SUBMISSIONS
from prescriptions.models import Prescription, Submission, SubmissionStatus, TransmissionStatus
from tests.chaos import workload
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SUBMISSIONS, "enqueue", lambda *, pk, at: True)


@pytest.fixture
def martin(ordoclic: Any) -> Any:
    return workload.prescriber_linked(workload.CLAIRE_MARTIN)


def faults(ordoclic: Any, mode: str) -> None:
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": mode}).raise_for_status()


def signed_while_down(
    ordoclic: Any, user: Any, capture: Any, drugs: tuple[workload.Drug, ...] = (workload.DOLIPRANE,)
) -> Prescription:
    faults(ordoclic, "down")
    prescription = workload.ready_to_sign(user, workload.draft(user, drugs))
    with capture(execute=True):
        workload.sign(user, prescription)
    faults(ordoclic, "ok")
    prescription.refresh_from_db()
    return prescription


def held(ordoclic: Any, user: Any, capture: Any) -> Prescription:
    """Signed without analysis while Ordoclic was down; the analysis before sending found a
    contraindication: held for the prescriber."""
    prescription = signed_while_down(
        ordoclic, user, capture, (workload.SIMVASTATINE, workload.CLARITHROMYCINE)
    )
    Submission.objects.filter(prescription=prescription).update(next_attempt_at=timezone.now())
    delivery.submission_send(submission_id=prescription.submission.pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.HELD
    return prescription


def test_prescriber_is_told_plainly_and_can_print_a_copy_marked_not_registered(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = signed_while_down(ordoclic, martin, django_capture_on_commit_callbacks)
    client = logged_in_client(martin)
    page = client.get(reverse("prescriptions:detail", args=[prescription.pk])).content.decode()
    assert "Ordoclic est indisponible : l'ordonnance est enregistrée dans origami" in page
    assert "sera transmise automatiquement" in page
    paper = client.get(reverse("prescriptions:paper", args=[prescription.pk])).content.decode()
    assert "non encore enregistrée" in paper


def test_the_prescription_page_says_when_it_consolidated(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = signed_while_down(ordoclic, martin, django_capture_on_commit_callbacks)
    Submission.objects.filter(prescription=prescription).update(next_attempt_at=timezone.now())
    delivery.submission_send(submission_id=prescription.submission.pk)
    prescription.refresh_from_db()
    assert prescription.consolidated_at is not None
    page = (
        logged_in_client(martin)
        .get(reverse("prescriptions:detail", args=[prescription.pk]))
        .content.decode()
    )
    assert "consolidée le" in page
    assert prescription.number in page
    paper = logged_in_client(martin).get(reverse("prescriptions:paper", args=[prescription.pk]))
    assert "non encore enregistrée" not in paper.content.decode()


def test_held_prescription_needs_attention_and_the_prescriber_decides(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = held(ordoclic, martin, django_capture_on_commit_callbacks)
    client = logged_in_client(martin)
    listing = client.get(reverse("prescriptions:list"), {"filtre": "attention"}).content.decode()
    assert reverse("prescriptions:detail", args=[prescription.pk]) in listing

    page = client.get(reverse("prescriptions:detail", args=[prescription.pk])).content.decode()
    assert "Ordonnance en attente de votre décision" in page
    assert "Contre-indication" in page
    [alert] = undecided_alerts(
        prescription=prescription, run=prescription.analysis_runs.order_by("-pk").first()
    )
    url = reverse("prescriptions:held_release", args=[prescription.pk])

    # Without the mandatory justification: a clear French message, still held, nothing sent.
    response = client.post(url, {f"reason-{alert.pk}": "  "}, follow=True)
    assert "Justifiez le maintien" in response.content.decode()
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.HELD

    response = client.post(url, {f"reason-{alert.pk}": "Statine suspendue 7 jours"}, follow=True)
    assert "de nouveau en cours d" in response.content.decode()
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    delivery.submission_send(submission_id=prescription.submission.pk)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED


def test_another_prescriber_cannot_decide_on_a_held_prescription(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = held(ordoclic, martin, django_capture_on_commit_callbacks)
    other = workload.prescriber_linked(workload.KARIM_BENALI)
    response = logged_in_client(other).post(
        reverse("prescriptions:held_release", args=[prescription.pk]), {}
    )
    assert response.status_code in (403, 404)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.HELD


def test_operations_page_shows_queue_breaker_errors_and_held_without_patient_data(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    queued = signed_while_down(ordoclic, martin, django_capture_on_commit_callbacks)
    Submission.objects.filter(prescription=queued).update(
        created_at=timezone.now() - timedelta(minutes=12)
    )
    kept = held(ordoclic, martin, django_capture_on_commit_callbacks)
    # Names no one else on the page can have (random ones collided with the prescriber's).
    Patient.objects.filter(pk__in=[queued.patient_id, kept.patient_id]).update(
        last_name="Zéphyrinois", first_name="Ombeline"
    )
    queued.refresh_from_db()
    kept.refresh_from_db()
    page = (
        # (an admin with a fixed name: a random one could be the patient's, in the top bar)
        logged_in_client(AdminFactory(first_name="Alix", last_name="Exploitation"))
        .get(reverse("prescriptions:operations"))
        .content.decode()
    )
    assert '<p class="ops-value" id="ops-queued">1</p>' in page
    assert "12\xa0minutes" in page  # the oldest queued submission's age
    assert '<p class="ops-value" id="ops-held">1</p>' in page
    assert reverse("prescriptions:submission_requeue", args=[kept.submission.pk]) in page
    assert "server error (HTTP 503)" in page  # the last Ordoclic errors
    for patient in (queued.patient, kept.patient):
        assert patient.last_name not in page
        assert patient.first_name not in page


def test_operations_page_refreshes_its_figures_as_a_partial(
    ordoclic: Any, logged_in_client: Any
) -> None:
    response = logged_in_client(AdminFactory()).get(
        reverse("prescriptions:operations"), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="ops-health"')
    assert "<html" not in html


def test_admin_requeues_a_held_submission_from_the_operations_page(
    ordoclic: Any, martin: Any, logged_in_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = held(ordoclic, martin, django_capture_on_commit_callbacks)
    client = logged_in_client(AdminFactory())
    url = reverse("prescriptions:submission_requeue", args=[prescription.submission.pk])
    response = client.post(url, follow=True)
    assert "relancée" in response.content.decode()
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    # Requeuing again what is no longer held: refused with a message, nothing changes.
    response = client.post(url, follow=True)
    assert "pas en attente" in response.content.decode()


def test_command_lists_and_requeues_held_submissions(
    ordoclic: Any, martin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = held(ordoclic, martin, django_capture_on_commit_callbacks)
    second = held(ordoclic, martin, django_capture_on_commit_callbacks)
    out = StringIO()
    call_command("submissions", "list", stdout=out)
    listing = out.getvalue()
    assert f"{first.submission.pk}\t{first.pk}\theld" in listing
    assert f"{second.submission.pk}\t{second.pk}\theld" in listing
    assert first.patient.last_name not in listing

    call_command("submissions", "requeue", "--id", str(first.submission.pk), stdout=StringIO())
    assert Submission.objects.get(pk=first.submission.pk).status == SubmissionStatus.QUEUED
    with pytest.raises(CommandError, match="pas en attente"):
        call_command("submissions", "requeue", "--id", str(first.submission.pk))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("submissions", "requeue", "--id", "999999")

    out = StringIO()
    call_command("submissions", "requeue", "--all-held", stdout=out)
    assert "requeued 1 submission(s)" in out.getvalue()
    assert Submission.objects.get(pk=second.submission.pk).status == SubmissionStatus.QUEUED


def test_operations_page_shows_the_shared_breaker_open(logged_in_client: Any) -> None:
    from django.conf import settings

    from origami.ordoclic import get_breaker

    breaker = get_breaker()
    breaker.reset()
    client = logged_in_client(AdminFactory())
    try:
        page = client.get(reverse("prescriptions:operations")).content.decode()
        assert "Fermé" in page
        for _ in range(settings.ORDOCLIC_BREAKER_FAILURES):
            breaker.record_failure("connection refused")
        page = client.get(reverse("prescriptions:operations")).content.decode()
        assert "Ouvert" in page
        assert "connection refused" in page
    finally:
        breaker.reset()
