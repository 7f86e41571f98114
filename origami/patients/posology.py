"""Structured posology (HAS model): quick entry parser, checks, and the French sentence printed on
the paper copy.

The quick entry accepts what prescribers type: "1 cp matin midi soir pendant 5 jours",
"1 cp x3/j 5j", "2 bouffées si besoin max 8/24h". The sentence rendered from a posology parses
back to the same posology (a property the tests check), so the paper copy and the structured line
sent to Ordoclic never disagree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from origami.text import excerpt

MOMENTS = ("matin", "midi", "soir", "coucher")
MOMENT_WORDS = {"matin": "le matin", "midi": "le midi", "soir": "le soir", "coucher": "au coucher"}

PERIODS = ("day", "24h", "week")
PERIOD_WORDS = {"day": "par jour", "24h": "par 24 heures", "week": "par semaine"}

DURATION_UNITS = ("day", "week", "month")
DURATION_WORDS = {
    "day": ("jour", "jours"),
    "week": ("semaine", "semaines"),
    "month": ("mois", "mois"),
}

# Canonical units (singular, plural) and the abbreviations typed for them.
UNITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "comprimé": ("comprimés", ("cp", "cps", "cpr", "comp", "comprime", "comprimes")),
    "gélule": ("gélules", ("gel", "gelule", "gelules", "gél")),
    "capsule": ("capsules", ("caps",)),
    "sachet": ("sachets", ("sach", "sachets")),
    "bouffée": ("bouffées", ("bouf", "bouffee", "bouffees", "inh", "puff", "puffs")),
    "goutte": ("gouttes", ("gtt", "gouttes")),
    "ampoule": ("ampoules", ("amp", "ampoules")),
    "suppositoire": ("suppositoires", ("suppo", "suppos", "suppositoires")),
    "application": ("applications", ("appli", "applications")),
    "patch": ("patchs", ("patches",)),
    "ovule": ("ovules", ()),
    "pulvérisation": ("pulvérisations", ("pulv", "pulverisation", "pulverisations")),
    "dose": ("doses", ("doses",)),
    "injection": ("injections", ("inj", "injections")),
    "mg": ("mg", ()),
    "g": ("g", ()),
    "µg": ("µg", ("ug", "mcg", "microgrammes")),
    "ml": ("ml", ("mL",)),
    "UI": ("UI", ("ui",)),
}
# Upper bound of one intake, by unit: beyond it the dose is a typing error, not a prescription.
MAX_DOSE = {
    "mg": Decimal(5000),
    "g": Decimal(10),
    "µg": Decimal(5000),
    "ml": Decimal(200),
    "UI": Decimal(100000),
    "goutte": Decimal(60),
}
MAX_DOSE_COUNTABLE = Decimal(10)  # comprimés, sachets, bouffées... per intake
MAX_INTAKES_PER_DAY = 12
MAX_DURATION_DAYS = 366


def _fold(text: str) -> str:
    """Lower case without accents, for matching what is typed."""
    decomposed = unicodedata.normalize("NFKD", text.replace("µ", "u"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_UNIT_LOOKUP: dict[str, str] = {}
for _canonical, (_plural, _abbreviations) in UNITS.items():
    for _form in (_canonical, _plural, *_abbreviations):
        _UNIT_LOOKUP[_fold(_form)] = _canonical


class PosologyError(ValueError):
    """The text or the values do not make a posology; the message is for the prescriber."""


@dataclass(frozen=True)
class Posology:
    dose: Decimal
    unit: str
    moments: tuple[str, ...] = ()
    frequency_count: int = 1
    frequency_period: str = "day"
    as_needed: bool = False
    max_per_24h: Decimal | None = None
    duration_value: int | None = None
    duration_unit: str = "day"

    @property
    def intakes(self) -> int:
        return len(self.moments) if self.moments else self.frequency_count


# --- rendering --------------------------------------------------------------------------------


def format_decimal(value: Decimal) -> str:
    """French decimal: "1", "0,5", "2,25"."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f").replace(".", ",")


def unit_words(unit: str, amount: Decimal) -> str:
    plural = UNITS.get(unit, (unit, ()))[0]
    return plural if amount >= 2 else unit


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " et " + words[-1]


