"""Alert insight for the medical lead: figures computed in SQL over the period and filters, in a
constant number of queries, shown as charts and downloadable as CSV, never with a patient's
identity; opening the page is an audit event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from prescriptions.insight.selectors import InsightFilters, insight_for
from prescriptions.models import (
    Alert,
    AlertDecision,
    AnalysisOutcome,
    AnalysisRun,
    AuditAction,
    AuditEvent,
    Prescription,
)
from tests.factories import AdminFactory, PatientFactory, PrescriberFactory

pytestmark = pytest.mark.django_db

PAIR = ["simvastatine", "clarithromycine"]


def signed_with_alerts(user: Any, *, level: str, kept: bool, reason: str = "") -> Prescription:
    """A signed prescription whose analysis raised one alert, decided (kept or modified)."""
    practitioner = user.practitioner
    prescription = Prescription.objects.create(
        patient=PatientFactory(last_name="Identifiable", first_name="Jamais"),
        prescriber=practitioner,
        exercise_context=practitioner.exercise_contexts.first(),
        status="signed",
        transmission_status="queued",
        signed_at=timezone.now(),
        software_version="0.1.0",
    )
    run = AnalysisRun.objects.create(
        prescription=prescription, version=prescription.version, outcome=AnalysisOutcome.DONE
    )
    alert = Alert.objects.create(
        prescription=prescription,
        analysis_run=run,
        version=prescription.version,
        ordoclic_alert_id=f"a-{prescription.pk}",
        level=level,
        type="drug_interaction",
        title="Interaction",
        message="…",
        raw={"substances": PAIR},
    )
    AlertDecision.objects.create(
        alert=alert,
        prescription=prescription,
        ordoclic_alert_id=alert.ordoclic_alert_id,
        level=level,
        alert_payload={"substances": PAIR, "title": "Interaction"},
        decision="maintain" if kept else "modify",
        reason=reason,
        decided_by=user,
        exercise_context_id=prescription.exercise_context_id,
        version=prescription.version,
    )
    return prescription


def filters(**extra: Any) -> InsightFilters:
    today = timezone.localdate()
    return InsightFilters(date_from=today - timedelta(days=7), date_to=today, **extra)


def test_override_rates_pairs_and_outcomes_are_counted_by_sql() -> None:
    user = PrescriberFactory()
    signed_with_alerts(user, level="CI", kept=True, reason="Statine suspendue")
    signed_with_alerts(user, level="CI", kept=True, reason="Statine suspendue")
    signed_with_alerts(user, level="CI", kept=False)
    held = signed_with_alerts(user, level="PE", kept=True, reason="Surveillance INR")
    AuditEvent.objects.create(action=AuditAction.SUBMISSION_HELD, prescription=held)
    Prescription.objects.filter(pk=held.pk).update(status="cancelled")

    figures = insight_for(filters=filters())
    rates = {(r.alert_type, r.level): (r.maintained, r.decided) for r in figures.overrides}
    assert rates == {("drug_interaction", "CI"): (2, 3), ("drug_interaction", "PE"): (1, 1)}
    [pair] = figures.pairs
    assert pair.substances == "simvastatine + clarithromycine"
    assert pair.count == 3
    assert pair.reasons[0] == ("Statine suspendue", 2)
    assert (figures.outcomes.signed, figures.outcomes.held, figures.outcomes.cancelled) == (4, 1, 1)
    assert sum(week.alerts for week in figures.weeks) == 4
    assert {d.level for d in figures.delays} == {"CI", "PE"}
    # Filters: one level, one prescriber.
    assert [r.level for r in insight_for(filters=filters(level="PE")).overrides] == ["PE"]
    other = PrescriberFactory()
    assert insight_for(filters=filters(prescriber_id=other.practitioner.pk)).outcomes.signed == 0


def test_the_query_count_does_not_grow_with_the_data(
    django_assert_max_num_queries: Any, logged_in_client: Any
) -> None:
    user = PrescriberFactory()
    client = logged_in_client(AdminFactory())
    signed_with_alerts(user, level="CI", kept=True, reason="r")
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("prescriptions:insight"))
    for index in range(15):
        level = ("CI", "PE", "ASDEC")[index % 3]
        signed_with_alerts(user, level=level, kept=bool(index % 2), reason="r")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("prescriptions:insight"))


def test_the_page_shows_charts_and_no_patient_and_is_traced(logged_in_client: Any) -> None:
    signed_with_alerts(PrescriberFactory(), level="CI", kept=True, reason="r")
    admin = AdminFactory()
    page = logged_in_client(admin).get(reverse("prescriptions:insight")).content.decode()
    assert '<svg class="chart chart-bars"' in page
    assert "simvastatine + clarithromycine" in page
    assert "Identifiable" not in page
    assert "style=" not in page  # strict CSP: no inline style
    assert AuditEvent.objects.filter(action=AuditAction.INSIGHT_VIEWED, actor=admin).exists()


def test_every_figure_downloads_as_csv(logged_in_client: Any) -> None:
    signed_with_alerts(PrescriberFactory(), level="CI", kept=True, reason="=cmd|' /C calc'!A0")
    client = logged_in_client(AdminFactory())
    for figure in ("depassements", "paires", "delais", "devenir", "semaines"):
        answer = client.get(reverse("prescriptions:insight_export", args=[figure]))
        assert answer.status_code == 200
        assert answer["Content-Type"].startswith("text/csv")
        assert len(answer.content.decode().strip().splitlines()) >= 2
    pairs = client.get(reverse("prescriptions:insight_export", args=["paires"])).content.decode()
    assert "=cmd" not in pairs.replace("'=cmd", "")  # a formula is never handed to a spreadsheet
    assert client.get(reverse("prescriptions:insight_export", args=["autre"])).status_code == 404


def test_unreadable_filters_are_said_and_fall_back() -> None:
    parsed, errors = InsightFilters.from_query({"du": "hier", "niveau": "XX", "lieu": "abc"})
    assert len(errors) == 3
    assert parsed.level == ""
    assert parsed.context_id is None
