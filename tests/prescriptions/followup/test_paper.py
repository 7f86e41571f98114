"""The paper copy: every mandatory mention of an ordonnance numérique, and no copy that could pass
for a valid prescription when it is not one (cancelled, replaced, being cancelled, not yet
registered)."""

from __future__ import annotations

import datetime
import html as markup
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from origami.patients.models import LongTermCondition
from prescriptions.delivery import signing
from prescriptions.drafting import services
from prescriptions.drugs.catalogue import DrugChoice
from prescriptions.followup.cancellation import prescription_cancel
from prescriptions.followup.paper import instructions_sentence
from prescriptions.models import Prescription
from tests.factories import PatientFactory

from ..conftest import (
    catalogue_drug,
    draft_with_lines,
    registered_prescription,
    sign_and_register,
)

pytestmark = [pytest.mark.django_db]

LEVOTHYROX = DrugChoice(
    code="68416845",
    label="LEVOTHYROX 100 microgrammes, comprimé sécable",
    substance="lévothyroxine sodique",
    form="comprimé sécable",
    route="orale",
    default_unit="comprimé",
)
ADVIL = "63646874"  # ADVIL 400 mg: no reimbursed presentation
DOLIPRANE_SUSPENSION = DrugChoice(
    code="60234100",
    label="DOLIPRANE 2,4 %, suspension buvable",
    substance="paracétamol",
    form="suspension buvable",
    route="orale",
    default_unit="ml",
)


def paper(client: Any, prescription: Prescription) -> str:
    response = client.get(reverse("prescriptions:paper", args=[prescription.pk]))
    assert response.status_code == 200
    return str(response.content.decode())


