"""The drug search and the drug of a line: Ordoclic's answer when it gives one (kept in the
memory), the memory's when it does not, marked as such; never what the browser posted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.conf import settings
from django.urls import reverse

from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client
from origami.ordoclic import get_breaker, override_client
from prescriptions.drugs.catalogue import drug_choice_for_code, drugs_find
from prescriptions.errors import PrescriptionError
from prescriptions.models import AuditAction, KnownDrug, Prescription

from ..conftest import sandbox_fault
from ..drafting.test_services import draft_for
from ..drafting.test_views import HTMX

pytestmark = pytest.mark.django_db

SIMVASTATINE = "69094525"
RPPS = "10100001238"
OFFLINE_MARK = "hors ligne — vérifié à l'envoi"


def test_with_ordoclic_up_the_drug_is_ordoclics_and_remembered(ordoclic: Any) -> None:
    choice = drug_choice_for_code(rpps=RPPS, code=SIMVASTATINE)
    assert "SIMVASTATINE" in choice.label.upper()
    assert choice.verified
    assert KnownDrug.objects.filter(cis=SIMVASTATINE).exists()
    with pytest.raises(PrescriptionError, match="Médicament inconnu"):
        drug_choice_for_code(rpps=RPPS, code="12345678")


def test_the_search_keeps_what_ordoclic_returned_and_answers_from_it_when_down(
    ordoclic: Any,
) -> None:
    online = drugs_find(rpps=RPPS, text="simva", limit=12)
    assert not online.offline
    assert KnownDrug.objects.filter(cis__in=[d.cis for d in online.drugs]).count() == len(
        online.drugs
    )
    sandbox_fault(ordoclic, "down")
    offline = drugs_find(rpps=RPPS, text="SIMVA", limit=12)
    assert offline.offline
    assert {d.cis for d in offline.drugs} == {d.cis for d in online.drugs}


def test_with_the_breaker_open_the_search_answers_from_memory_without_calling(
    ordoclic: Any, sandbox: Any
) -> None:
    drugs_find(rpps=RPPS, text="simva", limit=12)  # remembered while Ordoclic answered
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503)

    breaker = get_breaker()
    breaker.reset()
    for _ in range(settings.ORDOCLIC_BREAKER_FAILURES):
        breaker.record_failure("connection refused")
    client = OrdoclicClient(
        http=build_http_client(base_url="http://ordoclic", transport=httpx.MockTransport(refuse)),
        credentials=PartnerCredentials(
            partner_id=sandbox.partner_id, private_key_pem=sandbox.private_key_pem
        ),
        breaker=breaker,
    )
    try:
        with override_client(client):
            found = drugs_find(rpps=RPPS, text="simvastatine", limit=12)
            choice = drug_choice_for_code(rpps=RPPS, code=SIMVASTATINE)
    finally:
        breaker.reset()
        client.close()
    assert found.offline
    assert found.drugs
    assert not choice.verified
    assert calls == []  # nothing waited on Ordoclic


def test_the_screen_marks_each_result_from_memory(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    client = logged_in_client(prescriber)
    url = reverse("prescriptions:drug_search", args=[prescription.pk])
    online = client.get(url, {"q": "simva"}, **HTMX).content.decode()
    assert OFFLINE_MARK not in online
    sandbox_fault(ordoclic, "down")
    offline = client.get(url, {"q": "simva"}, **HTMX).content.decode()
    results = offline.split("<button")[1:]
    # the same products (online, each may also offer its DCI line; not from memory)
    assert len(results) == online.count('data-dci=""')
    assert all(OFFLINE_MARK in result for result in results)
    assert 'data-dci="1"' not in offline
    assert "mémoire d'origami" in offline
    assert "Recherche indisponible" not in offline


def test_a_line_picked_offline_is_marked_unverified_and_an_unknown_drug_refused(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    client = logged_in_client(prescriber)
    sandbox_fault(ordoclic, "down")
    url = reverse("prescriptions:line_add", args=[prescription.pk])
    forged = {
        "version": prescription.version,
        "drug_code": SIMVASTATINE,
        "drug_label": "PRODUIT INVENTÉ",
        "posology": "1 cp le soir",
    }
    refused = client.post(url, forged, **HTMX).content.decode()
    assert "pas encore connu" in refused
    assert prescription.lines.count() == 0

    # Once origami has seen the drug (a search while Ordoclic answered), it is remembered.
    sandbox_fault(ordoclic, "ok")
    drugs_find(rpps=RPPS, text="simvastatine", limit=12)
    sandbox_fault(ordoclic, "down")
    prescription = Prescription.objects.get(pk=prescription.pk)
    forged["version"] = prescription.version
    page = client.post(url, forged, **HTMX).content.decode()
    [line] = prescription.lines.all()
    assert "SIMVASTATINE" in line.label.upper()  # what origami knew, not what was posted
    assert not line.drug_verified
    assert OFFLINE_MARK in page
    event = prescription.audit_events.get(action=AuditAction.LINE_ADDED)
    assert event.details["drug_verified"] is False


def test_a_line_picked_online_is_verified(
    prescriber: Any, patient: Any, ordoclic: Any, logged_in_client: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    client = logged_in_client(prescriber)
    client.post(
        reverse("prescriptions:line_add", args=[prescription.pk]),
        {"version": prescription.version, "drug_code": SIMVASTATINE, "posology": "1 cp le soir"},
        **HTMX,
    )
    [line] = prescription.lines.all()
    assert line.drug_verified
