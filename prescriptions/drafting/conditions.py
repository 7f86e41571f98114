"""The prescription conditions of a line's product and the rules origami enforces with them.

Ordoclic's drug database gives each product its conditions (``contract.PrescriptionConditions``,
from ``CIS_CPD_bdpm.txt``): liste I / II / stupéfiant, secure prescription, hospital-only, ... The
line keeps them as they were when it was written (``PrescriptionLine.conditions``). What origami
does with them (CSP art. R5132-3 and following, R5132-21 and following, R5132-29 and following):

* a product reserved to hospitals ("réservé à l'usage hospitalier") or of hospital prescription
  cannot be prescribed from a city exercise context;
* an initial-hospital or specialist-only product asks the prescriber to confirm that its
  conditions are met (the confirmation is traced in the line's audit event);
* narcotics and assimilés (secure prescription): a duration, capped per substance (7, 14 or
  28 days); never renewed; the quantity, units per intake, intakes and duration printed in full
  letters; a new prescription overlapping the period of an earlier one of the same substance
  only with the prescriber's express mention ("chevauchement");
* any product whose prescription is limited in time ("prescription limitée à 12 semaines"):
  the whole duration, renewals included, within the limit;
* liste I and II: at most 12 months, renewals included; liste I renewed only when the prescriber
  writes so (renewals default to 0 and the paper copy says "non renouvelable").

Pure functions: the services call them with what they read and raise the refusals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from ordoclic_client import contract

from ..drugs.naming import (  # noqa: F401 - a line keeps what the drug search gave
    conditions_wire,
    dci_dosage,
    dci_form,
    dci_label,
    dci_substance,
    label_strength,
)
from .letters import number_in_letters, quantity_in_letters, unit_name
from .rules import fold

DAYS_PER_UNIT = {"day": 1, "week": 7, "month": 30}
# CSP art. R5132-21: a product of liste I or II is prescribed for 12 months at most.
LIST_MAX_DAYS = 365


def conditions_of(data: Mapping[str, Any] | None) -> contract.PrescriptionConditions:
    return contract.PrescriptionConditions.model_validate(dict(data or {}))


@dataclass(frozen=True)
class Badge:
    label: str
    css: str  # badge-<kind>
    title: str = ""


def condition_badges(data: Mapping[str, Any] | None) -> list[Badge]:
    """The badges a line (or a search result) shows for its product's conditions."""
    c = conditions_of(data)
    badges = []
    if c.drug_list == contract.DrugList.NARCOTIC:
        badges.append(Badge(_("Stupéfiant"), "badge-danger", _("Ordonnance sécurisée")))
    elif c.drug_list == contract.DrugList.LIST_I:
        badges.append(Badge(_("Liste I"), "badge-list"))
    elif c.drug_list == contract.DrugList.LIST_II:
        badges.append(Badge(_("Liste II"), "badge-list"))
    if c.secure_prescription and c.drug_list != contract.DrugList.NARCOTIC:
        badges.append(Badge(_("Assimilé stupéfiant"), "badge-danger", _("Ordonnance sécurisée")))
    if c.hospital_only:
        badges.append(Badge(_("Réservé hôpital"), "badge-warn"))
    if c.hospital_prescription:
        badges.append(Badge(_("Prescription hospitalière"), "badge-warn"))
    if c.initial_hospital_prescription:
        badges.append(Badge(_("Initiale hospitalière"), "badge-warn"))
    if c.specialist_only:
        badges.append(Badge(_("Spécialiste"), "badge-warn", ", ".join(c.specialties).lower()))
    if c.special_monitoring:
        badges.append(Badge(_("Surveillance particulière"), "badge-warn"))
    if c.max_duration_days:
        badges.append(
            Badge(
                _("%(days)s j max") % {"days": c.max_duration_days},
                "badge-muted",
                _("Durée de prescription limitée à %(days)s jours") % {"days": c.max_duration_days},
            )
        )
    return badges


def is_narcotic_regime(c: contract.PrescriptionConditions) -> bool:
    """Stupéfiant or assimilé: the secure-prescription rules apply."""
    return c.drug_list == contract.DrugList.NARCOTIC or c.secure_prescription


def needs_hospital_context(c: contract.PrescriptionConditions) -> bool:
    return c.hospital_only or c.hospital_prescription


