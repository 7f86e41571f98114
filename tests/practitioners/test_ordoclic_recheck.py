"""At login, an account Ordoclic knows is asked about again: a prescriber deactivated since is
told before writing; unknown or unreachable, nothing changes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from practitioners.models import OrdoclicLinkStatus
from practitioners.ordoclic import practitioner_ordoclic_recheck
from tests.factories import PrescriberFactory

pytestmark = pytest.mark.django_db

SOPHIE_DURAND = "10100007896"  # deactivated in the sandbox's directory


def linked_once(rpps: str) -> Any:
    user = PrescriberFactory(practitioner_record__rpps=rpps)
    practitioner = user.practitioner
    practitioner.ordoclic_link_status = OrdoclicLinkStatus.LINKED
    practitioner.ordoclic_professional_id = uuid.uuid4()
    practitioner.save()
    return user


def test_a_prescriber_deactivated_since_the_link_is_marked_so(ordoclic: Any) -> None:
    user = linked_once(SOPHIE_DURAND)
    practitioner_ordoclic_recheck(practitioner=user.practitioner, acting_user=user)
    user.practitioner.refresh_from_db()
    assert user.practitioner.ordoclic_link_status == OrdoclicLinkStatus.DEACTIVATED


def test_an_unlinked_account_is_left_to_the_administrator(ordoclic: Any) -> None:
    user = PrescriberFactory(practitioner_record__rpps=SOPHIE_DURAND)
    practitioner_ordoclic_recheck(practitioner=user.practitioner, acting_user=user)
    user.practitioner.refresh_from_db()
    assert user.practitioner.ordoclic_link_status == OrdoclicLinkStatus.UNLINKED


def test_ordoclic_unreachable_changes_nothing(ordoclic: Any) -> None:
    user = linked_once(SOPHIE_DURAND)
    with ordoclic.sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()
    practitioner_ordoclic_recheck(practitioner=user.practitioner, acting_user=user)
    user.practitioner.refresh_from_db()
    assert user.practitioner.ordoclic_link_status == OrdoclicLinkStatus.LINKED