def text_of(html: str) -> str:
    """What a reader sees: the markup gone, the spaces folded."""
    return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def test_a_registered_copy_carries_every_mandatory_mention(
    ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    """DOMAIN.md §3, one by one."""
    patient = PatientFactory(
        last_name="Lefèvre",
        first_name="Jeanne",
        sex="F",
        birth_date=datetime.date(1961, 4, 23),
        weight_kg=None,
    )
    LongTermCondition.objects.create(patient=patient, label="Hypothyroïdie")
    prescription = draft_with_lines(user=martin, patient=patient, objection=True)
    services.prescription_line_add(
        prescription=prescription,
        acting_user=martin,
        version=prescription.version,
        drug=LEVOTHYROX,
        data=services.LineInput(
            posology="1 cp le matin 1 mois",
            quantity="1 boîte de 30",
            renewals=2,
            non_substitutable=True,
            non_substitutable_reason="MTE",
            ald=True,
            instructions="à jeun, une demi-heure avant le petit déjeuner",
        ),
    )
    prescription.refresh_from_db()
    services.prescription_line_add(
        prescription=prescription,
        acting_user=martin,
        version=prescription.version,
        drug=catalogue_drug(ADVIL),
        data=services.LineInput(posology="1 cp si besoin max 3/24h 3j"),
    )
    prescription = sign_and_register(user=martin, prescription=prescription)
    html = paper(logged_in_client(martin), prescription)
    shown = text_of(html)
    practitioner = martin.practitioner
    context = prescription.exercise_context
    signed_on = timezone.localtime(prescription.signed_at).date()
    mentions = {
        "date of the prescription": f"{context.city}, le {signed_on.day} ",
        "patient's last name": "LEFÈVRE Jeanne",
        "patient's sex": "Sexe : Féminin",
        "patient's date of birth": "Date de naissance : 23/04/1961",
        "patient's age": f"{patient.age_on(signed_on)} ans",
        "prescriber's name": practitioner.display_name,
        "prescriber's profession": str(practitioner.get_profession_display()),
        "prescriber's RPPS": f"RPPS {practitioner.rpps}",
        "structure identifier": (
            f"FINESS {context.finess}" if context.finess else f"N° AM {context.am_number}"
        ),
        "structure address": f"{context.address}, {context.postcode} {context.city}",
        "the lines": "LEVOTHYROX 100 microgrammes, comprimé sécable",
        "a line's posology": "1 comprimé le matin pendant 1 mois.",
        "a line's quantity": "Quantité : 1 boîte de 30",
        "instructions as a sentence of their own": (
            "À jeun, une demi-heure avant le petit déjeuner."
        ),
        "ALD zone (bizone)": "affection de longue durée reconnue",
        "non-ALD zone (bizone)": "sans rapport avec l'affection de longue durée",
        "renewals": "À renouveler 2 fois",
        "a drug not reimbursed (NR)": "ADVIL 400 mg, comprimé enrobé (ibuprofène) NR",
        "non substituable with its reason": "Non substituable (MTE)",
        "the patient's objection to dispensing follow-up": "s'oppose à ce que le prescripteur",
        "the unique number, grouped by four": grouped(prescription.number),
        "signature": "Signature",
        "software version": f"origami {prescription.software_version}",
    }
    missing = [name for name, mention in mentions.items() if mention not in shown]
    assert not missing, missing
    assert 'id="paper-qr"' in html
    assert "data:image/svg+xml" in html
    # The instructions are not appended in lower case after the posology's full stop.
    assert ". à jeun" not in shown
    assert shown.count("NR (non remboursable)") == 1  # the reimbursed ones are not flagged
    # No weight for an adult whose doses are counted in tablets.
    assert "Poids" not in shown
    assert "paper-mark" not in html
    assert "non encore enregistrée" not in shown


def test_a_child_copy_carries_the_weight_and_a_missing_weight_is_said(
    ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    child = PatientFactory(
        birth_date=timezone.localdate() - datetime.timedelta(days=365 * 4 + 40),
        weight_kg=Decimal("16.5"),
    )
    prescription = draft_with_lines(user=martin, patient=child, drugs=())
    services.prescription_line_add(
        prescription=prescription,
        acting_user=martin,
        version=prescription.version,
        drug=DOLIPRANE_SUSPENSION,
        data=services.LineInput(posology="10 ml toutes les 6h si besoin 3j"),
    )
    prescription = sign_and_register(user=martin, prescription=prescription)
    client = logged_in_client(martin)
    assert "Poids : 16,5 kg" in text_of(paper(client, prescription))
    child.weight_kg = None
    child.save()
    assert "Poids : non renseigné" in text_of(paper(client, prescription))


def test_a_queued_copy_keeps_its_banner_and_has_no_qr_code_nor_number(
    ordoclic: Any, martin: Any, logged_in_client: Any
) -> None:
    prescription = draft_with_lines(user=martin)
    services.prescription_analyse(prescription=prescription, acting_user=martin)
    prescription.refresh_from_db()
    # Signed, the send attempt not made (it runs after the commit): queued.
    signing.prescription_sign(
        prescription=prescription, acting_user=martin, version=prescription.version
    )
    prescription.refresh_from_db()
    assert prescription.transmission_status == "queued"
    html = paper(logged_in_client(martin), prescription)
    assert "non encore enregistrée" in text_of(html)
    assert "data:image/svg+xml" not in html
    assert 'id="paper-qr"' not in html
    assert 'id="paper-number"' not in html


def test_a_cancelled_copy_is_marked_with_date_and_reason_and_no_qr_code(
    ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    prescription = registered_prescription(user=martin)
    with django_capture_on_commit_callbacks(execute=True):
        prescription_cancel(
            prescription=prescription,
            acting_user=martin,
            reason="other",
            comment="allergie découverte " + "x" * 400,
        )
    prescription.refresh_from_db()
    assert prescription.status == "cancelled"
    html = paper(logged_in_client(martin), prescription)
    shown = text_of(html)
    day = timezone.localtime(prescription.cancelled_at).strftime("%d/%m/%Y")
    assert 'id="paper-mark"' in html
    assert "ANNULÉE" in shown
    assert f"L'ordonnance n° {prescription.number} a été annulée le {day}" in shown
    assert "Motif : Autre motif (allergie découverte" in shown
    assert "x" * 200 not in shown  # a short excerpt of the comment, not all of it
    assert "data:image/svg+xml" not in html
    assert 'id="paper-qr"' not in html
    assert 'id="paper-number"' not in html
    # The number appears only inside the mark's sentence, never as a valid number.
    assert shown.count(prescription.number) == 1
    assert grouped(prescription.number) not in shown


def test_a_copy_whose_cancellation_is_pending_is_marked_and_has_no_qr_code(
    ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.prescriptions.conftest import sandbox_fault

    prescription = registered_prescription(user=martin)
    sandbox_fault(ordoclic, "down")
    with django_capture_on_commit_callbacks(execute=True):
        prescription_cancel(prescription=prescription, acting_user=martin, reason="entry_error")
    prescription.refresh_from_db()
    assert prescription.status == "signed"  # Ordoclic has not confirmed yet
    html = paper(logged_in_client(martin), prescription)
    assert "ANNULATION DEMANDÉE" in text_of(html)
    assert "Motif : Erreur de saisie" in text_of(html)
    assert "data:image/svg+xml" not in html
    assert 'id="paper-number"' not in html


def test_a_replaced_copy_is_marked_with_its_replacement_and_no_qr_code(
    ordoclic: Any,
    martin: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    old = registered_prescription(user=martin)
    client = logged_in_client(martin)
    assert client.post(reverse("prescriptions:reissue", args=[old.pk])).status_code == 302
    new = Prescription.objects.get(replaces=old)
    with django_capture_on_commit_callbacks(execute=True):
        new = sign_and_register(user=martin, prescription=new)
    old.refresh_from_db()
    assert old.status == "replaced"
    html = paper(client, old)
    shown = text_of(html)
    assert 'id="paper-mark"' in html
    assert "REMPLACÉE" in shown
    assert f"remplacée le {timezone.localtime(old.cancelled_at):%d/%m/%Y}" in shown
    assert f"par l'ordonnance n° {new.number}" in shown
    assert "Motif" not in shown  # the sentence says it all: no reason repeating it
    assert "data:image/svg+xml" not in html
    assert 'id="paper-number"' not in html
    # The new one is a valid copy.
    new_html = paper(client, new)
    assert "data:image/svg+xml" in new_html
    assert grouped(new.number) in text_of(new_html)
    assert "paper-mark" not in new_html


@pytest.mark.parametrize(
    ("typed", "printed"),
    [
        ("au cours du repas", "Au cours du repas."),
        ("  à jeun.  ", "À jeun."),
        ("Ne pas conduire !", "Ne pas conduire !"),
        ("", ""),
    ],
)
def test_instructions_are_a_sentence_of_their_own(typed: str, printed: str) -> None:
    assert instructions_sentence(typed) == printed