def posology_sentence(posology: Posology) -> str:
    """The sentence of the paper copy, e.g. "1 comprimé le matin et le soir pendant 5 jours"."""
    parts = [f"{format_decimal(posology.dose)} {unit_words(posology.unit, posology.dose)}"]
    if posology.moments:
        parts.append(_join([MOMENT_WORDS[m] for m in posology.moments]))
    elif not (
        posology.as_needed and posology.frequency_count == 1 and posology.frequency_period == "day"
    ):
        count = posology.frequency_count
        times = "" if count == 1 else f"{count} fois "
        parts.append(times + PERIOD_WORDS[posology.frequency_period])
    if posology.as_needed:
        text = "si besoin"
        if posology.max_per_24h is not None:
            limit = posology.max_per_24h
            text += (
                f", sans dépasser {format_decimal(limit)} "
                f"{unit_words(posology.unit, limit)} par 24 heures"
            )
        parts.append(text)
    if posology.duration_value is not None:
        singular, plural = DURATION_WORDS[posology.duration_unit]
        word = singular if posology.duration_value == 1 else plural
        parts.append(f"pendant {posology.duration_value} {word}")
    return " ".join(parts)


# --- parsing ----------------------------------------------------------------------------------

_NUMBER = r"(\d+(?:[.,]\d+)?|\d+/\d+|½|¼|¾)"
_FRACTIONS = {"½": Decimal("0.5"), "¼": Decimal("0.25"), "¾": Decimal("0.75")}
_PERIOD_RE = r"(j|jr|jrs|jour|jours|24h|24 h|24 heures|sem|semaine|semaines)"


def _number(token: str) -> Decimal:
    if token in _FRACTIONS:
        return _FRACTIONS[token]
    try:
        if "/" in token:
            numerator, denominator = token.split("/")
            return Decimal(numerator) / Decimal(denominator)
        return Decimal(token.replace(",", "."))
    except (InvalidOperation, ZeroDivisionError) as exc:
        raise PosologyError(
            _("Nombre illisible : « %(token)s ».") % {"token": excerpt(token)}
        ) from exc


def _period(word: str) -> str:
    word = word.replace(" ", "")
    if word.startswith("24"):
        return "24h"
    if word.startswith("sem"):
        return "week"
    return "day"


def _duration_unit(word: str) -> str:
    if word.startswith("sem"):
        return "week"
    if word.startswith("m"):
        return "month"
    return "day"


_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "max",
        re.compile(
            r"(?:max(?:imum)?|sans depasser)\s*" + _NUMBER + r"\s*([a-zµ]+\s*)?(?:/|par)\s*"
            r"(24 ?h(?:eures)?|j|jour)\b"
        ),
    ),
    ("as_needed", re.compile(r"\b(?:si besoin|sb|a la demande|si douleurs?|si fievre)\b")),
    (
        "duration",
        re.compile(
            r"(?:\b(?:pendant|pdt|durant|sur)\s*)?\b(\d+)\s*"
            r"(j|jr|jrs|jours?|sem|semaines?|mois|m)\b(?!\s*(?:/|par))"
        ),
    ),
    (
        "frequency",
        re.compile(
            r"(?:\bx\s*(\d+)|\b(\d+)\s*(?:x|fois))\s*(?:(?:/|par)\s*" + _PERIOD_RE + r"\b)?"
        ),
    ),
    ("per_period", re.compile(r"(?:\b(\d+)\s*)?(?:/|\bpar\s+)" + _PERIOD_RE + r"\b")),
    ("every_hours", re.compile(r"\btoutes les\s*(\d+)\s*h(?:eures)?\b")),
    ("moment", re.compile(r"\b(?:le |au |a |du )?(matin|midi|soir|coucher)\b")),
]
_FILLERS = {"et", "le", "la", "les", "puis", "de", "a", "au", "par"}
_DOSE_RE = re.compile(r"^\s*(\d+/\d+|\d+(?:[.,]\d+)?|½|¼|¾)\s*([a-zµ]+)?")


