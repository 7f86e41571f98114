from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404
from django.urls import reverse

from prescriptions.drafting import favourites
from prescriptions.errors import PrescriptionError
from prescriptions.models import AnalysisRun, AuditAction, AuditEvent, Protocol
from tests.factories import ExerciseContextFactory, PrescriberFactory

from ..conftest import catalogue_drug, other_prescriber
from .test_services import add, draft_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
AMOX = catalogue_drug("64539416")  # CLAMOXYL 1 g, comprimé dispersible
DOLIPRANE = catalogue_drug("60234100")  # DOLIPRANE 1000 mg, comprimé
SIMVA = catalogue_drug("69094525")


def test_a_line_kept_as_favourite_comes_first_in_the_search_and_fills_the_line(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    line = add(prescription, prescriber, AMOX, "1 cp x3/j 6j")
    client = logged_in_client(prescriber)
    response = client.post(
        reverse("prescriptions:favourite_from_line", args=[prescription.pk, line.pk]), **HTMX
    )
    assert "est dans vos favoris" in response.content.decode()
    # Twice the same line: one favourite.
    client.post(reverse("prescriptions:favourite_from_line", args=[prescription.pk, line.pk]))
    assert list(
        favourites.favourites_for(user=prescriber).values_list("posology_text", flat=True)
    ) == ["1 comprimé 3 fois par jour pendant 6 jours"]

    results = client.get(
        reverse("prescriptions:drug_search", args=[prescription.pk]), {"q": "amox"}
    ).content.decode()
    first = results.index('class="rx-drug')
    assert results.index("rx-favourite") == first + len('class="rx-drug ')
    assert "★ Favori" in results
    assert 'data-posology="1 comprimé 3 fois par jour pendant 6 jours"' in results
    # The favourite's posology is the printed sentence: it parses back to the same line.
    prescription.refresh_from_db()
    again = add(prescription, prescriber, AMOX, "1 comprimé 3 fois par jour pendant 6 jours")
    assert (again.dose, again.frequency_count, again.duration_value) == (1, 3, 6)


def test_favourites_answer_in_the_search_when_ordoclic_does_not(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    from ..conftest import sandbox_fault

    prescription = draft_for(prescriber, patient)
    line = add(prescription, prescriber, DOLIPRANE, "1 cp x3/j si besoin max 3/24h")
    favourites.favourite_create_from_line(line=line, acting_user=prescriber)
    sandbox_fault(ordoclic, "down")
    results = (
        logged_in_client(prescriber)
        .get(reverse("prescriptions:drug_search", args=[prescription.pk]), {"q": "parac"})
        .content.decode()
    )
    assert "DOLIPRANE 1000 mg" in results  # found by its substance
    assert "rx-favourite" in results


def test_favourites_are_the_prescribers_own_and_are_renamed_and_deleted(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    line = add(prescription, prescriber, AMOX, "1 cp x3/j 6j")
    favourite = favourites.favourite_create_from_line(line=line, acting_user=prescriber)
    other = other_prescriber()
    assert list(favourites.favourites_for(user=other)) == []
    with pytest.raises(Http404):
        favourites.favourite_get_for(user=other, pk=favourite.pk)
    # Another prescriber cannot keep my line as their favourite.
    assert (
        logged_in_client(other)
        .post(reverse("prescriptions:favourite_from_line", args=[prescription.pk, line.pk]))
        .status_code
        == 404
    )

    client = logged_in_client(prescriber)
    client.post(
        reverse("prescriptions:favourite_rename", args=[favourite.pk]), {"name": "Angine amox"}
    )
    page = client.get(reverse("prescriptions:favourites")).content.decode()
    assert 'value="Angine amox"' in page
    client.post(reverse("prescriptions:favourite_delete", args=[favourite.pk]))
    assert not favourites.favourites_for(user=prescriber).exists()


def test_a_protocol_saved_from_a_draft_is_inserted_in_one_change_and_analysed_once(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    source = draft_for(prescriber, patient)
    add(source, prescriber, AMOX, "1 cp x3/j 6j")
    add(source, prescriber, DOLIPRANE, "1 cp x3/j si besoin max 3/24h")
    client = logged_in_client(prescriber)
    client.post(
        reverse("prescriptions:protocol_from_draft", args=[source.pk]), {"name": "Angine adulte"}
    )
    [protocol] = favourites.protocols_visible_to(user=prescriber)
    assert [line.label for line in protocol.lines.all()] == [AMOX.label, DOLIPRANE.label]

    draft = draft_for(prescriber, patient)
    add(draft, prescriber, SIMVA, "1 cp le soir")
    draft.refresh_from_db()
    before = draft.version
    results = client.get(
        reverse("prescriptions:drug_search", args=[draft.pk]), {"q": "angine"}
    ).content.decode()
    assert "Protocole" in results
    assert "Angine adulte" in results
    response = client.post(
        reverse("prescriptions:protocol_insert", args=[draft.pk, protocol.pk]),
        {"version": before},
        **HTMX,
    )
    triggers = response.headers.get("HX-Trigger-After-Settle", "") + response.headers.get(
        "HX-Trigger", ""
    )
    assert "draft-changed" in triggers  # one analysis asked
    draft.refresh_from_db()
    assert draft.version == before + 1
    assert [line.label for line in draft.lines.order_by("position")] == [
        SIMVA.label,
        AMOX.label,
        DOLIPRANE.label,
    ]
    event = AuditEvent.objects.get(prescription=draft, action=AuditAction.PROTOCOL_INSERTED)
    assert event.details["protocol"] == protocol.pk
    assert len(event.details["lines"]) == 2
    client.post(reverse("prescriptions:analyse", args=[draft.pk]), **HTMX)
    run = AnalysisRun.objects.get(prescription=draft, version=draft.version)
    assert run.outcome == "done"
    # An insert sent from an older screen is refused, nothing added.
    refused = client.post(
        reverse("prescriptions:protocol_insert", args=[draft.pk, protocol.pk]),
        {"version": before},
        **HTMX,
    )
    assert "draft-changed" not in refused.headers.get("HX-Trigger", "")
    assert "draft-changed" not in refused.headers.get("HX-Trigger-After-Settle", "")
    assert draft.lines.count() == 3


def test_a_shared_protocol_is_seen_in_its_structure_and_changed_by_its_author_only(
    prescriber: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    structure = prescriber.practitioner.exercise_contexts.first()
    colleague = PrescriberFactory()
    ExerciseContextFactory(
        practitioner=colleague.practitioner,
        name="Même cabinet",
        finess=structure.finess,
        am_number=structure.am_number,
    )
    stranger = PrescriberFactory()
    personal = favourites.protocol_create(acting_user=prescriber, name="Lombalgie aiguë")
    shared = favourites.protocol_create(
        acting_user=prescriber, name="Post-opératoire", shared_context=structure
    )
    assert set(favourites.protocols_visible_to(user=colleague)) == {shared}
    assert list(favourites.protocols_visible_to(user=stranger)) == []
    assert set(favourites.protocols_visible_to(user=prescriber)) == {personal, shared}

    colleague_client = logged_in_client(colleague)
    page = colleague_client.get(reverse("prescriptions:protocol", args=[shared.pk]))
    assert page.status_code == 200
    assert "seul son auteur le modifie" in page.content.decode()
    for name in ("protocol_update", "protocol_delete", "protocol_line_add"):
        response = colleague_client.post(
            reverse(f"prescriptions:{name}", args=[shared.pk]), {"name": "Pris"}
        )
        assert response.status_code == 404, name
    assert Protocol.objects.get(pk=shared.pk).name == "Post-opératoire"
    assert (
        logged_in_client(stranger)
        .get(reverse("prescriptions:protocol", args=[shared.pk]))
        .status_code
        == 404
    )


def test_a_protocol_written_from_scratch_checks_each_line(
    prescriber: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    client = logged_in_client(prescriber)
    response = client.post(reverse("prescriptions:protocol_create"), {"name": "Angine adulte"})
    protocol = Protocol.objects.get(practitioner=prescriber.practitioner)
    assert response.url == reverse("prescriptions:protocol", args=[protocol.pk])
    refused = client.post(
        reverse("prescriptions:protocol_line_add", args=[protocol.pk]),
        {"drug_code": AMOX.code, "posology": "trois fois rien"},
        **HTMX,
    )
    assert 'role="alert"' in refused.content.decode()
    assert not protocol.lines.exists()
    client.post(
        reverse("prescriptions:protocol_line_add", args=[protocol.pk]),
        {"drug_code": AMOX.code, "posology": "1 cp x3/j 6j", "renewals": "0"},
        **HTMX,
    )
    [line] = protocol.lines.all()
    assert (line.label, line.posology_text) == (
        AMOX.label,
        "1 comprimé 3 fois par jour pendant 6 jours",
    )
    # The same name twice is refused, in words.
    with pytest.raises(PrescriptionError, match="déjà un protocole"):
        favourites.protocol_create(acting_user=prescriber, name="angine adulte")


def test_a_protocol_inserted_while_ordoclic_is_down_is_checked_before_sending(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    source = draft_for(prescriber, patient)
    add(source, prescriber, AMOX, "1 cp x3/j 6j")
    client = logged_in_client(prescriber)
    client.post(reverse("prescriptions:protocol_from_draft", args=[source.pk]), {"name": "Angine"})
    [protocol] = favourites.protocols_visible_to(user=prescriber)

    online = draft_for(prescriber, patient)
    favourites.prescription_protocol_insert(
        prescription=online, acting_user=prescriber, version=online.version, protocol=protocol
    )
    assert [line.drug_verified for line in online.lines.all()] == [True]

    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
    offline = draft_for(prescriber, patient)
    favourites.prescription_protocol_insert(
        prescription=offline, acting_user=prescriber, version=offline.version, protocol=protocol
    )
    # the product as the memory knows it, marked for the check before sending
    assert [line.drug_verified for line in offline.lines.all()] == [False]
