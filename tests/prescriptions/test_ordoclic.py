"""The package's boundary with Ordoclic: the client's results become contract values or the
domain's Refused / NotAnswered, and the screens get a French refusal when Ordoclic is down."""

from __future__ import annotations

from typing import Any

import pytest

from ordoclic_client.results import FieldError, Ok, Rejected, Unavailable, UnavailableKind
from prescriptions import ordoclic
from prescriptions.errors import OrdoclicUnavailable
from prescriptions.ordoclic import NotAnswered, Refused, _domain

from .conftest import sandbox_fault

RPPS = "10100001238"


def test_results_become_domain_values() -> None:
    assert _domain(Ok(42)) == 42
    refused = _domain(
        Rejected(status=409, errors=(FieldError("déjà délivrée", code="already_dispensed"),))
    )
    assert refused == Refused(
        message="déjà délivrée", status=409, codes=frozenset({"already_dispensed"})
    )
    down = _domain(Unavailable("read timeout", sent=True, kind=UnavailableKind.TIMEOUT))
    assert down == NotAnswered(reason="read timeout", sent=True, breaker_open=False)
    breaker = _domain(
        Unavailable("circuit open", retry_after=9.0, kind=UnavailableKind.BREAKER_OPEN)
    )
    assert breaker == NotAnswered(
        reason="circuit open", retry_after=9.0, sent=False, breaker_open=True
    )


def test_drug_search_and_lookup_answer_drugs(ordoclic: Any) -> None:
    found = ordoclic_search("doliprane")
    assert any("DOLIPRANE" in drug.label for drug in found)
    assert ordoclic_module().drug_by_code(rpps=RPPS, code="69094525") is not None
    assert ordoclic_module().drug_by_code(rpps=RPPS, code="00000000") is None


def test_a_search_while_ordoclic_is_down_raises_a_french_refusal(ordoclic: Any) -> None:
    sandbox_fault(ordoclic, "down")
    with pytest.raises(OrdoclicUnavailable, match="Recherche indisponible"):
        ordoclic_search("doliprane")
    with pytest.raises(OrdoclicUnavailable):
        ordoclic_module().drug_by_code(rpps=RPPS, code="69094525")


def ordoclic_module() -> Any:
    return ordoclic


def ordoclic_search(text: str) -> list[Any]:
    return ordoclic.drugs_search(rpps=RPPS, text=text, per_page=5)
