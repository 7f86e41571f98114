"""The Prometheus endpoint: refused without its token, and what it lists is what a monitoring
system needs (queues, held, breaker, Ordoclic calls, analyses not done, login failures, request
latency per view) with no patient or prescriber identity anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from origami import metrics
from origami.ordoclic import get_breaker, reset_client
from prescriptions.models import AnalysisOutcome, AnalysisRun, Submission, SubmissionStatus
from tests.chaos import workload
from tests.factories import PrescriberFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"


@pytest.fixture(autouse=True)
def clean_state() -> Iterator[None]:
    cache.clear()  # the login lockout counters
    metrics.shared_counters().clear()
    reset_client()
    get_breaker().reset()
    with override_settings(ORIGAMI_METRICS_TOKEN=TOKEN):
        yield
    get_breaker().reset()
    reset_client()
    metrics.shared_counters().clear()


def scrape() -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    response = Client().get("/metriques/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    text = response.content.decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_no_token_configured_means_no_endpoint() -> None:
    with override_settings(ORIGAMI_METRICS_TOKEN=""):
        assert Client().get("/metriques/", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_a_wrong_or_missing_token_is_refused_even_to_an_admin() -> None:
    from tests.factories import AdminFactory

    admin = login(Client(), AdminFactory())
    assert admin.get("/metriques/").status_code == 401
    response = Client().get("/metriques/", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/metriques/", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


def test_queue_figures_come_from_the_database(ordoclic: Any, monkeypatch: Any) -> None:
    from prescriptions.delivery.submissions import SUBMISSIONS

    monkeypatch.setattr(SUBMISSIONS, "enqueue", lambda *, pk, at: True)
    user = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
    signed = []
    for _ in range(3):
        prescription = workload.ready_to_sign(user, workload.draft(user))
        workload.sign(user, prescription)
        signed.append(prescription)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Submission.objects.filter(prescription=signed[0]).update(created_at=an_hour_ago)
    Submission.objects.filter(prescription=signed[2]).update(status=SubmissionStatus.HELD)

    text, samples = scrape()

    assert value(samples, "origami_submissions_queued") == 2
    assert 3590 < value(samples, "origami_submission_oldest_queued_age_seconds") < 3700
    assert value(samples, "origami_prescriptions_held") == 1
    assert value(samples, "origami_submissions", status="held") == 1
    assert value(samples, "origami_cancellations_queued") == 0
    assert value(samples, "origami_cancellation_oldest_queued_age_seconds") == 0
    not_done = AnalysisRun.objects.filter(outcome=AnalysisOutcome.UNAVAILABLE).count()
    assert not_done >= 3  # signed while Ordoclic was down: analysis not done
    assert value(samples, "origami_analyses_not_done_total", outcome="unavailable") == not_done
    # No identity in any label or value: the prescriber's RPPS and name, the patients' names.
    patient = signed[0].patient
    for secret in (user.practitioner.rpps, user.last_name, patient.last_name, patient.nir):
        assert secret
        assert secret not in text


def test_breaker_state_is_reported() -> None:
    _, samples = scrape()
    assert value(samples, "origami_ordoclic_breaker_state", state="closed") == 1
    for _ in range(5):
        get_breaker().record_failure("down")
    _, samples = scrape()
    assert value(samples, "origami_ordoclic_breaker_state", state="open") == 1
    assert value(samples, "origami_ordoclic_breaker_state", state="closed") == 0


def test_ordoclic_calls_are_counted_by_kind_and_outcome_whatever_process_made_them() -> None:
    """The transport wrapper the process's client is built with: a lookup answered, a create
    refused, an analysis that timed out. The counts go to Redis, so the scrape sees calls that a
    Celery worker made."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/prescriptions/analysis":
            raise httpx.ReadTimeout("slow", request=request)
        if request.method == "POST":
            return httpx.Response(422, json={"errors": []})
        return httpx.Response(200, json={"items": []})

    http = httpx.Client(
        base_url="http://ordoclic.test",
        transport=metrics.OrdoclicCallMetrics(httpx.MockTransport(answer)),
    )
    http.get("/v1/prescriptions", params={"externalId": "7f0e"})
    http.get("/v1/prescriptions", params={"externalId": "7f0f"})
    http.post("/v1/prescriptions", json={})
    with pytest.raises(httpx.ReadTimeout):
        http.post("/v1/prescriptions/analysis", json={})
    http.get("/v1/prescriptions/4d6a9e1c-3f0e-4bd1-9a43-8c3c2f5e0b11/status")

    _, samples = scrape()
    calls = "origami_ordoclic_calls_total"
    assert value(samples, calls, kind="prescription_lookup", outcome="ok") == 2
    assert value(samples, calls, kind="prescription_create", outcome="rejected") == 1
    assert value(samples, calls, kind="analysis", outcome="timeout") == 1
    assert value(samples, calls, kind="prescription_status", outcome="ok") == 1
    duration = "origami_ordoclic_call_duration_seconds"
    assert value(samples, f"{duration}_count", kind="prescription_lookup") == 2
    assert value(samples, f"{duration}_bucket", kind="prescription_lookup", le="+Inf") == 2


def test_the_process_client_is_instrumented(tmp_path: Any) -> None:
    from origami.ordoclic import get_client

    with override_settings(ORDOCLIC_PARTNER_ID="p", ORDOCLIC_PRIVATE_KEY_PATH=str(_key(tmp_path))):
        client = get_client()
        assert isinstance(client._http._transport, metrics.OrdoclicCallMetrics)


def _key(tmp_path: Any) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "k.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return path


def test_login_failures_are_counted_by_step_never_by_user() -> None:
    user = PrescriberFactory()
    client = Client()
    for _ in range(2):
        client.post("/connexion/", {"username": user.username, "password": "wrong"})
    client.post("/connexion/", {"username": "nobody-at-all", "password": "wrong"})
    with override_settings(LOGIN_MAX_FAILURES=3):  # the next one is refused by the lockout
        client.post("/connexion/", {"username": user.username, "password": "wrong"})

    text, samples = scrape()
    assert value(samples, "origami_login_failures_total", step="password") == 3
    assert value(samples, "origami_login_failures_total", step="locked") == 1
    assert user.username not in text
    assert "nobody-at-all" not in text


def test_request_latency_is_labelled_by_view_name_not_path(ordoclic: Any) -> None:
    user = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    prescription = workload.draft(user)
    client = login(Client(), user)
    assert client.get(f"/ordonnances/{prescription.pk}/").status_code == 200

    text, samples = scrape()
    assert (
        value(
            samples,
            "origami_http_request_duration_seconds_count",
            view="prescriptions:detail",
            method="GET",
            status="2xx",
        )
        >= 1
    )
    assert f"/ordonnances/{prescription.pk}/" not in text
