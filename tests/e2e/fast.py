"""Steps of the prescriptions a general practitioner writes most, typed in full or with
favourites, protocols and renewal: shared by the journeys (tests/e2e/journeys/
test_prescribe_fast.py) and the keystrokes benchmark (bench/keystrokes.py), which counts the
keys pressed and the requests made through `Keys`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .helpers import wait_for_focus

# What a chronic treatment's renewal, an antibiotic course and a painkiller look like typed in
# full: (search text, posology, sentence the line shows).
CHRONIC = [
    ("simvastatine", "1 cp le soir 1 mois", "1 comprimé le soir pendant 1 mois"),
    ("metformine", "1 cp matin et soir 1 mois", "1 comprimé le matin et le soir pendant 1 mois"),
    ("levothyrox", "1 cp le matin 1 mois", "1 comprimé le matin pendant 1 mois"),
]
AMOXICILLIN = ("clamoxyl 1", "1 cp x3/j 6j", "1 comprimé 3 fois par jour pendant 6 jours")
PARACETAMOL = ("doliprane 1000", "1 cp x3/j si besoin", "1 comprimé 3 fois par jour si besoin")


@dataclass
class Keys:
    """The page, with every key pressed and every request to the app counted."""

    page: Any
    base_url: str
    keys: int = 0
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("request", self._request)

    def _request(self, request: Any) -> None:
        url = request.url
        if url.startswith(self.base_url) and "/static/" not in url and "favicon" not in url:
            self.requests.append(f"{request.method} {url.removeprefix(self.base_url)}")

    def type(self, text: str) -> None:
        self.keys += len(text)
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        self.keys += 1
        self.page.keyboard.press(key)

    def reset(self) -> None:
        self.keys = 0
        self.requests.clear()


def wait_analysed(page: Any) -> None:
    """Until the analysis of the current lines is on screen (alerts or "aucune alerte")."""
    page.wait_for_selector("#analysis .rx-ok, #analysis .rx-alerts, #analysis .rx-not-done")


def open_patient(page: Any, base_url: str, patient: Any) -> None:
    page.goto(f"{base_url}/patients/{patient.pk}/")
    page.wait_for_selector("#new-prescription")


def new_prescription(keys: Keys, patient: Any) -> None:
    open_patient(keys.page, keys.base_url, patient)
    keys.page.click("#new-prescription")
    keys.page.wait_for_selector("#drug-search")
    keys.page.focus("#drug-search")


def type_line(keys: Keys, search: str, posology: str, sentence: str) -> None:
    """Search, Enter (the first result), the posology, Enter (adds the line)."""
    page = keys.page
    page.focus("#drug-search")
    keys.type(search)
    page.wait_for_selector("#drug-results .rx-drug")
    keys.press("Enter")
    wait_for_focus(page, "posology-input")
    if posology:
        keys.type(posology)
    keys.press("Enter")
    page.wait_for_selector(f".rx-line >> text={sentence}")
    wait_for_focus(page, "drug-search")
