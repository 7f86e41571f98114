"""The browser side of `python -m bench.keystrokes` (not a test of the suite: its name does not
match `test_*.py`; the benchmark runs it by path). It writes the three commonest prescriptions
of a general practitioner, typed in full and then with renewal and favourites (and an antibiotic
course with its painkiller as a protocol), counting keys pressed and requests to the app, and
writes the figures as JSON to ORIGAMI_KEYSTROKES_OUT."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from practitioners.ordoclic import practitioner_link_ordoclic
from prescriptions.models import Prescription
from tests.factories import PatientFactory, PrescriberFactory
from tests.prescriptions.conftest import sign_and_register

from .fast import (
    AMOXICILLIN,
    CHRONIC,
    PARACETAMOL,
    Keys,
    new_prescription,
    open_patient,
    type_line,
    wait_analysed,
)
from .helpers import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


def _measure(keys: Keys, steps: Any) -> dict[str, Any]:
    keys.reset()
    steps()
    wait_analysed(keys.page)
    return {"keys": keys.keys, "requests": len(keys.requests), "log": list(keys.requests)}


def test_keystrokes(live_server: Any, page: Any, served_ordoclic: Any) -> None:
    user = PrescriberFactory(practitioner_record__rpps="10100001238")
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    log_in(page, live_server.url, user)
    keys = Keys(page, live_server.url)
    chronic_patient, acute = PatientFactory(last_name="Chronique"), PatientFactory()
    results: dict[str, dict[str, Any]] = {}

    def chronic_in_full() -> None:
        new_prescription(keys, chronic_patient)
        for line in CHRONIC:
            type_line(keys, *line)

    results["chronic"] = {"full": _measure(keys, chronic_in_full)}
    # Signed and registered: next month's renewal starts from it (not counted).
    sign_and_register(user=user, prescription=Prescription.objects.get(patient=chronic_patient))

    def amoxicillin_in_full() -> None:
        new_prescription(keys, acute)
        type_line(keys, *AMOXICILLIN)

    def paracetamol_in_full() -> None:
        new_prescription(keys, acute)
        type_line(keys, *PARACETAMOL)

    def angina_in_full() -> None:
        new_prescription(keys, acute)
        type_line(keys, *AMOXICILLIN)
        type_line(keys, *PARACETAMOL)

    results["amoxicillin"] = {"full": _measure(keys, amoxicillin_in_full)}
    results["paracetamol"] = {"full": _measure(keys, paracetamol_in_full)}
    results["angina"] = {"full": _measure(keys, angina_in_full)}
    # Both lines kept as favourites, the draft as a protocol (not counted).
    for position in (0, 1):
        page.locator(".rx-line-fav button").nth(position).click()
        page.wait_for_selector("#editor-notice >> text=favoris")
        page.wait_for_selector("#analysis .rx-sign")
    page.click(".rx-save-protocol summary")  # saved as a protocol (not counted)
    page.fill(".rx-save-protocol input[name=name]", "Angine adulte")
    page.click(".rx-save-protocol button[type=submit]")
    page.wait_for_selector("#editor-notice")

    def renew() -> None:
        open_patient(page, live_server.url, chronic_patient)
        page.click(".rx-renew")
        page.wait_for_selector(".rx-lines .rx-line >> nth=2")

    def favourite(search: str, sentence: str) -> Any:
        def steps() -> None:
            new_prescription(keys, acute)
            keys.type(search)
            page.wait_for_selector("#drug-results .rx-favourite")
            keys.press("Enter")
            keys.press("Enter")
            page.wait_for_selector(f".rx-line >> text={sentence}")

        return steps

    def protocol() -> None:
        new_prescription(keys, acute)
        keys.type("angine")
        page.wait_for_selector("#drug-results .rx-protocol")
        keys.press("Enter")
        page.wait_for_selector(".rx-lines .rx-line >> nth=1")

    results["chronic"]["fast"] = _measure(keys, renew)
    results["amoxicillin"]["fast"] = _measure(keys, favourite("amox", AMOXICILLIN[2]))
    results["paracetamol"]["fast"] = _measure(keys, favourite("doli", PARACETAMOL[2]))
    results["angina"]["fast"] = _measure(keys, protocol)
    with open(os.environ["ORIGAMI_KEYSTROKES_OUT"], "w", encoding="utf-8") as out:
        json.dump(results, out, indent=2)
