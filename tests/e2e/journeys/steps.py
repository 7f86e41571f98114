"""Steps the prescriber's journeys share: a linked prescriber, a patient, picking drugs with the
keyboard as a busy prescriber does, reading the analysis."""

from __future__ import annotations

from typing import Any

from practitioners.ordoclic import practitioner_link_ordoclic
from tests.factories import PatientFactory, PrescriberFactory

from ..helpers import wait_for_focus, wait_for_page

CLAIRE_MARTIN = "10100001238"


def linked_prescriber() -> Any:
    user = PrescriberFactory(
        first_name="Claire", last_name="Martin", practitioner_record__rpps=CLAIRE_MARTIN
    )
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    return user


def a_patient() -> Any:
    return PatientFactory(last_name="Lefèvre", first_name="Jeanne")


def pick_drug(page: Any, search: str, label: str) -> None:
    """Type in the drug search (focused when the draft opens), pick the result named ``label``;
    the posology field then has the focus."""
    page.fill("#drug-search", search)
    page.locator(".rx-drug", has_text=label).first.click()
    wait_for_focus(page, "posology-input")


def add_line(page: Any, search: str, label: str, posology: str, sentence: str) -> None:
    pick_drug(page, search, label)
    page.keyboard.type(posology)
    page.keyboard.press("Enter")
    page.locator(".rx-line", has_text=label).filter(has_text=sentence).wait_for()
    # the screen is ready for the next drug once the search box has the focus back
    wait_for_focus(page, "drug-search")


def analysis_current(page: Any) -> None:
    """Wait until the analysis panel shows the analysis of the version the editor shows (a
    decision is taken on the alerts of the draft as it is)."""
    wait_for_page(
        page,
        """() => {
          const panel = document.getElementById("analysis");
          const shown = document.getElementById("draft-version");
          return panel && shown && panel.dataset.version === shown.value
            && panel.hasAttribute("data-analysed") && !panel.classList.contains("htmx-request");
        }""",
        what="the analysis of the version shown",
    )


def alert(page: Any, level: str) -> Any:
    """The analysis's alert of this level (CI, ASDEC, PE, APEC), once shown."""
    locator = page.locator(f"#analysis .rx-alert-{level.lower()}").first
    locator.wait_for()
    return locator
