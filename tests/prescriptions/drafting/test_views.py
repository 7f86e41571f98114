from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from prescriptions.delivery import signing
from prescriptions.drafting import services
from prescriptions.drafting.services import LineInput
from prescriptions.models import Prescription, PrescriptionLine
from tests.factories import CurrentTreatmentFactory, StaffFactory

from ..conftest import catalogue_drug, other_prescriber
from .test_services import CLARI, LEVOTHYROX, LORAMYC, SIMVA, add, analysed, draft_for

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_screen_shows_the_ci_alert_naming_both_lines(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    analysed(prescription, prescriber)
    client = logged_in_client(prescriber)
    page = client.get(reverse("prescriptions:detail", args=[prescription.pk])).content.decode()
    assert "Contre-indication" in page
    assert "Simvastatine + clarithromycine" in page
    assert "1 comprimé le matin et le soir pendant 7 jours" in page
    assert "Signer et envoyer" in page
    assert 'class="rx-sign-button" disabled' in page


def test_drug_search_lists_form_dosage_and_generic_status(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    client = logged_in_client(prescriber)
    url = reverse("prescriptions:drug_search", args=[prescription.pk])
    html = client.get(url, {"q": "simva"}, **HTMX).content.decode()
    choices = {
        choice[choice.index('data-code="') + 11 :].split('"')[0]: choice
        for choice in html.split("<button")[1:]
        if "rx-drug-dci" not in choice  # the product, not its "Prescrire en DCI" toggle
    }
    generic, princeps = choices["69094525"], choices["67037301"]
    assert "SIMVASTATINE BIOGARAN 20 mg, comprimé pelliculé sécable" in generic
    assert "simvastatine 20 mg · comprimé pelliculé sécable" in generic
    assert "générique" in generic
    assert "ZOCOR 20 mg, comprimé pelliculé" in princeps
    assert "princeps" in princeps
    assert "générique" not in princeps


def test_adding_a_line_from_the_screen_saves_it_and_asks_for_a_new_analysis(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    client = logged_in_client(prescriber)
    response = client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {"version": prescription.version, "drug_code": "69094525", "posology": "1 cp x3/j 5j"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "draft-changed" in response.headers["HX-Trigger-After-Settle"]
    assert "1 comprimé 3 fois par jour pendant 5 jours" in response.content.decode()
    line = prescription.lines.get()
    assert (line.drug_code, line.label) == (SIMVA.code, SIMVA.label)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"drug_code": "69094525", "posology": "60 cp le soir"}, "valeur impossible"),
        ({"drug_code": "69094525", "posology": "1 cp pendant -2 jours"}, "incomprise"),
        ({"drug_code": "69094525", "posology": "1 cp pendant 0 jours"}, "au moins un jour"),
        ({"drug_code": "69094525", "posology": ""}, "Indiquez une posologie"),
        ({"drug_code": "99999999", "posology": "1 cp le soir"}, "Médicament inconnu"),
        ({"drug_code": "", "posology": "1 cp le soir"}, "Choisissez un médicament"),
    ],
)
def test_bad_input_gets_a_french_message_and_keeps_what_was_typed(
    prescriber: Any,
    patient: Any,
    ordoclic: Any,
    logged_in_client: Any,
    data: dict[str, str],
    message: str,
) -> None:
    prescription = draft_for(prescriber, patient)
    client = logged_in_client(prescriber)
    response = client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {"version": prescription.version, **data},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    if data["posology"]:
        assert f'value="{data["posology"]}"' in html
    assert "HX-Trigger" not in response.headers
    assert not PrescriptionLine.objects.exists()


def test_a_stale_form_is_refused_with_a_message_and_the_typing_kept(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    old_version = prescription.version
    add(prescription, prescriber, SIMVA, "1 cp le soir")  # from another tab
    client = logged_in_client(prescriber)
    response = client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {"version": old_version, "drug_code": "67997205", "posology": "1 cp matin et soir 7j"},
        **HTMX,
    )
    html = response.content.decode()
    assert "modifiée entre-temps" in html
    assert 'value="1 cp matin et soir 7j"' in html
    assert prescription.lines.count() == 1


