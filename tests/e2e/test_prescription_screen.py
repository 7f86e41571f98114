"""The consultation in a browser: log in with the second factor, pick a patient, prescribe
simvastatine and clarithromycine, see the CI alert, then maintain it (first test) or modify the
prescription (second test), sign, get the unique number, open the paper copy."""

from __future__ import annotations

from typing import Any

import pytest

from practitioners.ordoclic import practitioner_link_ordoclic
from prescriptions.models import Prescription, TransmissionStatus
from tests.factories import (
    CurrentTreatmentFactory,
    ExerciseContextFactory,
    PatientFactory,
    PrescriberFactory,
)
from tests.waiting import wait_until

from .conftest import screenshot
from .helpers import (
    log_in,
    lost_once,
    open_new_prescription,
    submit_line,
    wait_for_focus,
    wait_for_page,
)

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]

CLAIRE_MARTIN = "10100001238"


@pytest.fixture
def prescriber(served_ordoclic: Any) -> Any:
    user = PrescriberFactory(
        first_name="Claire", last_name="Martin", practitioner_record__rpps=CLAIRE_MARTIN
    )
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    return user


@pytest.fixture
def patient() -> Any:
    return PatientFactory(last_name="Lefèvre", first_name="Jeanne")


def add_drug(page: Any, search: str, posology: str, expected_sentence: str) -> None:
    page.fill("#drug-search", search)
    page.wait_for_selector(".rx-drug")
    page.press("#drug-search", "Enter")  # picks the first result, focuses the posology
    page.keyboard.type(posology)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text={expected_sentence}")
    # ready for the next drug once the search box has the focus back (the new one, processed)
    wait_for_focus(page, "drug-search")


def prescribe_the_interacting_pair(page: Any) -> None:
    add_drug(page, "simvastatine", "1 cp le soir 1 mois", "1 comprimé le soir pendant 1 mois")
    add_drug(page, "clarithromycine", "1 cp matin et soir 7j", "1 comprimé le matin et le soir")
    page.wait_for_selector(".rx-alert-ci")
    assert page.is_disabled(".rx-sign-button")


def sign_and_read_number(page: Any) -> str:
    page.click(".rx-sign-button")
    page.wait_for_selector("#rx-number")
    return str(page.inner_text("#rx-number"))


