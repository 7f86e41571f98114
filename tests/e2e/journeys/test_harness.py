"""The journey harness itself: it catches what a person would see go wrong."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import PatientFactory, PrescriberFactory

from ..helpers import log_in
from .conftest import Journey

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


def test_a_click_that_changes_nothing_fails_the_journey(
    served_ordoclic: Any, live_server: Any, journey: Journey
) -> None:
    prescriber = PrescriberFactory()
    patient = PatientFactory(last_name="Lefèvre")
    log_in(journey.page, live_server.url, prescriber)
    journey.page.goto(f"{live_server.url}/patients/{patient.pk}/")
    journey.page.wait_for_selector("#new-prescription")
    journey.shot("patient")
    journey.click("#new-prescription")  # opens the draft: a change
    journey.page.wait_for_selector("#drug-search")
    # The heading is not a control: clicking it changes nothing.
    with pytest.raises(AssertionError, match="changed nothing"):
        journey_click_nothing(journey)


def journey_click_nothing(journey: Journey) -> None:
    from . import conftest

    previous = conftest.CHANGE_TIMEOUT_S
    conftest.CHANGE_TIMEOUT_S = 0.5
    try:
        journey.click("h1")
    finally:
        conftest.CHANGE_TIMEOUT_S = previous
