from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from origami.ordoclic import override_client
from practitioners.models import OrdoclicLinkStatus
from tests.factories import PatientFactory, PrescriberFactory

from .fakes import FakeOrdoclic


@pytest.fixture
def fake_ordoclic() -> Iterator[FakeOrdoclic]:
    fake = FakeOrdoclic()
    with override_client(fake):  # type: ignore[arg-type]
        yield fake


def linked_prescriber(**kwargs: Any) -> Any:
    import uuid

    user = PrescriberFactory(**kwargs)
    practitioner = user.practitioner
    practitioner.ordoclic_link_status = OrdoclicLinkStatus.LINKED
    practitioner.ordoclic_professional_id = uuid.uuid4()
    practitioner.save()
    return user


@pytest.fixture
def prescriber() -> Any:
    return linked_prescriber()


@pytest.fixture
def patient() -> Any:
    return PatientFactory()