def test_maintain_the_ci_alert_sign_and_print(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    prescribe_the_interacting_pair(page)
    alert = page.locator(".rx-alert-ci")
    screenshot(page, "prescription-screen-ci-alert")
    assert "contre-indication" in alert.inner_text().lower()
    assert "ZECLAR" in alert.inner_text(), alert.inner_text()

    alert.locator("summary", has_text="Maintenir").click()
    alert.locator("textarea[name=reason]").fill("Statine suspendue pendant les 7 jours")
    alert.locator("button[value=maintain]").click()
    page.wait_for_selector("text=Maintenu")
    number = sign_and_read_number(page)
    assert "Statine suspendue pendant les 7 jours" in page.inner_text(".rx-kept")
    screenshot(page, "prescription-registered")

    prescription = Prescription.objects.get(patient=patient)
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert number == prescription.number
    page.click("#paper-copy")
    page.wait_for_selector(".paper")
    paper = page.inner_text(".paper")
    # Grouped by four, as read out on the phone.
    assert " ".join(number[i : i + 4] for i in range(0, len(number), 4)) in paper
    assert "RPPS " + CLAIRE_MARTIN in paper
    assert page.locator(".paper-qr img").count() == 1
    screenshot(page, "prescription-paper-copy")

    with served_ordoclic.control() as control:
        ledger = control.get("/_sandbox/ledger").json()["items"]
    assert [(e["externalId"], e["registered"]) for e in ledger] == [
        (str(prescription.external_id), 1)
    ]


def test_modify_the_prescription_instead(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    prescribe_the_interacting_pair(page)

    page.locator(".rx-alert-ci button[value=modify]").click()
    zeclar = page.locator(".rx-line", has_text="ZECLAR")
    zeclar.locator("summary", has_text="Modifier").click()
    zeclar.locator("button", has_text="Retirer ce médicament").click()
    page.wait_for_selector(".rx-ok")
    assert page.locator(".rx-alert-ci").count() == 0
    number = sign_and_read_number(page)
    assert number == Prescription.objects.get(patient=patient).number


def test_the_alert_s_modifier_opens_the_line_with_the_cursor_in_its_posology(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    """The line's form is fetched when "Modifier" opens it: the prescriber types at once, even
    when the form comes back late."""
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    prescribe_the_interacting_pair(page)
    assert page.locator(".rx-line-form").count() == 0  # not drawn until asked for
    held: list[Any] = []
    page.route("**/modifier/?*", lambda route: held.append(route))

    page.locator(".rx-alert-ci button[value=modify]").click()
    wait_until(lambda: page.wait_for_timeout(50) or held, what="the line's form asked for")
    held[0].continue_()
    focused = wait_for_page(
        page,
        """() => {
            const input = document.activeElement;
            const line = input && input.closest(".rx-line");
            return input && input.name === "posology" && line ? line.id + "|" + input.value : "";
        }""",
        what="the cursor in the posology of the line the alert names",
    )
    line_id, posology = focused.split("|")
    assert posology == "1 comprimé le soir pendant 1 mois"  # simvastatin: first named
    page.keyboard.press("Control+A")
    page.keyboard.type("1 cp le soir 5j")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#{line_id} >> text=1 comprimé le soir pendant 5 jours")
    line = Prescription.objects.get(patient=patient).lines.get(pk=line_id.removeprefix("line-"))
    assert (line.label.split()[0], line.posology_text) == (
        "SIMVASTATINE",
        "1 comprimé le soir pendant 5 jours",
    )


def test_an_analysis_overtaken_by_this_tab_s_next_line_does_not_say_changed_elsewhere(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    """A prescriber quicker than Ordoclic: the analysis of the first line answers after the
    second line was added from the same tab. The screen shows the draft as it is, without
    claiming that someone else changed it."""
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    held: list[Any] = []

    def hold_the_first(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/analyse/", hold_the_first)
    submit_line(page, "simvastatine", "1 cp le soir 1 mois")
    page.wait_for_selector("text=1 comprimé le soir pendant 1 mois")
    wait_until(lambda: page.wait_for_timeout(50) or held, what="the first line's analysis")
    wait_for_focus(page, "drug-search")
    submit_line(page, "clarithromycine", "1 cp matin et soir 7j")
    page.wait_for_selector("text=1 comprimé le matin et le soir pendant 7 jours")

    # The first analysis answers for the draft as it is now (two lines); the second one, queued
    # behind it, follows.
    held[0].continue_()
    page.wait_for_selector(".rx-alert-ci")
    assert page.locator("#changed-elsewhere").count() == 0
    assert page.locator(".rx-line").count() == 2


def test_a_justification_being_typed_survives_a_redraw_of_the_analysis(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    prescribe_the_interacting_pair(page)
    alert = page.locator(".rx-alert-ci")
    alert.locator("summary", has_text="Maintenir").click()
    alert.locator("textarea").fill("Traitement court, statine suspendue")

    # A late analysis (or another tab's change) redraws the alerts while the prescriber types.
    page.evaluate("document.querySelector('#analysis').dataset.before = '1'")
    page.evaluate("htmx.trigger(document.body, 'draft-changed')")
    page.wait_for_selector("#analysis:not([data-before])", state="attached")
    box = page.locator(".rx-alert-ci textarea")
    box.wait_for(state="visible")  # put back once the new alerts have settled
    assert box.input_value() == "Traitement court, statine suspendue"

    page.locator(".rx-alert-ci button", has_text="Maintenir la prescription").click()
    page.wait_for_selector(".rx-decided")
    assert "statine suspendue" in page.inner_text(".rx-decided")


def test_a_network_blip_is_announced_retried_and_loses_nothing(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    page.route("**/lignes/", lost_once())
    submit_line(page, "paracetamol", "1 cp si besoin max 3/24h")

    banner = page.locator("#connection-status")
    banner.wait_for(state="visible")
    assert "Connexion perdue" in banner.inner_text()
    assert page.input_value("#posology-input") == "1 cp si besoin max 3/24h"
    page.wait_for_selector("text=1 comprimé si besoin, sans dépasser 3 comprimés par 24 heures")
    banner.wait_for(state="hidden")
    assert Prescription.objects.get(patient=patient).lines.count() == 1


def test_the_blip_banner_stays_until_the_failed_line_went_through(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    """The picked drug's preview answering after the line failed is not the line going
    through: the banner stays (and the line is sent again) until the line itself is added."""
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    held_previews: list[Any] = []
    held_lines: list[Any] = []
    page.route("**/apercu/?*", lambda route: held_previews.append(route))
    page.route("**/lignes/", lost_once(then=lambda route: held_lines.append(route)))
    submit_line(page, "paracetamol", "1 cp si besoin max 3/24h")
    banner = page.locator("#connection-status")
    banner.wait_for(state="visible")

    with page.expect_response("**/apercu/?*"):
        for route in held_previews:
            route.continue_()
    # The browser's events reach the route handlers only while Playwright is called.
    wait_until(lambda: page.wait_for_timeout(50) or held_lines, what="the line sent again")
    assert banner.is_visible()
    assert "Connexion perdue" in banner.inner_text()

    held_lines[0].continue_()
    page.wait_for_selector("text=1 comprimé si besoin, sans dépasser 3 comprimés par 24 heures")
    banner.wait_for(state="hidden")
    assert Prescription.objects.get(patient=patient).lines.count() == 1


def test_a_failed_search_is_searched_again_without_adding_anything(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    posted: list[str] = []
    page.on("request", lambda sent: posted.append(sent.url) if sent.method == "POST" else None)
    page.route("**/medicaments/?*", lost_once())
    page.fill("#drug-search", "paracetamol")
    banner = page.locator("#connection-status")
    banner.wait_for(state="visible")
    page.wait_for_selector(".rx-drug")
    banner.wait_for(state="hidden")
    assert not [url for url in posted if url.endswith("/lignes/")]
    assert Prescription.objects.get(patient=patient).lines.count() == 0


def test_analysis_not_done_is_plain_and_must_be_acknowledged_before_signing(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    add_drug(page, "paracetamol", "1 cp x3/j 5j", "1 comprimé 3 fois par jour pendant 5 jours")
    page.wait_for_selector(".rx-ok")
    with served_ordoclic.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()

    line = page.locator(".rx-line").first
    line.locator("summary", has_text="Modifier").click()
    line.locator('input[name="posology"]').fill("1 cp x4/j 5j")
    line.locator("button", has_text="Enregistrer").click()
    page.wait_for_selector("text=Analyse non effectuée.")
    assert page.is_disabled(".rx-sign-button")
    screenshot(page, "prescription-analysis-not-done")

    page.click("text=Je signerai sans analyse")
    page.wait_for_selector("text=Signature sans analyse confirmée")
    page.click(".rx-sign-button")
    page.wait_for_selector("text=Ordonnance signée, pas encore enregistrée")
    prescription = Prescription.objects.get(patient=patient)
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    page.click("#paper-copy")
    assert "non encore enregistrée" in page.inner_text(".paper")


def test_a_treatment_recorded_meanwhile_is_analysed_before_the_signature(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    add_drug(page, "loramyc", "1 cp le matin 7j", "1 comprimé le matin pendant 7 jours")
    page.wait_for_selector(".rx-ok")
    # Meanwhile the host record gains warfarin (another tab, the practice software).
    CurrentTreatmentFactory(patient=patient)
    held: list[Any] = []

    def handler(route: Any) -> None:  # each request for an analysis waits until continued
        held.append(route)

    page.route("**/analyse/", handler)

    page.click(".rx-sign-button")
    page.wait_for_selector("text=Le dossier du patient a changé depuis l'analyse")
    # the screen asked for the new analysis: hold it for the picture
    wait_until(lambda: page.wait_for_timeout(50) or held, what="the new analysis asked for")
    screenshot(page, "prescription-analysis-stale")
    for route in held:
        route.continue_()
    page.unroute("**/analyse/", handler)

    alert = page.locator(".rx-alert-ci")
    alert.wait_for()
    assert "COUMADINE" in alert.inner_text()
    assert "COUMADINE" in page.inner_text("#patient-banner")  # the banner follows the record
    assert page.is_disabled(".rx-sign-button")
    screenshot(page, "prescription-analysis-after-record-change")
    assert Prescription.objects.get(patient=patient).status == "draft"


def test_the_place_chosen_on_the_screen_shows_at_once_in_the_top_bar(
    live_server: Any, page: Any, prescriber: Any, patient: Any, served_ordoclic: Any
) -> None:
    ExerciseContextFactory(practitioner=prescriber.practitioner, name="SAMU 75")
    log_in(page, live_server.url, prescriber)
    open_new_prescription(page, live_server.url, patient)
    page.locator(".rx-options select").select_option(label="SAMU 75 · Paris")
    page.wait_for_selector("#context-switcher summary strong:text-is('SAMU 75')")
    page.wait_for_selector("text=Choisissez le lieu d'exercice.", state="detached")
    screenshot(page, "prescription-place-chosen")
