"""Journeys: an administrator opens and links a prescriber's account in the Django admin (as the
README describes) and the new prescriber logs in with the second factor handed over; a
prescriber cancels one registered prescription and reissues another, then prints the copies of
the old ones (marked, with no QR code) and of the new one."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django_otp.oath import totp

from practitioners.models import Practitioner
from prescriptions.models import Prescription
from tests.chaos import workload
from tests.factories import AdminFactory, PatientFactory
from tests.prescriptions.conftest import registered_prescription

from ..helpers import log_in
from .conftest import Journey

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]

PASSWORD = "Un-mot-de-passe-solide-2026"


def test_an_admin_creates_and_links_a_practitioner(
    served_ordoclic: Any, live_server: Any, journey: Journey, browser: Any
) -> None:
    page = journey.page
    log_in(page, live_server.url, AdminFactory())
    page.goto(f"{live_server.url}/admin/")
    journey.shot("admin-home")
    journey.click("a[href='/admin/practitioners/practitioner/']")
    journey.click("a.addlink")
    page.wait_for_selector("input[name=username]")
    for name, value in {
        "username": "kbenali",
        "first_name": "Karim",
        "last_name": "Benali",
        "email": "karim.benali@example.org",
        "password": PASSWORD,
        "rpps": "101 000 045 62",
        "specialty": "Médecine générale",
        "context_name": "Cabinet du Dr Benali",
        "am_number": "751234567",
        "address": "12 rue des Lilas",
        "postcode": "75020",
        "city": "Paris",
        "phone": "01 43 00 00 00",
    }.items():
        page.fill(f"[name={name}]", value)
    page.select_option("select[name=profession]", "medecin")
    journey.shot("account-form")
    journey.click("input[type=submit][value='Créer le compte']")
    page.wait_for_selector(".totp-setup")
    secret = page.inner_text(".totp-setup code").strip()
    journey.shot("account-created")
    practitioner = Practitioner.objects.get(rpps="10100004562")
    assert practitioner.ordoclic_link_status == "unlinked"

    journey.click("text=Ouvrir la fiche du praticien")
    journey.click("button.ordoclic-link-button")
    page.wait_for_selector(".messagelist .success")
    assert "compte lié à Ordoclic et actif" in page.inner_text(".messagelist")
    journey.shot("linked")
    practitioner.refresh_from_db()
    assert practitioner.ordoclic_link_status == "linked"
    assert practitioner.ordoclic_professional_id

    # The new prescriber logs in with the key the admin handed over.
    context = browser.new_context(locale="fr-FR")
    prescriber = context.new_page()
    try:
        prescriber.goto(f"{live_server.url}/connexion/")
        prescriber.fill("input[name=username]", "kbenali")
        prescriber.fill("input[name=password]", PASSWORD)
        prescriber.click("button[type=submit]")
        prescriber.wait_for_selector("input[name=code]")
        key = base64.b32decode(secret.replace(" ", "").upper())
        prescriber.fill("input[name=code]", f"{totp(key):06d}")
        prescriber.click("button[type=submit]")
        prescriber.wait_for_url(lambda url: "/connexion" not in url)
        assert "Benali".upper() in prescriber.inner_text("body").upper()
    finally:
        context.close()


def print_media_copy(journey: Journey, base_url: str, prescription: Prescription) -> str:
    page = journey.page
    page.emulate_media(media="screen")
    page.goto(f"{base_url}/ordonnances/{prescription.pk}/")
    journey.click("#paper-copy")
    page.wait_for_selector(".paper")
    page.emulate_media(media="print")
    return str(page.inner_text(".paper"))


def test_cancel_and_reissue_then_print_the_old_and_new_copies(
    served_ordoclic: Any, live_server: Any, journey: Journey
) -> None:
    page = journey.page
    base = live_server.url
    martin = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    to_cancel = registered_prescription(user=martin, patient=patient)
    # Another patient: the same drugs twice for one patient would be duplicates to decide on.
    to_replace = registered_prescription(
        user=martin, patient=PatientFactory(last_name="Moreau", first_name="Paul", sex="M")
    )
    log_in(page, base, martin)

    # Cancel the first one.
    page.goto(f"{base}/ordonnances/{to_cancel.pk}/")
    journey.click("#cancel-link")
    page.check("input[name=reason][value=entry_error]")
    journey.shot("cancel-form")
    journey.click("form button.danger")
    page.wait_for_selector("#cancel-done")
    journey.shot("cancelled")
    to_cancel.refresh_from_db()
    assert to_cancel.status == "cancelled"
    paper = print_media_copy(journey, base, to_cancel)
    journey.shot("cancelled-copy-printed")
    assert "ANNULÉE" in paper
    assert "Erreur de saisie" in paper
    assert page.locator(".paper-qr img, #paper-number").count() == 0

    # Reissue the second one: a new draft with the same lines, signed and registered.
    page.emulate_media(media="screen")
    page.goto(f"{base}/ordonnances/{to_replace.pk}/")
    journey.click("#reissue-button")
    page.wait_for_selector("#drug-search")
    assert to_replace.number in page.inner_text("body")
    page.wait_for_selector(".rx-sign-button:not([disabled])")
    journey.shot("reissue-draft")
    journey.click(".rx-sign-button")
    page.wait_for_selector("#rx-number")
    new_number = page.inner_text("#rx-number").strip()
    journey.shot("replacement-registered")
    to_replace.refresh_from_db()
    assert to_replace.status == "replaced"
    new = Prescription.objects.get(replaces=to_replace)
    assert new.number == new_number

    old_paper = print_media_copy(journey, base, to_replace)
    journey.shot("replaced-copy-printed")
    assert "REMPLACÉE" in old_paper
    assert f"par l'ordonnance n° {new_number}" in old_paper
    assert page.locator(".paper-qr img, #paper-number").count() == 0

    new_paper = print_media_copy(journey, base, new)
    journey.shot("new-copy-printed")
    assert page.locator(".paper-qr img").count() == 1
    grouped = " ".join(re.findall(".{1,4}", new_number))
    assert page.inner_text("#paper-number") == grouped
    assert "REMPLACÉE" not in new_paper