def test_a_decision_without_required_justification_is_refused_on_screen(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    [view] = analysed(prescription, prescriber).alerts
    client = logged_in_client(prescriber)
    response = client.post(
        reverse("prescriptions:alert_decide", args=[prescription.pk, view.alert.pk]),
        {"version": prescription.version, "decision": "maintain", "reason": ""},
        **HTMX,
    )
    assert "Justifiez le maintien" in response.content.decode()
    assert not view.alert.decisions.exists()


def _object_urls(
    prescription: Prescription, line: PrescriptionLine, alert_pk: int
) -> list[tuple[str, str]]:
    pk = prescription.pk
    return [
        ("get", reverse("prescriptions:detail", args=[pk])),
        ("get", reverse("prescriptions:drug_search", args=[pk]) + "?q=simva"),
        ("post", reverse("prescriptions:line_add", args=[pk])),
        ("post", reverse("prescriptions:line_update", args=[pk, line.pk])),
        ("post", reverse("prescriptions:line_remove", args=[pk, line.pk])),
        ("post", reverse("prescriptions:options", args=[pk])),
        ("post", reverse("prescriptions:analyse", args=[pk])),
        ("post", reverse("prescriptions:alert_decide", args=[pk, alert_pk])),
        ("post", reverse("prescriptions:waive", args=[pk])),
        ("post", reverse("prescriptions:sign", args=[pk])),
        ("get", reverse("prescriptions:paper", args=[pk])),
    ]


def test_another_prescriber_cannot_see_or_act_on_a_prescription_through_any_url(
    prescriber: Any, patient: Any, ordoclic: Any, client: Any
) -> None:
    from tests.helpers import login

    prescription = draft_for(prescriber, patient)
    line = add(prescription, prescriber, SIMVA, "1 cp le soir")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    [view] = analysed(prescription, prescriber).alerts
    prescription.refresh_from_db()
    version_before = prescription.version
    data = {
        "version": prescription.version,
        "posology": "2 cp",
        "decision": "maintain",
        "reason": "x",
    }

    login(client, other_prescriber())
    for method, url in _object_urls(prescription, line, view.alert.pk):
        response = getattr(client, method)(url, data) if method == "post" else client.get(url)
        assert response.status_code == 404, url

    staff = StaffFactory()
    login(client, staff)
    for method, url in _object_urls(prescription, line, view.alert.pk):
        response = getattr(client, method)(url, data) if method == "post" else client.get(url)
        assert response.status_code in {302, 403}, url

    prescription.refresh_from_db()
    assert prescription.version == version_before
    assert prescription.is_draft
    assert not view.alert.decisions.exists()
    assert "another" not in str(prescription)


def test_a_list_shows_only_own_prescriptions(
    prescriber: Any, patient: Any, logged_in_client: Any
) -> None:
    mine = draft_for(prescriber, patient)
    other = other_prescriber()
    theirs = draft_for(other, patient)
    html = logged_in_client(prescriber).get(reverse("prescriptions:list")).content.decode()
    assert reverse("prescriptions:detail", args=[mine.pk]) in html
    assert reverse("prescriptions:detail", args=[theirs.pk]) not in html


def _screen_queries(client: Any, prescription: Prescription) -> int:
    url = reverse("prescriptions:detail", args=[prescription.pk])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_screen_uses_as_many_queries_for_30_lines_as_for_1(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    client = logged_in_client(prescriber)
    # treatments of the host record, one coded (analysed), one not
    CurrentTreatmentFactory(patient=patient, label="LEVOTHYROX 100 µg", cis="68416845")
    CurrentTreatmentFactory(patient=patient, label="Collyre (nom non précisé)", cis="")
    small = draft_for(prescriber, patient)
    add(small, prescriber, catalogue_drug("60234100"), "2 cp 4 fois par jour 5j")  # 8 g/day
    [overdose] = analysed(small, prescriber).alerts
    assert "Dose de paracétamol" in overdose.alert.title
    large = draft_for(prescriber, patient)
    for index in range(30):
        add(large, prescriber, CLARI if index % 2 else SIMVA, "1 cp le soir 5j")
    screen = analysed(large, prescriber)
    # each simvastatin-clarithromycin pair is a contraindication; each repeated drug, a
    # duplicate pair
    assert Counter(view.alert.level for view in screen.alerts) == {"CI": 15 * 15, "ASDEC": 2 * 105}
    client.get(reverse("prescriptions:detail", args=[small.pk]))  # warm the session
    assert _screen_queries(client, large) == _screen_queries(client, small)


def test_the_screen_and_the_search_read_the_patient_and_the_contexts_once(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    """The top bar, the place-of-practice choice and the shared protocols all need the
    prescriber's contexts; the screen needs the patient with the prescription: one read each."""
    client = logged_in_client(prescriber)
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    screen_url = reverse("prescriptions:detail", args=[prescription.pk])
    search_url = reverse("prescriptions:drug_search", args=[prescription.pk])
    client.get(screen_url)  # warm the session
    for url, headers in ((screen_url, {}), (f"{search_url}?q=simva", HTMX)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, **headers).status_code == 200
        tables = Counter(
            table
            for query in queries.captured_queries
            for table in ("practitioners_exercisecontext", "patients_patient")
            if f'FROM "{table}"' in query["sql"]
        )
        assert tables["practitioners_exercisecontext"] == 1, url
        assert tables["patients_patient"] <= 1, url


def test_the_paper_copy_carries_the_mandatory_mentions(
    prescriber: Any,
    patient: Any,
    ordoclic: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    prescription = draft_for(prescriber, patient)
    prescription.refresh_from_db()
    services.prescription_line_add(
        prescription=prescription,
        acting_user=prescriber,
        version=prescription.version,
        drug=LEVOTHYROX,
        data=LineInput(
            posology="1 cp le matin 1 mois",
            renewals=2,
            non_substitutable=True,
            non_substitutable_reason="MTE",
            ald=True,
        ),
    )
    prescription.refresh_from_db()
    services.prescription_options_update(
        prescription=prescription,
        acting_user=prescriber,
        version=prescription.version,
        exercise_context=prescription.exercise_context,
        dispensing_follow_up_objection=True,
        share_with_dmp=True,
    )
    analysed(prescription, prescriber)
    with django_capture_on_commit_callbacks(execute=True):
        signing.prescription_sign(
            prescription=prescription, acting_user=prescriber, version=prescription.version
        )
    prescription.refresh_from_db()
    html = (
        logged_in_client(prescriber)
        .get(reverse("prescriptions:paper", args=[prescription.pk]))
        .content.decode()
    )
    practitioner = prescriber.practitioner
    for mention in [
        prescription.number,
        practitioner.rpps,
        prescription.exercise_context.finess,
        patient.last_name.upper(),
        "Non substituable (MTE)",
        "À renouveler 2 fois",
        "affection de longue durée",
        "s'oppose",
        "origami " + prescription.software_version,
        "data:image/svg+xml",
    ]:
        assert mention in html, mention


def test_the_analysis_refreshes_the_level_badge_of_each_line(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    simva = add(prescription, prescriber, SIMVA, "1 cp le soir")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    html = (
        logged_in_client(prescriber)
        .post(reverse("prescriptions:analyse", args=[prescription.pk]), **HTMX)
        .content.decode()
    )
    assert f'id="line-level-{simva.pk}" class="rx-line-level" hx-swap-oob="true"' in html
    assert 'level-ci">CI</span>' in html


def test_a_replacing_prescriber_given_access_may_see_and_continue_the_draft(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    from guardian.shortcuts import assign_perm

    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    replacing = other_prescriber()
    client = logged_in_client(replacing)
    url = reverse("prescriptions:detail", args=[prescription.pk])
    assert client.get(url).status_code == 404

    assign_perm("prescriptions.view_prescription", replacing, prescription)
    assert client.get(url).status_code == 200
    prescription.refresh_from_db()
    refused = client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {"version": prescription.version, "drug_code": "67997205", "posology": "1 cp le soir"},
        **HTMX,
    )
    assert refused.status_code == 404

    assign_perm("prescriptions.change_prescription", replacing, prescription)
    client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {"version": prescription.version, "drug_code": "67997205", "posology": "1 cp le soir"},
        **HTMX,
    )
    assert prescription.lines.count() == 2
    assert prescription.audit_events.filter(actor=replacing, action="line_added").exists()


def test_the_patient_page_lists_the_history_and_starts_a_prescription(
    prescriber: Any, patient: Any, logged_in_client: Any
) -> None:
    mine = draft_for(prescriber, patient)
    theirs = draft_for(other_prescriber(), patient)
    client = logged_in_client(prescriber)
    page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    # The host record's page leaves a slot that loads the prescriptions card.
    slot = reverse("prescriptions:patient_history", args=[patient.pk])
    assert f'hx-get="{slot}"' in page
    html = client.get(slot, HTTP_HX_REQUEST="true").content.decode()
    assert "Nouvelle ordonnance" in html
    assert reverse("prescriptions:create", args=[patient.pk]) in html
    assert reverse("prescriptions:detail", args=[mine.pk]) in html
    assert reverse("prescriptions:detail", args=[theirs.pk]) not in html


def test_my_prescriptions_filters(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    draft = draft_for(prescriber, patient)
    held = draft_for(prescriber, patient)
    Prescription.objects.filter(pk=held.pk).update(
        status="signed",
        transmission_status="held",
        signed_at=held.created_at,
        software_version="0.1.0",
    )
    client = logged_in_client(prescriber)

    def listed(filter_name: str) -> set[int]:
        html = client.get(reverse("prescriptions:list"), {"filtre": filter_name}).content.decode()
        return {p.pk for p in (draft, held) if reverse("prescriptions:detail", args=[p.pk]) in html}

    assert listed("drafts") == {draft.pk}
    assert listed("attention") == {held.pk}
    assert listed("sent") == set()
    assert listed("cancelled") == set()
    assert listed("") == {draft.pk, held.pk}


def test_the_screen_names_the_recorded_treatment_in_the_alert_and_flags_the_uncoded_one(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    CurrentTreatmentFactory(patient=patient)  # COUMADINE 2 mg, CIS in the record
    CurrentTreatmentFactory(patient=patient, label="SINTROM 4 mg", cis="")
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, LORAMYC, "1 cp le matin 7j")
    analysed(prescription, prescriber)
    page = logged_in_client(prescriber).get(reverse("prescriptions:detail", args=[prescription.pk]))
    html = page.content.decode()
    [concerned] = [line for line in html.splitlines() if 'class="rx-alert-lines"' in line]
    assert concerned.strip() == (
        f'<p class="rx-alert-lines">Concerne : {LORAMYC.label} + '
        "COUMADINE 2 mg, comprimé sécable (traitement en cours)</p>"
    )
    [uncoded] = [line for line in html.splitlines() if 'class="rx-uncoded"' in line]
    assert "Traitement non codé : non analysé" in uncoded
    assert "SINTROM 4 mg" in uncoded
    assert "COUMADINE" not in uncoded


def test_the_place_chosen_on_a_prescription_becomes_the_sessions_place(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    """A prescriber with two places picks one on the screen: the top bar then shows it too,
    instead of still asking for a place."""
    from practitioners.models import ExerciseContext
    from tests.factories import ExerciseContextFactory

    second = ExerciseContextFactory(practitioner=prescriber.practitioner, name="SAMU 75")
    assert ExerciseContext.objects.filter(practitioner=prescriber.practitioner).count() == 2
    prescription = draft_for(prescriber, patient)
    client = logged_in_client(prescriber)

    response = client.post(
        reverse("prescriptions:options", args=[prescription.pk]),
        {"version": prescription.version, "exercise_context": second.pk, "share_with_dmp": "on"},
        **HTMX,
    )

    assert response.status_code == 200
    # the open screen's top bar is updated at once (out of band), not at the next page
    swapped = response.content.decode().split('id="context-switcher"')
    assert len(swapped) == 2
    assert 'hx-swap-oob="true"' in swapped[1].split(">")[0]
    assert "<strong>SAMU 75</strong>" in swapped[1]
    prescription.refresh_from_db()
    assert prescription.exercise_context == second
    page = client.get(reverse("patients:search")).content.decode()
    assert "<strong>SAMU 75</strong>" in page
    prescriber.practitioner.refresh_from_db()
    assert prescriber.practitioner.last_exercise_context == second

    # Ticking a box posts the same place again: no new choice is recorded, the bar is left alone.
    response = client.post(
        reverse("prescriptions:options", args=[prescription.pk]),
        {"version": prescription.version, "exercise_context": second.pk, "objection": "on"},
        **HTMX,
    )
    assert response.status_code == 200
    assert 'id="context-switcher"' not in response.content.decode()
    assert prescriber.account_events.filter(kind="exercise_context_chosen").count() == 1


def _draft_of_one_line(prescriber: Any, patient: Any) -> tuple[Prescription, PrescriptionLine]:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir 1 mois")
    prescription.refresh_from_db()
    return prescription, prescription.lines.get()


def test_a_line_s_modifier_form_comes_when_asked_for_with_the_line_as_it_is_now(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    client = logged_in_client(prescriber)
    prescription, line = _draft_of_one_line(prescriber, patient)
    screen_url = reverse("prescriptions:detail", args=[prescription.pk])
    edit_url = reverse("prescriptions:line_edit", args=[prescription.pk, line.pk])
    screen = client.get(screen_url).content.decode()
    assert edit_url in screen
    assert 'name="posology" value="1 comprimé le soir' not in screen  # the form is not drawn

    form = client.get(edit_url, **HTMX).content.decode()
    assert 'name="posology" value="1 comprimé le soir pendant 1 mois"' in form
    assert reverse("prescriptions:line_update", args=[prescription.pk, line.pk]) in form
    assert reverse("prescriptions:line_remove", args=[prescription.pk, line.pk]) in form

    # Without scripts, the link draws the screen with that line's form open.
    response = client.get(edit_url)
    assert response.status_code == 302
    opened = client.get(response["Location"]).content.decode()
    assert f'<details class="rx-line-edit" data-line="{line.pk}" open>' in opened
    assert 'name="posology" value="1 comprimé le soir pendant 1 mois"' in opened


def test_a_refused_change_of_a_line_shows_its_form_open_with_what_was_typed(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    client = logged_in_client(prescriber)
    prescription, line = _draft_of_one_line(prescriber, patient)
    html = client.post(
        reverse("prescriptions:line_update", args=[prescription.pk, line.pk]),
        {"version": prescription.version, "posology": "beaucoup"},
        **HTMX,
    ).content.decode()
    assert f'<details class="rx-line-edit" data-line="{line.pk}" open>' in html
    assert 'name="posology" value="beaucoup"' in html
    line.refresh_from_db()
    assert line.posology_text == "1 comprimé le soir pendant 1 mois"


def test_a_refused_posology_is_said_once_where_it_was_typed(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    """Under the posology field, not again at the top of the editor (two alerts for one
    mistake, the second read out twice by a screen reader)."""
    client = logged_in_client(prescriber)
    prescription, line = _draft_of_one_line(prescriber, patient)
    added = client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {"version": prescription.version, "drug_code": SIMVA.code, "posology": "0 cp le soir"},
        **HTMX,
    ).content.decode()
    assert added.count("La dose doit être supérieure à zéro.") == 1
    assert '<p class="field-error" role="alert">La dose doit' in added
    changed = client.post(
        reverse("prescriptions:line_update", args=[prescription.pk, line.pk]),
        {"version": prescription.version, "posology": "0 cp le soir"},
        **HTMX,
    ).content.decode()
    assert changed.count("La dose doit être supérieure à zéro.") == 1
    assert prescription.lines.count() == 1


def test_a_line_s_modifier_form_of_a_prescription_signed_meanwhile_leads_to_its_page(
    prescriber: Any,
    patient: Any,
    ordoclic: Any,
    logged_in_client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = logged_in_client(prescriber)
    prescription, line = _draft_of_one_line(prescriber, patient)
    analysed(prescription, prescriber)
    with django_capture_on_commit_callbacks(execute=True):  # in another tab
        signing.prescription_sign(
            prescription=prescription, acting_user=prescriber, version=prescription.version
        )
    edit_url = reverse("prescriptions:line_edit", args=[prescription.pk, line.pk])
    detail_url = reverse("prescriptions:detail", args=[prescription.pk])
    assert client.get(edit_url, **HTMX)["HX-Redirect"] == detail_url
    assert client.get(edit_url)["Location"] == detail_url
