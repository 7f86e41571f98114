"""What the prescriber sees is what is signed, and the open pages follow: the server's side of
the draft's watch, of a refused signature, of the live status and of the drug preview."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from prescriptions.drafting import services
from prescriptions.drugs.catalogue import drug_choice_for_code
from prescriptions.models import AnalysisRun, BusinessStatus, Prescription, TransmissionStatus
from tests.prescriptions.conftest import (
    DOLIPRANE,
    catalogue_drug,
    draft_with_lines,
    sandbox_fault,
    sign_and_register,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ZECLAR = "67997205"  # clarithromycine (macrolide)
COUMADINE = "64631925"  # warfarine (AVK)


def watch(client: Any, prescription: Prescription, shown: int, **typed: str) -> Any:
    return client.post(
        reverse("prescriptions:draft_watch", args=[prescription.pk]),
        {"shown": shown, **typed},
        **HTMX,
    )


def test_the_watch_says_nothing_while_the_draft_is_the_one_shown(
    prescriber: Any, logged_in_client: Any
) -> None:
    prescription = draft_with_lines(user=prescriber)
    response = watch(logged_in_client(prescriber), prescription, prescription.version)
    assert response.status_code == 204


def test_a_draft_changed_elsewhere_comes_back_whole_with_what_was_typed(
    prescriber: Any, logged_in_client: Any
) -> None:
    prescription = draft_with_lines(user=prescriber)
    shown = prescription.version
    line = prescription.lines.first()
    services.prescription_line_update(
        line=line,
        acting_user=prescriber,
        version=shown,
        data=services.LineInput(posology="2 cp le soir 3 jours"),
    )
    html = watch(
        logged_in_client(prescriber), prescription, shown, posology="1 sachet le matin"
    ).content.decode()
    assert "modifiée ailleurs" in html
    assert "2 comprimés le soir pendant 3 jours" in html
    assert 'value="1 sachet le matin"' in html  # what this tab was typing is kept
    assert 'id="analysis"' in html  # the analysis too, out of band
    assert html.count('hx-swap-oob="true"') >= 1


def test_the_watch_of_a_draft_signed_elsewhere_goes_to_the_prescription(
    prescriber: Any, logged_in_client: Any
) -> None:
    prescription = draft_with_lines(user=prescriber)
    shown = prescription.version
    sign_and_register(user=prescriber, prescription=prescription)
    response = watch(logged_in_client(prescriber), prescription, shown)
    assert response.headers["HX-Redirect"] == reverse(
        "prescriptions:detail", args=[prescription.pk]
    )


def test_a_stale_signature_is_refused_and_the_whole_screen_comes_back(
    prescriber: Any, logged_in_client: Any
) -> None:
    prescription = draft_with_lines(user=prescriber)
    services.prescription_analyse(prescription=prescription, acting_user=prescriber)
    shown = prescription.version
    line = prescription.lines.first()
    services.prescription_line_update(
        line=line,
        acting_user=prescriber,
        version=shown,
        data=services.LineInput(posology="2 cp le soir 3 jours"),
    )
    html = (
        logged_in_client(prescriber)
        .post(reverse("prescriptions:sign", args=[prescription.pk]), {"version": shown}, **HTMX)
        .content.decode()
    )
    prescription.refresh_from_db()
    assert prescription.status == BusinessStatus.DRAFT
    assert "modifiée entre-temps" in html
    editor = html[html.index('<section id="editor"') :]
    assert editor.startswith('<section id="editor" class="rx-editor"')
    assert 'hx-swap-oob="true"' in editor[:300]
    assert "2 comprimés le soir pendant 3 jours" in editor


def test_the_preview_shows_the_interaction_of_the_picked_drug_and_stores_nothing(
    prescriber: Any, logged_in_client: Any
) -> None:
    prescription = draft_with_lines(user=prescriber, drugs=())
    services.prescription_line_add(
        prescription=prescription,
        acting_user=prescriber,
        version=prescription.version,
        drug=catalogue_drug(COUMADINE),
        data=services.LineInput(posology="1 cp le soir"),
    )
    runs = AnalysisRun.objects.count()
    html = (
        logged_in_client(prescriber)
        .get(
            reverse("prescriptions:drug_preview", args=[prescription.pk]),
            {"drug_code": ZECLAR},
            **HTMX,
        )
        .content.decode()
    )
    assert "Aperçu" in html
    assert "Warfarine + clarithromycine" in html
    assert AnalysisRun.objects.count() == runs


def test_the_preview_says_when_it_could_not_run(
    ordoclic: Any, prescriber: Any, logged_in_client: Any
) -> None:
    prescription = draft_with_lines(user=prescriber)
    # DOLIPRANE seen through Ordoclic once (as the search would): origami's memory knows it.
    drug_choice_for_code(rpps=prescriber.practitioner.rpps, code=DOLIPRANE[0])
    sandbox_fault(ordoclic, "down")
    html = (
        logged_in_client(prescriber)
        .get(
            reverse("prescriptions:drug_preview", args=[prescription.pk]),
            {"drug_code": DOLIPRANE[0]},
            **HTMX,
        )
        .content.decode()
    )
    assert "Aperçu non effectué" in html
    assert "Aucune alerte" not in html


def live(client: Any, prescription: Prescription, shown: str, polls: int) -> str:
    return str(
        client.get(
            reverse("prescriptions:live", args=[prescription.pk]),
            {"shown": shown, "n": polls},
            **HTMX,
        ).content.decode()
    )


def test_a_queued_prescription_is_followed_ever_more_slowly_and_shown_again_once_sent(
    ordoclic: Any, prescriber: Any, logged_in_client: Any
) -> None:
    from prescriptions.delivery import signing, submissions
    from prescriptions.live import status_key

    prescription = draft_with_lines(user=prescriber)
    services.prescription_analyse(prescription=prescription, acting_user=prescriber)
    sandbox_fault(ordoclic, "down")
    signing.prescription_sign(
        prescription=prescription, acting_user=prescriber, version=prescription.version
    )
    prescription = Prescription.objects.get(pk=prescription.pk)
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    client = logged_in_client(prescriber)
    key = status_key(prescription)

    first = live(client, prescription, key, 0)  # the page asked after 2 s
    assert "delay:3s" in first
    unchanged = live(client, prescription, key, 3)
    assert 'id="live-status"' in unchanged
    assert "delay:13s" in unchanged  # later each time
    assert "n=4" in unchanged
    assert "prescription-card" not in unchanged

    sandbox_fault(ordoclic, "ok")
    submissions.submission_send(submission_id=prescription.submission.pk)
    changed = live(client, prescription, key, 4)
    assert 'id="prescription-card"' in changed
    assert "Ordonnance enregistrée" in changed


def test_a_settled_prescription_is_no_longer_followed(
    prescriber: Any, logged_in_client: Any
) -> None:
    from prescriptions.live import MAX_POLLS, status_key

    prescription = sign_and_register(
        user=prescriber, prescription=draft_with_lines(user=prescriber)
    )
    client = logged_in_client(prescriber)
    html = live(client, prescription, status_key(prescription), MAX_POLLS)
    assert 'id="live-status"' not in html
