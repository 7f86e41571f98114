"""Linking a practitioner to Ordoclic and re-verifying the link before signing, against the
in-process sandbox (its directory holds the demo professionals)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from practitioners.models import OrdoclicLinkStatus
from practitioners.ordoclic import (
    OrdoclicUnavailable,
    practitioner_link_ordoclic,
    practitioner_ordoclic_current,
)
from tests.factories import AdminFactory, PractitionerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_currency_checks() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def set_fault(ordoclic: Any, mode: str) -> None:
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": mode}).raise_for_status()


@pytest.mark.parametrize(
    ("rpps", "status"),
    [
        ("10100001238", OrdoclicLinkStatus.LINKED),
        ("10100004562", OrdoclicLinkStatus.LINKED),
        ("10100007896", OrdoclicLinkStatus.DEACTIVATED),
        ("99700092640", OrdoclicLinkStatus.LINKED),
    ],
    ids=["martin", "benali", "durand-deactivated", "staging-test-number"],
)
def test_known_professionals_are_linked_with_their_ordoclic_id(
    ordoclic: Any, rpps: str, status: OrdoclicLinkStatus
) -> None:
    practitioner = PractitionerFactory(rpps=rpps)
    before = timezone.now()
    admin = AdminFactory()

    practitioner_link_ordoclic(practitioner=practitioner, acting_user=admin)

    practitioner.refresh_from_db()
    assert practitioner.ordoclic_link_status == status
    # the account's history says who checked and what came of it
    [event] = practitioner.user.account_events.filter(kind="ordoclic_link_checked")
    assert event.acting_user == admin
    assert event.detail == {"previous": "unlinked", "outcome": status}
    assert practitioner.ordoclic_professional_id is not None
    assert practitioner.ordoclic_verified_at is not None
    assert practitioner.ordoclic_verified_at >= before
    if status == OrdoclicLinkStatus.LINKED:
        assert practitioner.ordoclic_last_error == ""
    else:
        assert "désactivé chez Ordoclic" in practitioner.ordoclic_last_error


def test_an_rpps_unknown_to_ordoclic_is_an_error_in_plain_french(ordoclic: Any) -> None:
    practitioner = PractitionerFactory(rpps="10100009991")

    practitioner_link_ordoclic(practitioner=practitioner, acting_user=AdminFactory())

    practitioner.refresh_from_db()
    assert practitioner.ordoclic_link_status == OrdoclicLinkStatus.ERROR
    assert practitioner.ordoclic_professional_id is None
    assert "RPPS" in practitioner.ordoclic_last_error
    assert "inconnu" in practitioner.ordoclic_last_error


def test_when_ordoclic_is_down_the_link_is_kept_and_the_caller_told(ordoclic: Any) -> None:
    practitioner = PractitionerFactory(rpps="10100001238")
    practitioner_link_ordoclic(practitioner=practitioner, acting_user=AdminFactory())
    practitioner.refresh_from_db()
    linked_at = practitioner.ordoclic_verified_at
    professional_id = practitioner.ordoclic_professional_id
    set_fault(ordoclic, "down")

    with pytest.raises(OrdoclicUnavailable) as raised:
        practitioner_link_ordoclic(practitioner=practitioner, acting_user=AdminFactory())

    practitioner.refresh_from_db()
    assert practitioner.ordoclic_link_status == OrdoclicLinkStatus.LINKED
    assert practitioner.ordoclic_professional_id == professional_id
    assert practitioner.ordoclic_verified_at == linked_at
    assert practitioner.ordoclic_last_error == (
        "Ordoclic injoignable lors de la dernière vérification (erreur du service Ordoclic) : "
        "état de la liaison inchangé."
    )
    assert raised.value.message == "Erreur du service Ordoclic ; réessayez dans quelques minutes."


def test_an_unconfigured_client_is_reported_as_unavailable(tmp_path: Any) -> None:
    practitioner = PractitionerFactory(rpps="10100001238")

    with (
        override_settings(
            ORDOCLIC_PARTNER_ID="", ORDOCLIC_SANDBOX_CREDENTIALS=str(tmp_path / "none.json")
        ),
        pytest.raises(OrdoclicUnavailable, match="Client Ordoclic non configuré"),
    ):
        practitioner_link_ordoclic(practitioner=practitioner, acting_user=AdminFactory())

    practitioner.refresh_from_db()
    assert practitioner.ordoclic_link_status == OrdoclicLinkStatus.UNLINKED


def test_a_linked_and_active_practitioner_is_current_and_the_check_is_cached(
    ordoclic: Any,
) -> None:
    practitioner = PractitionerFactory(rpps="10100004562")
    practitioner_link_ordoclic(practitioner=practitioner, acting_user=AdminFactory())
    assert practitioner_ordoclic_current(practitioner=practitioner) is True
    assert practitioner.ordoclic_professional_id is not None
    deactivated = ordoclic.client.professional_deactivate(
        rpps="10100004562",
        professional_id=str(practitioner.ordoclic_professional_id),
        reason="test",
    )
    assert deactivated.value.activated is False

    assert practitioner_ordoclic_current(practitioner=practitioner) is True  # still cached
    cache.clear()
    assert practitioner_ordoclic_current(practitioner=practitioner) is False


@pytest.mark.parametrize(
    "status",
    [OrdoclicLinkStatus.UNLINKED, OrdoclicLinkStatus.DEACTIVATED, OrdoclicLinkStatus.ERROR],
)
def test_a_practitioner_not_linked_is_not_current(ordoclic: Any, status: str) -> None:
    practitioner = PractitionerFactory(rpps="10100001238", ordoclic_link_status=status)

    assert practitioner_ordoclic_current(practitioner=practitioner) is False


def test_when_ordoclic_is_down_a_linked_practitioner_may_still_sign(ordoclic: Any) -> None:
    practitioner = PractitionerFactory(rpps="10100001238")
    practitioner_link_ordoclic(practitioner=practitioner, acting_user=AdminFactory())
    set_fault(ordoclic, "down")

    assert practitioner_ordoclic_current(practitioner=practitioner) is True


def test_a_link_to_another_professional_id_is_not_current(ordoclic: Any) -> None:
    practitioner = PractitionerFactory(rpps="10100001238")
    practitioner_link_ordoclic(practitioner=practitioner, acting_user=AdminFactory())
    practitioner.ordoclic_professional_id = "00000000-0000-4000-8000-000000000000"
    practitioner.save()

    assert practitioner_ordoclic_current(practitioner=practitioner) is False