def needs_confirmation(data: Mapping[str, Any] | None) -> bool:
    c = conditions_of(data)
    return c.initial_hospital_prescription or c.specialist_only


def confirmation_text(data: Mapping[str, Any] | None) -> str:
    """What the prescriber confirms by ticking the box of the line."""
    c = conditions_of(data)
    parts = []
    if c.initial_hospital_prescription:
        parts.append(_("la prescription initiale hospitalière a été faite et est en cours"))
    if c.specialist_only:
        specialties = ", ".join(s.lower() for s in c.specialties)
        if specialties:
            parts.append(
                _(
                    "la prescription relève d'un spécialiste (%(specialties)s) ou renouvelle "
                    "la sienne"
                )
                % {"specialties": specialties}
            )
        else:
            parts.append(_("la prescription relève d'un spécialiste ou renouvelle la sienne"))
    return _("Je confirme que %(what)s.") % {"what": _(" et que ").join(parts)}


def duration_days(*, value: int | None, unit: str) -> int | None:
    return None if value is None else value * DAYS_PER_UNIT[unit]


@dataclass(frozen=True)
class LineFacts:
    """What the rules read of a line being written."""

    label: str
    conditions: contract.PrescriptionConditions
    duration_value: int | None
    duration_unit: str
    renewals: int
    confirmed: bool


def condition_refusal(*, facts: LineFacts, hospital_context: bool) -> tuple[str, str] | None:
    """(message, field) of the first rule the line breaks, None when it breaks none."""
    c = facts.conditions
    if needs_hospital_context(c) and not hospital_context:
        what = (
            _("est réservé à l'usage hospitalier")
            if c.hospital_only
            else _("est de prescription hospitalière")
        )
        return (
            _(
                "%(label)s %(what)s : il ne peut pas être prescrit depuis un lieu d'exercice "
                "de ville. Choisissez un établissement de santé comme lieu d'exercice, ou un "
                "autre médicament."
            )
            % {"label": facts.label, "what": what},
            "drug",
        )
    if (c.initial_hospital_prescription or c.specialist_only) and not facts.confirmed:
        return (
            _(
                "%(label)s a des conditions de prescription restreintes : cochez la case "
                "confirmant qu'elles sont remplies."
            )
            % {"label": facts.label},
            "conditions_confirmed",
        )
    days = duration_days(value=facts.duration_value, unit=facts.duration_unit)
    narcotic = is_narcotic_regime(c)
    if narcotic and facts.renewals:
        return (
            _(
                "%(label)s est un stupéfiant ou assimilé : il ne se renouvelle pas. Rédigez une "
                "nouvelle ordonnance à l'échéance."
            )
            % {"label": facts.label},
            "renewals",
        )
    if (narcotic or c.max_duration_days) and days is None:
        return (
            _(
                "La durée de prescription de %(label)s est limitée : indiquez la durée du "
                "traitement (ex. « pendant 7 jours »)."
            )
            % {"label": facts.label},
            "posology",
        )
    total = None if days is None else days * (facts.renewals + 1)
    if c.max_duration_days and total is not None and total > c.max_duration_days:
        if narcotic:
            message = _(
                "%(label)s : la durée de prescription d'un stupéfiant ou assimilé est limitée "
                "à %(max)s jours pour cette substance (%(asked)s jours demandés)."
            )
        else:
            message = _(
                "%(label)s : la durée de prescription est limitée à %(max)s jours, "
                "renouvellements compris (%(asked)s jours demandés)."
            )
        field = "renewals" if days is not None and days <= c.max_duration_days else "posology"
        return (
            message % {"label": facts.label, "max": c.max_duration_days, "asked": total},
            field,
        )
    listed = c.drug_list in (contract.DrugList.LIST_I, contract.DrugList.LIST_II)
    if listed and total is not None and facts.renewals and total > LIST_MAX_DAYS:
        return (
            _(
                "%(label)s est inscrit sur une liste des substances vénéneuses : il se prescrit "
                "pour 12 mois au plus, renouvellements compris (%(asked)s jours demandés)."
            )
            % {"label": facts.label, "asked": total},
            "renewals",
        )
    return None


# --- narcotics: quantities in full letters and the "chevauchement" ------------------------------


