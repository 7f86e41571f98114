"""The prescription conditions of a line's product (conditions.py): hospital-only products,
restricted products confirmed, narcotics' rules, liste I / II renewals, DCI lines, NR and the
codes that enter the app. Against the in-process sandbox, with the catalogue's real products."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from prescriptions.delivery import signing, submissions
from prescriptions.drafting import payloads, services
from prescriptions.drafting.selectors import prescription_screen
from prescriptions.drafting.services import LineInput
from prescriptions.drugs.catalogue import DrugChoice, drug_choice_for_code
from prescriptions.errors import PrescriptionError
from prescriptions.models import AuditAction, AuditEvent, Prescription, TransmissionStatus
from tests.factories import CurrentTreatmentFactory

from .test_services import add as add_line
from .test_services import analysed, draft_for

pytestmark = pytest.mark.django_db

VENOFER = "60080232"  # réservé à l'usage hospitalier (IV iron)
ZYVOXID = "68311278"  # prescription hospitalière
SPORANOX = "69998156"  # prescription initiale hospitalière annuelle
CURACNE = "69164379"  # specialists (dermatologie), surveillance particulière
ACTISKENAN = "64288864"  # morphine 10 mg gélule: stupéfiant, 28 days
STILNOX = "63179285"  # zolpidem: assimilé, 4 weeks, chevauchement interdit
ZECLAR = "67997205"  # clarithromycine: liste I
ALDACTONE = "64565845"  # liste II
SIMVA = "69094525"
CLAMOXYL = "64539416"  # CLAMOXYL 1 g, comprimé dispersible
DOLIPRANE = "60234100"


def product(code: str, *, dci: bool = False) -> DrugChoice:
    """The product as Ordoclic (the sandbox) gives it, its typed conditions included."""
    return drug_choice_for_code(rpps="10100001238", code=code, dci=dci)


def add_with(prescription: Prescription, user: Any, drug: str | DrugChoice, **data: Any) -> Any:
    prescription.refresh_from_db()
    return services.prescription_line_add(
        prescription=prescription,
        acting_user=user,
        version=prescription.version,
        drug=product(drug) if isinstance(drug, str) else drug,
        data=LineInput(**data),
    )


def add(prescription: Prescription, user: Any, drug: str | DrugChoice, posology: str) -> Any:
    return add_line(prescription, user, product(drug) if isinstance(drug, str) else drug, posology)


def hospital(user: Any) -> None:
    context = user.practitioner.exercise_contexts.first()
    context.kind = "hospital"
    context.save()


def signed(prescription: Prescription, user: Any) -> Prescription:
    """Analysed, its alerts maintained (the prescriber's call), signed and registered."""
    screen = analysed(prescription, user)
    for view in screen.alerts:
        if view.needs_decision:
            services.alert_decide(
                alert=view.alert,
                acting_user=user,
                decision="maintain",
                reason="Relais prévu, patient informé.",
                version=prescription.version,
            )
    prescription.refresh_from_db()
    signing.prescription_sign(
        prescription=prescription, acting_user=user, version=prescription.version
    )
    submissions.submission_send(submission_id=prescription.submission.pk)
    prescription = Prescription.objects.get(pk=prescription.pk)
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    return prescription


# --- badges --------------------------------------------------------------------------------


def test_the_line_and_the_search_result_show_the_conditions_and_the_price(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add_with(
        prescription,
        prescriber,
        CURACNE,
        posology="20 mg le soir 1 mois",
        conditions_confirmed=True,
    )
    client = logged_in_client(prescriber)
    html = client.get(reverse("prescriptions:detail", args=[prescription.pk])).content.decode()
    for badge in ("Liste I", "Spécialiste", "Surveillance particulière"):
        assert f">{badge}</span>" in html
    results = client.get(
        reverse("prescriptions:drug_search", args=[prescription.pk]),
        {"q": "actiskenan"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert ">Stupéfiant</span>" in results
    assert "2,13 €" in results
    assert "remboursé à 65 %" in results
    assert "Prescrire en DCI" in results
    assert "morphine 10 mg, gélule" in results


# --- hospital-only products ----------------------------------------------------------------


def test_a_hospital_only_product_is_refused_in_a_city_context_and_allowed_in_a_hospital(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    for drug in (VENOFER, ZYVOXID):
        # a dose in mg fits every form: what is refused is the place, not the unit
        with pytest.raises(PrescriptionError, match="lieu d'exercice de ville") as refused:
            add(prescription, prescriber, drug, "100 mg matin et soir 10j")
        assert refused.value.field == "drug"
    assert prescription.lines.count() == 0

    hospital(prescriber)
    line = add(prescription, prescriber, ZYVOXID, "1 cp matin et soir 10j")
    assert line.conditions["hospitalPrescription"] is True

    # back to a city practice: the line stays, signing is blocked and says why
    context = prescriber.practitioner.exercise_contexts.first()
    context.kind = "city"
    context.save()
    prescription.refresh_from_db()
    screen = prescription_screen(prescription=prescription)
    assert any("réservé à l'hôpital" in blocker for blocker in screen.blockers)


# --- restricted products: the prescriber confirms -----------------------------------------


def test_initial_hospital_and_specialist_products_ask_a_traced_confirmation(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    for drug in (SPORANOX, CURACNE):
        with pytest.raises(PrescriptionError, match="cochez la case") as refused:
            add(prescription, prescriber, drug, "100 mg le soir 1 mois")
        assert refused.value.field == "conditions_confirmed"

    line = add_with(
        prescription, prescriber, SPORANOX, posology="10 ml x2/j 1 mois", conditions_confirmed=True
    )
    assert line.conditions_confirmed
    event = AuditEvent.objects.filter(
        prescription=prescription, action=AuditAction.LINE_ADDED
    ).get()
    assert event.details["conditions_confirmed"] == ["initial_hospital_prescription"]

    # a product without restriction never records a confirmation
    plain = add_with(
        prescription, prescriber, SIMVA, posology="1 cp le soir", conditions_confirmed=True
    )
    assert not plain.conditions_confirmed


# --- narcotics -----------------------------------------------------------------------------


def test_a_narcotic_gets_its_quantity_in_letters_a_capped_duration_and_no_renewal(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    with pytest.raises(PrescriptionError, match="indiquez la durée"):
        add(prescription, prescriber, ACTISKENAN, "1 gél matin et soir")
    with pytest.raises(PrescriptionError, match="limitée à 28 jours") as too_long:
        add(prescription, prescriber, ACTISKENAN, "1 gél matin et soir 30j")
    assert too_long.value.field == "posology"
    with pytest.raises(PrescriptionError, match="ne se renouvelle pas") as renewed:
        add_with(
            prescription, prescriber, ACTISKENAN, posology="1 gél matin et soir 14j", renewals=1
        )
    assert renewed.value.field == "renewals"

    line = add_with(
        prescription,
        prescriber,
        ACTISKENAN,
        posology="1 gél matin et soir 14j",
        quantity="2 boîtes",
    )
    assert line.quantity == "vingt-huit (28) gélules"
    assert line.renewals == 0


def test_an_assimile_follows_the_same_rules(prescriber: Any, patient: Any, ordoclic: Any) -> None:
    prescription = draft_for(prescriber, patient)
    with pytest.raises(PrescriptionError, match="limitée à 28 jours"):
        add(prescription, prescriber, STILNOX, "1 cp le soir 5 semaines")
    line = add(prescription, prescriber, STILNOX, "1 cp le soir 21j")
    assert line.quantity == "vingt et un (21) comprimés"


def test_an_overlapping_narcotic_needs_the_express_mention_printed_on_the_paper(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    first = draft_for(prescriber, patient)
    add(first, prescriber, ACTISKENAN, "1 gél matin et soir 14j")
    signed(first, prescriber)

    second = draft_for(prescriber, patient)
    # the same substance prescribed in DCI is the same narcotic
    in_dci = drug_choice_for_code(rpps=prescriber.practitioner.rpps, code="64288864", dci=True)
    with pytest.raises(PrescriptionError, match="chevauchement") as refused:
        add(second, prescriber, in_dci, "1 gél matin et soir 14j")
    assert refused.value.field == "overlap_allowed"
    line = add_with(
        second, prescriber, in_dci, posology="1 gél matin et soir 14j", overlap_allowed=True
    )
    assert line.overlap_allowed
    second = signed(second, prescriber)

    paper = logged_in_client(prescriber).get(reverse("prescriptions:paper", args=[second.pk]))
    html = paper.content.decode()
    assert "morphine 10 mg, gélule" in html
    assert "Quantité : vingt-huit (28) gélules" in html
    assert (
        "En toutes lettres : une (1) gélule par prise, deux (2) prises par jour, pendant "
        "quatorze (14) jours." in html
    )
    assert "Dosage : dix (10) milligrammes." in html
    assert "Non renouvelable" in html
    assert "Chevauchement autorisé (mention expresse du prescripteur)" in html


# --- liste I and II ------------------------------------------------------------------------


def test_liste_i_and_ii_are_prescribed_for_12_months_at_most(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    with pytest.raises(PrescriptionError, match="12 mois au plus") as refused:
        add_with(prescription, prescriber, ALDACTONE, posology="1 cp le matin 1 mois", renewals=12)
    assert refused.value.field == "renewals"
    line = add_with(
        prescription, prescriber, ALDACTONE, posology="1 cp le matin 1 mois", renewals=11
    )
    assert line.renewals == 11
    with pytest.raises(PrescriptionError, match="12 mois au plus"):
        add_with(prescription, prescriber, ZECLAR, posology="1 cp matin et soir 3 mois", renewals=4)


def test_liste_i_without_renewal_prints_non_renouvelable_and_nr_prints_nr(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add_with(
        prescription, prescriber, ZECLAR, posology="1 cp matin et soir 7j", non_reimbursable=True
    )
    add_with(prescription, prescriber, ALDACTONE, posology="1 cp le matin 1 mois", renewals=2)
    request = payloads.registration_request(
        prescription=prescription,
        lines=prescription.lines.all(),
        decisions=[],
        issued_at=prescription.created_at,
    )
    assert [line.non_reimbursable for line in request.lines] == [True, False]
    prescription = signed(prescription, prescriber)
    html = logged_in_client(prescriber).get(reverse("prescriptions:paper", args=[prescription.pk]))
    text = html.content.decode()
    zeclar, aldactone = text.split("ALDACTONE")
    assert "Non renouvelable" in zeclar
    assert ">NR</p>" in zeclar
    assert "Non renouvelable" not in aldactone
    assert ">NR</p>" not in aldactone
    assert "À renouveler 2 fois" in aldactone


# --- DCI lines -----------------------------------------------------------------------------


def test_a_dci_line_is_analysed_through_its_substance_and_sent_in_dci(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    clarithromycine = drug_choice_for_code(
        rpps=prescriber.practitioner.rpps, code="67997205", dci=True
    )
    assert clarithromycine.label == "clarithromycine 500 mg, comprimé"
    amoxicilline = drug_choice_for_code(
        rpps=prescriber.practitioner.rpps, code="64539416", dci=True
    )
    assert amoxicilline.label == "amoxicilline 1 g, comprimé dispersible"

    add(prescription, prescriber, SIMVA, "1 cp le soir")
    line = add(prescription, prescriber, clarithromycine, "1 cp matin et soir 7j")
    assert (line.drug_code_system, line.drug_code, line.dosage) == (
        "dci",
        "clarithromycine",
        "500 mg",
    )
    assert line.conditions["drugList"] == "liste_i"

    screen = analysed(prescription, prescriber)
    assert screen.analysis_done
    assert any(
        v.alert.level == "CI" and line.line_ref in v.alert.line_refs for v in screen.alerts
    ), "simvastatine + clarithromycine in DCI: the contraindication"

    request = payloads.registration_request(
        prescription=prescription, lines=[line], decisions=[], issued_at=prescription.created_at
    )
    sent = request.model_dump(mode="json", by_alias=True)["lines"][0]
    assert sent["drug"] == {
        "codeSystem": "dci",
        "code": "clarithromycine",
        "dosage": "500 mg",
        "form": "comprimé",
    }
    assert sent["label"] == "clarithromycine 500 mg, comprimé"


def test_an_overdose_line_is_badged_dose_excessive_not_ci(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    line = add(prescription, prescriber, DOLIPRANE, "2 cp x4/j 5j")  # 8 g a day
    html = (
        logged_in_client(prescriber)
        .post(reverse("prescriptions:analyse", args=[prescription.pk]), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    badge = html[html.index(f'id="line-level-{line.pk}"') :].split("</span></span>")[0]
    assert "Dose excessive" in badge
    assert ">CI<" not in badge


# --- codes ---------------------------------------------------------------------------------


def test_drug_codes_are_checked_before_reaching_ordoclic(ordoclic: Any) -> None:
    rpps = "10100001238"
    with pytest.raises(PrescriptionError, match="clé du code CIP13"):
        drug_choice_for_code(rpps=rpps, code="3400934990008")
    with pytest.raises(PrescriptionError, match="commence par 34009"):
        drug_choice_for_code(rpps=rpps, code="1234567890128")
    with pytest.raises(PrescriptionError, match="CIS \\(8 chiffres\\)"):
        drug_choice_for_code(rpps=rpps, code="6428886")
    assert drug_choice_for_code(rpps=rpps, code="3400934990007").code == "64288864"


def test_a_recorded_treatment_takes_a_cis_not_a_cip13() -> None:
    treatment = CurrentTreatmentFactory.build(cis="3400934990007")
    with pytest.raises(ValidationError, match="code CIP13"):
        treatment.full_clean(exclude=["patient"])
    treatment.cis = "6428886A"
    with pytest.raises(ValidationError, match="8 chiffres"):
        treatment.full_clean(exclude=["patient"])
    treatment.cis = "64288864"
    treatment.full_clean(exclude=["patient"])


def test_a_replacement_keeps_the_dci_line_and_its_conditions(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    from prescriptions.followup.reissue import prescription_reissue

    prescription = draft_for(prescriber, patient)
    add_with(
        prescription,
        prescriber,
        product("64539416", dci=True),
        posology="1 cp matin et soir 7j",
        non_reimbursable=True,
    )
    prescription = signed(prescription, prescriber)
    replacement = prescription_reissue(prescription=prescription, acting_user=prescriber)
    [line] = replacement.lines.all()
    assert (line.drug_code_system, line.label, line.dosage) == (
        "dci",
        "amoxicilline 1 g, comprimé dispersible",
        "1 g",
    )
    assert line.conditions["drugList"] == "liste_i"
    assert line.non_reimbursable


def test_a_narcotic_kept_as_a_favourite_keeps_its_rules_when_inserted_again(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    from prescriptions.drafting.favourites import favourite_create_from_line, template_line_input

    first = draft_for(prescriber, patient)
    line = add(first, prescriber, ACTISKENAN, "1 gél matin et soir 14j")
    favourite = favourite_create_from_line(line=line, acting_user=prescriber)
    drug, _data = template_line_input(favourite)
    assert drug.conditions == line.conditions  # the product's rules travel with the favourite

    second = draft_for(prescriber, patient)
    second.refresh_from_db()
    with pytest.raises(PrescriptionError, match="limitée à 28 jours"):
        services.prescription_lines_insert(
            prescription=second,
            acting_user=prescriber,
            version=second.version,
            lines=[(drug, LineInput(posology="1 gél matin et soir 30j", overlap_allowed=True))],
            action=AuditAction.PROTOCOL_INSERTED,
            details={},
        )
