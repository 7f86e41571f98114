"""Template filters for a line's prescription conditions: its badges, the confirmation it asks
for, and the mentions the paper copy prints (narcotics in full letters, "non renouvelable",
"chevauchement", "NR"). The rules themselves are in ``prescriptions.drafting.conditions``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import template

from ordoclic_client import contract
from prescriptions.drafting.conditions import (
    Badge,
    condition_badges,
    conditions_of,
    confirmation_text,
    dosage_in_letters,
    duration_days,
    is_narcotic_regime,
    needs_confirmation,
    posology_in_letters,
)
from prescriptions.models import PrescriptionLine

register = template.Library()


@register.filter
def badges(conditions: Mapping[str, Any] | None) -> list[Badge]:
    return condition_badges(conditions)


@register.filter
def asks_confirmation(conditions: Mapping[str, Any] | None) -> bool:
    return needs_confirmation(conditions)


@register.filter
def confirmation(conditions: Mapping[str, Any] | None) -> str:
    return confirmation_text(conditions) if needs_confirmation(conditions) else ""


@register.filter
def secure(conditions: Mapping[str, Any] | None) -> bool:
    """A narcotic or assimilé (secure prescription)."""
    return is_narcotic_regime(conditions_of(conditions))


@dataclass(frozen=True)
class PaperMentions:
    posology_letters: str = ""  # a narcotic's posology in full letters
    dosage_letters: str = ""  # its strength in full letters ("dix (10) milligrammes")
    non_renewable: bool = False
    fraction_days: int | None = None


@register.filter
def paper_mentions(line: PrescriptionLine) -> PaperMentions:
    c = conditions_of(line.conditions)
    if is_narcotic_regime(c):
        strengths = [dosage_in_letters(part) for part in line.dosage.split(" + ") if part]
        return PaperMentions(
            posology_letters=posology_in_letters(
                dose=line.dose,
                unit=line.unit,
                count=line.frequency_count,
                period=line.frequency_period,
                as_needed=line.as_needed,
                max_per_24h=line.max_per_24h,
                days=duration_days(value=line.duration_value, unit=line.duration_unit),
            ),
            dosage_letters=" + ".join(s for s in strengths if s)
            if all(strengths) and strengths
            else "",
            non_renewable=True,
            fraction_days=c.dispensing_fraction_days,
        )
    # liste I: renewed only when the prescriber writes so; the paper says when it is not
    return PaperMentions(
        non_renewable=c.drug_list == contract.DrugList.LIST_I and not line.renewals
    )