def posology_parse(text: str, *, default_unit: str = "") -> Posology:
    """Read a quick entry. Raise PosologyError with a French message when it is not a posology."""
    folded = _fold(text).strip()
    if not folded:
        raise PosologyError(_("Indiquez une posologie, par exemple « 1 cp matin et soir 5j »."))
    match = _DOSE_RE.match(folded)
    if not match:
        raise PosologyError(
            _("La posologie doit commencer par une dose, par exemple « 1 cp » ou « 500 mg ».")
        )
    dose = _number(match.group(1))
    unit = default_unit
    rest = folded[match.end() :]
    if match.group(2):
        word = match.group(2)
        if word in _UNIT_LOOKUP:
            unit = _UNIT_LOOKUP[word]
        elif default_unit or word in {"x", "fois"}:
            rest = folded[match.start(2) :]
        else:
            raise PosologyError(_("Unité inconnue : « %(unit)s ».") % {"unit": excerpt(word)})
    if not unit:
        raise PosologyError(_("Précisez l'unité de la dose (cp, gélule, ml, mg…)."))

    count: int | None = None
    period: str | None = None
    as_needed = False
    max_per_24h: Decimal | None = None
    duration_value: int | None = None
    duration_unit = "day"
    moments: set[str] = set()
    for name, pattern in _PATTERNS:
        for found in pattern.finditer(rest):
            if name == "max":
                max_per_24h = _number(found.group(1))
                as_needed = True
            elif name == "as_needed":
                as_needed = True
            elif name == "duration":
                duration_value = int(found.group(1))
                duration_unit = _duration_unit(found.group(2))
            elif name == "frequency":
                count = int(found.group(1) or found.group(2))
                if found.group(3):
                    period = _period(found.group(3))
            elif name == "per_period":
                if found.group(1) and count is None:
                    count = int(found.group(1))
                period = period or _period(found.group(2))
            elif name == "every_hours":
                hours = int(found.group(1))
                if hours <= 0 or 24 % hours:
                    raise PosologyError(
                        _("« toutes les %(h)s h » ne divise pas la journée.") % {"h": hours}
                    )
                count, period = 24 // hours, "24h"
            elif name == "moment":
                moments.add(found.group(1))
            blank = " " * (found.end() - found.start())
            rest = rest[: found.start()] + blank + rest[found.end() :]
    leftover = [w for w in re.split(r"[\s,;.]+", rest) if w and w not in _FILLERS]
    if leftover:
        raise PosologyError(
            _(
                "Posologie incomprise près de « %(words)s » : reformulez, ou écrivez-le dans "
                "les instructions."
            )
            % {"words": excerpt(" ".join(leftover))}
        )
    posology = Posology(
        dose=dose,
        unit=unit,
        moments=tuple(m for m in MOMENTS if m in moments),
        frequency_count=count if count is not None else (len(moments) or 1),
        frequency_period=period or "day",
        as_needed=as_needed,
        max_per_24h=max_per_24h,
        duration_value=duration_value,
        duration_unit=duration_unit,
    )
    if posology.moments:
        posology = replace(posology, frequency_count=len(posology.moments), frequency_period="day")
    posology_check(posology)
    return posology


# --- checks -----------------------------------------------------------------------------------


def duration_days(posology: Posology) -> int | None:
    if posology.duration_value is None:
        return None
    factor = {"day": 1, "week": 7, "month": 30}[posology.duration_unit]
    return posology.duration_value * factor


def posology_check(posology: Posology) -> None:
    """Refuse what cannot be a prescription (typing errors); the analysis judges the rest."""
    if posology.dose <= 0:
        raise PosologyError(_("La dose doit être supérieure à zéro."))
    limit = MAX_DOSE.get(posology.unit, MAX_DOSE_COUNTABLE)
    if posology.dose > limit:
        raise PosologyError(
            _("Dose de %(dose)s %(unit)s par prise : valeur impossible, vérifiez la saisie.")
            % {
                "dose": format_decimal(posology.dose),
                "unit": unit_words(posology.unit, posology.dose),
            }
        )
    if (
        not 1
        <= posology.frequency_count
        <= MAX_INTAKES_PER_DAY * (7 if posology.frequency_period == "week" else 1)
    ):
        raise PosologyError(
            _("Nombre de prises impossible : %(count)s.") % {"count": posology.frequency_count}
        )
    if posology.max_per_24h is not None and posology.max_per_24h < posology.dose:
        raise PosologyError(_("Le maximum par 24 heures est inférieur à une prise."))
    if posology.duration_value is not None:
        if posology.duration_value <= 0:
            raise PosologyError(_("La durée doit être d'au moins un jour."))
        days = duration_days(posology)
        if days is not None and days > MAX_DURATION_DAYS:
            raise PosologyError(_("Durée supérieure à un an : vérifiez la saisie."))
