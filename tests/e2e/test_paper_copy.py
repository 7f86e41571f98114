"""The paper copy as the browser prints it: a cancelled or replaced copy keeps its diagonal mark
and its notice in print, with no QR code; a queued one keeps its banner and has no QR code; a
valid one prints its QR code and its number grouped by four. Screenshots (print media) and PDFs
of each copy are saved when ORIGAMI_E2E_SCREENSHOTS is set."""

from __future__ import annotations

import datetime
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from origami.patients.models import LongTermCondition
from prescriptions.delivery import signing
from prescriptions.delivery.submissions import SUBMISSIONS
from prescriptions.drafting import services
from prescriptions.followup.cancellation import prescription_cancel
from prescriptions.followup.reissue import prescription_reissue
from prescriptions.models import Prescription
from tests.chaos import workload
from tests.factories import PatientFactory
from tests.prescriptions.conftest import catalogue_drug, draft_with_lines, sign_and_register

from .conftest import screenshot
from .helpers import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]

DOLIPRANE_ENFANT = "66477582"  # DOLIPRANE 2,4 POUR CENT SANS SUCRE, suspension buvable


def print_view(page: Any, base_url: str, prescription: Prescription, name: str) -> None:
    """Open the copy and switch to the print stylesheet; keep a print-media screenshot and the
    PDF Chromium would print."""
    page.emulate_media(media="screen")
    page.goto(f"{base_url}/ordonnances/{prescription.pk}/copie/")
    page.wait_for_selector(".paper")
    page.emulate_media(media="print")
    screenshot(page, f"paper-{name}")
    directory = os.environ.get("ORIGAMI_E2E_SCREENSHOTS")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    if directory:
        Path(directory, f"paper-{name}.pdf").write_bytes(pdf)


def printed(page: Any, selector: str) -> bool:
    """Whether the element is laid out and visible under the current (print) media."""
    return bool(
        page.evaluate(
            """(selector) => {
                const element = document.querySelector(selector);
                if (!element) return false;
                const style = getComputedStyle(element);
                const box = element.getBoundingClientRect();
                return style.display !== "none" && style.visibility !== "hidden"
                    && Number(style.opacity) > 0 && box.width > 0 && box.height > 0;
            }""",
            selector,
        )
    )


def test_each_paper_copy_says_what_it_is_in_print(
    live_server: Any, page: Any, served_ordoclic: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    martin = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    patient = PatientFactory(
        last_name="Lefèvre", first_name="Jeanne", birth_date=datetime.date(1961, 4, 23)
    )
    LongTermCondition.objects.create(patient=patient, label="Hypothyroïdie")
    valid = draft_with_lines(user=martin, patient=patient)
    services.prescription_line_add(
        prescription=valid,
        acting_user=martin,
        version=valid.version,
        drug=catalogue_drug("68416845"),  # LEVOTHYROX
        data=services.LineInput(
            posology="1 cp le matin 3 mois",
            renewals=2,
            non_substitutable=True,
            non_substitutable_reason="MTE",
            ald=True,
            instructions="à jeun, une demi-heure avant le petit déjeuner",
        ),
    )
    valid = sign_and_register(user=martin, prescription=valid)

    cancelled = sign_and_register(user=martin, prescription=draft_with_lines(user=martin))
    prescription_cancel(
        prescription=cancelled,
        acting_user=martin,
        reason="wrong_patient",
        comment="Ordonnance faite dans le dossier d'un homonyme",
    )
    old = sign_and_register(user=martin, prescription=draft_with_lines(user=martin))
    new = sign_and_register(
        user=martin, prescription=prescription_reissue(prescription=old, acting_user=martin)
    )
    child = PatientFactory(
        first_name="Léo",
        sex="M",
        birth_date=timezone.localdate() - datetime.timedelta(days=365 * 4 + 40),
        weight_kg=Decimal("16.5"),
    )
    for_child = draft_with_lines(user=martin, patient=child, drugs=())
    services.prescription_line_add(
        prescription=for_child,
        acting_user=martin,
        version=for_child.version,
        drug=catalogue_drug(DOLIPRANE_ENFANT),
        data=services.LineInput(
            posology="7 ml toutes les 6h si besoin max 28 ml/24h 3j",
            instructions="dose-poids : graduation 16 kg de la pipette",
        ),
    )
    for_child = sign_and_register(user=martin, prescription=for_child)
    # Signed while the send waits (no broker in this test): queued.
    monkeypatch.setattr(SUBMISSIONS, "enqueue", lambda *, pk, at: True)
    with served_ordoclic.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
    queued = workload.ready_to_sign(martin, workload.draft(martin))
    signing.prescription_sign(prescription=queued, acting_user=martin, version=queued.version)
    with served_ordoclic.control() as control:
        control.post("/_sandbox/faults", json={"mode": "ok"}).raise_for_status()
    for prescription in (cancelled, old, new, queued):
        prescription.refresh_from_db()
    assert (cancelled.status, old.status, queued.transmission_status) == (
        "cancelled",
        "replaced",
        "queued",
    )

    log_in(page, live_server.url, martin)

    print_view(page, live_server.url, valid, "normal")
    assert printed(page, "#paper-qr img")
    number = " ".join(valid.number[i : i + 4] for i in range(0, len(valid.number), 4))
    assert page.inner_text("#paper-number") == number
    assert not printed(page, ".paper-actions")  # the buttons are not printed
    assert not printed(page, "#paper-mark")

    print_view(page, live_server.url, cancelled, "cancelled")
    assert printed(page, "#paper-mark")
    assert page.inner_text("#paper-mark") == "ANNULÉE"
    # Diagonal: the mark is turned.
    assert page.evaluate(
        "getComputedStyle(document.querySelector('#paper-mark span')).transform"
    ) not in ("", "none")
    assert printed(page, "#paper-void-notice")
    notice = page.inner_text("#paper-void-notice")
    assert f"a été annulée le {timezone.localtime(cancelled.cancelled_at):%d/%m/%Y}" in notice
    assert "Mauvais patient" in notice
    assert page.locator("#paper-qr, .paper-qr img").count() == 0

    print_view(page, live_server.url, old, "replaced")
    assert printed(page, "#paper-mark")
    assert page.inner_text("#paper-mark") == "REMPLACÉE"
    assert f"par l'ordonnance n° {new.number}" in page.inner_text("#paper-void-notice")
    assert page.locator("#paper-qr, .paper-qr img").count() == 0

    print_view(page, live_server.url, new, "replacement")
    assert printed(page, "#paper-qr img")
    assert not printed(page, "#paper-mark")

    print_view(page, live_server.url, queued, "queued")
    assert printed(page, "#paper-unregistered")
    assert "non encore enregistrée" in page.inner_text("#paper-unregistered")
    assert page.locator("#paper-qr, .paper-qr img").count() == 0

    print_view(page, live_server.url, for_child, "child")
    assert "Poids : 16,5 kg" in page.inner_text("#paper-patient")
    assert printed(page, "#paper-qr img")
