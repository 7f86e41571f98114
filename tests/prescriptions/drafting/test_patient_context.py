"""The clinical context updated from the record reaches the prescriptions: traced in their
audit trail (what changed, never the values) and analysed again on the open draft."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from prescriptions.models import AnalysisRun, AuditAction, AuditEvent

from .test_favourites import AMOX
from .test_services import add, analysed, draft_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_an_allergy_added_from_the_screen_is_traced_and_the_draft_is_analysed_again(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    draft = draft_for(prescriber, patient)
    add(draft, prescriber, AMOX, "1 cp x3/j 6j")
    assert not [v for v in analysed(draft, prescriber).alerts if v.alert.type == "allergy"]
    client = logged_in_client(prescriber)
    client.post(
        reverse("patients:allergy_add", args=[patient.pk]),
        {"allergy-substance": "pénicillines", "allergy-reaction": "œdème de Quincke"},
        **HTMX,
    )
    event = AuditEvent.objects.get(action=AuditAction.PATIENT_RECORD_UPDATED)
    assert event.actor == prescriber
    assert event.details == {"patient": patient.pk, "fields": ["allergies"]}
    assert "Quincke" not in str(event.details)
    assert "pénicillines" not in str(event.details)
    # The screen's analysis (asked on "patient-record-changed") no longer stands: a new one runs.
    page = client.post(reverse("prescriptions:analyse", args=[draft.pk]), **HTMX).content.decode()
    assert AnalysisRun.objects.filter(prescription=draft).count() == 2
    assert "Allergie" in page
    assert 'id="patient-banner"' in page
    assert "pénicillines" in page
