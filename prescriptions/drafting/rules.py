"""Pure rules of the prescription screen: alert order, which alerts need a decision and a
justification, and when a line may be marked non substituable."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.utils.translation import gettext as _

from ordoclic_client.text import unaccented

LEVEL_ORDER = {"CI": 0, "ASDEC": 1, "PE": 2, "APEC": 3}
LEVEL_RANK = {"CI": 4, "ASDEC": 3, "PE": 2, "APEC": 1, "INFO": 0}

# Substances listed by arrêté for the MTE justification (narrow therapeutic margin); DOMAIN.md §3.
MTE_SUBSTANCES = frozenset(
    {
        "lamotrigine",
        "pregabaline",
        "levetiracetam",
        "topiramate",
        "valproate",
        "acide valproique",
        "valpromide",
        "levothyroxine",
        "mycophenolate",
        "acide mycophenolique",
        "buprenorphine",
        "azathioprine",
        "ciclosporine",
        "everolimus",
        "zonisamide",
    }
)
EFG_MAX_AGE_YEARS = 6


class HasLevel(Protocol):
    @property
    def level(self) -> str: ...

    @property
    def pk(self) -> Any: ...


def alert_sort_key(alert: HasLevel) -> tuple[int, int]:
    """CI, ASDEC, PE, APEC, then everything else; stable within a level."""
    return (LEVEL_ORDER.get(alert.level, len(LEVEL_ORDER)), alert.pk or 0)


A = TypeVar("A", bound=HasLevel)


def alerts_ordered(alerts: Iterable[A]) -> list[A]:
    return sorted(alerts, key=alert_sort_key)


def level_needs_decision(level: str) -> bool:
    return level in settings.PRESCRIPTION_DECISION_LEVELS


def level_needs_justification(level: str) -> bool:
    # CI and ASDEC always: the database refuses an unjustified maintained CI / ASDEC anyway.
    return level in {"CI", "ASDEC"} or level in settings.PRESCRIPTION_JUSTIFICATION_LEVELS


def fold(text: str) -> str:
    return unaccented(text).strip()


def substance_is_mte(substance: str) -> bool:
    folded = fold(substance)
    return any(name in folded for name in MTE_SUBSTANCES)


def non_substitution_error(*, reason: str, substance: str, patient_age: int) -> str | None:
    """Why this non-substitution reason does not apply, or None when it does."""
    if reason == "MTE" and not substance_is_mte(substance):
        return _(
            "Le motif MTE ne vaut que pour les substances à marge thérapeutique étroite "
            "listées par arrêté (lévothyroxine, lamotrigine, valproate…)."
        )
    if reason == "EFG" and patient_age >= EFG_MAX_AGE_YEARS:
        return _("Le motif EFG ne vaut que pour un enfant de moins de 6 ans.")
    if reason not in {"MTE", "EFG", "CIF"}:
        return _("Choisissez le motif de non-substitution : MTE, EFG ou CIF.")
    return None
