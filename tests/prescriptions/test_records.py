"""The rows an analysis leaves: never "no alert" when the analysis did not run."""

from __future__ import annotations

import pytest

from ordoclic_client import contract
from prescriptions.models import AnalysisOutcome, AuditAction
from prescriptions.ordoclic import NotAnswered, Refused
from prescriptions.records import analysis_rows
from tests.factories import PatientFactory, PrescriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def prescription():  # type: ignore[no-untyped-def]
    from prescriptions.models import Prescription

    user = PrescriberFactory()
    return Prescription.objects.create(patient=PatientFactory(), prescriber=user.practitioner)


def test_an_answer_gives_its_alerts_tied_to_the_version(prescription) -> None:  # type: ignore[no-untyped-def]
    alert = contract.AnalysisAlert.model_validate(
        {
            "id": "a1",
            "type": "drug_interaction",
            "level": "CI",
            "title": "Simvastatine + clarithromycine",
            "message": "Rhabdomyolyse",
            "lineIds": ["l1", "l2"],
        }
    )
    answer = contract.AnalysisResult.model_validate(
        {
            "analysisId": "x",
            "analysedAt": "2026-12-01T10:00:00Z",
            "alerts": [alert.model_dump(mode="json", by_alias=True)],
        }
    )
    rows = analysis_rows(prescription=prescription, version=3, result=answer, acting_user=None)
    assert rows.run.outcome == AnalysisOutcome.DONE
    assert [(a.level, a.version, a.line_refs) for a in rows.alerts] == [("CI", 3, ["l1", "l2"])]
    assert rows.audit.action == AuditAction.ANALYSED
    assert rows.audit.details["alerts"] == {"CI": 1}


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        (NotAnswered(reason="read timeout", sent=True), AnalysisOutcome.UNAVAILABLE),
        (Refused(message="drug unknown", status=422), AnalysisOutcome.REJECTED),
    ],
)
def test_an_analysis_that_did_not_run_says_so_with_no_alert(prescription, result, outcome) -> None:  # type: ignore[no-untyped-def]
    rows = analysis_rows(prescription=prescription, version=1, result=result, acting_user=None)
    assert rows.run.outcome == outcome
    assert rows.run.reason
    assert rows.alerts == []