def intakes_per_day(
    *, dose: Decimal, count: int, period: str, as_needed: bool, max_per_24h: Decimal | None
) -> Decimal:
    """Units a day (in the posology's unit): for "si besoin", the maximum per 24 h."""
    if as_needed and max_per_24h is not None:
        return max_per_24h
    per_period = dose * count
    return per_period / 7 if period == "week" else per_period


def total_quantity(
    *,
    dose: Decimal,
    count: int,
    period: str,
    as_needed: bool,
    max_per_24h: Decimal | None,
    days: int,
) -> Decimal:
    """Units for the whole duration; a fraction of a unit left over counts as a unit when the
    unit is countable (a started tablet is dispensed)."""
    per_day = intakes_per_day(
        dose=dose, count=count, period=period, as_needed=as_needed, max_per_24h=max_per_24h
    )
    return (per_day * days).quantize(Decimal("0.001")).normalize()


def quantity_text(*, total: Decimal, unit: str) -> str:
    """ "vingt-huit (28) comprimés"."""
    return quantity_in_letters(total, unit)


def posology_in_letters(
    *,
    dose: Decimal,
    unit: str,
    count: int,
    period: str,
    as_needed: bool,
    max_per_24h: Decimal | None,
    days: int | None,
) -> str:
    """The posology of a secure prescription in full letters: units per intake, intakes,
    duration ("une (1) gélule par prise, deux (2) prises par jour, pendant quatorze (14)
    jours")."""
    name, feminine = unit_name(unit, dose)
    parts = [
        _("%(dose)s %(unit)s par prise")
        % {"dose": number_in_letters(dose, feminine=feminine), "unit": name}
    ]
    if as_needed:
        if max_per_24h is not None:
            max_name, max_feminine = unit_name(unit, max_per_24h)
            parts.append(
                _("si besoin, %(max)s %(unit)s au plus par 24 heures")
                % {"max": number_in_letters(max_per_24h, feminine=max_feminine), "unit": max_name}
            )
        else:
            parts.append(_("si besoin"))
    else:
        period_words = {
            "day": _("par jour"),
            "24h": _("par 24 heures"),
            "week": _("par semaine"),
        }[period]
        intakes = _("prise") if count < 2 else _("prises")
        parts.append(f"{number_in_letters(count, feminine=True)} {intakes} {period_words}")
    if days is not None:
        day_word = _("jour") if days < 2 else _("jours")
        parts.append(
            _("pendant %(days)s %(word)s") % {"days": number_in_letters(days), "word": day_word}
        )
    return ", ".join(parts)


def dosage_in_letters(dosage: str) -> str:
    """A strength in full letters when it reads as a number and a unit ("10 mg" -> "dix (10)
    milligrammes"); "" when it does not (a ratio such as "1 g/100 ml" stays in figures)."""
    text = dosage.strip().replace(",", ".")
    number, _sep, unit = text.partition(" ")
    try:
        value = Decimal(number)
    except ArithmeticError:
        return ""
    if not unit or "/" in unit or " " in unit.strip():
        return ""
    return quantity_in_letters(value, unit)


@dataclass(frozen=True)
class Overlap:
    """An earlier prescription of the same narcotic still covering the period."""

    signed_at: datetime
    until: datetime


def substance_key(text: str) -> str:
    """A substance compared across products and DCI lines ("SULFATE DE MORPHINE" and
    "morphine" are the same substance)."""
    return fold(dci_substance(text))


def narcotic_overlap(
    *,
    substance: str,
    running: Iterable[Any],
) -> Overlap | None:
    """The latest running line (of a signed prescription) of the same substance whose period is
    not over, if any. ``running``: lines with ``prescription.signed_at``, ``substance``,
    ``duration_value``, ``duration_unit`` and ``renewals``."""
    key = substance_key(substance)
    if not key:
        return None
    found = None
    for line in running:
        if substance_key(line.substance) != key or line.duration_value is None:
            continue
        signed_at = line.prescription.signed_at
        days = line.duration_value * DAYS_PER_UNIT[line.duration_unit] * (line.renewals + 1)
        until = signed_at + timedelta(days=days)
        if found is None or until > found.until:
            found = Overlap(signed_at=signed_at, until=until)
    return found


# --- DCI: a product's common name ------------------------------------------------------------
