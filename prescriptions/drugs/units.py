"""Which units a posology may count a drug in, given its pharmaceutical form and route.

"1 gel" typed on sachets would print "1 gélule" and reach the pharmacist as a prescription for a
form that does not exist; so a line's unit must fit its drug. The forms are the drug database's
labels ("comprimé pelliculé sécable", "poudre pour suspension buvable", "solution injectable",
...): the first rule whose keyword is in the form gives the units that fit, the first of them
being the default. A form no rule knows falls back on the route; when neither says anything the
unit is not checked (the analysis still judges the dose).

An amount of substance (mg, g, µg, UI) fits every form: it is how a dose per kilogram or a gel by
weight is written.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ordoclic_client.text import unaccented
from origami.patients.posology import UNITS

SUBSTANCE_UNITS = ("mg", "g", "µg", "UI")

# (keywords looked for in the folded form and presentation, units that fit: the first is the
# default).
# Order matters: the more specific first ("nébuliseur" before "inhalation", "gélule" before "gel",
# "en gouttes" before "buvable", "suspension buvable" before "poudre").
FORM_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("nebuliseur",), ("ampoule", "ml", "dose")),
    (("inhal", "aerosol"), ("bouffée", "dose")),
    (("pulverisation", "spray"), ("pulvérisation", "dose")),
    (("collyre",), ("goutte",)),
    (("en gouttes", "gouttes"), ("goutte", "ml")),
    (("transdermique", "patch"), ("patch",)),
    (("suppositoire",), ("suppositoire",)),
    (("ovule",), ("ovule",)),
    (("capsule",), ("capsule", "gélule")),
    (("gelule",), ("gélule", "capsule")),
    (("comprime", "pastille"), ("comprimé",)),
    (("sachet",), ("sachet",)),
    (("suspension buvable",), ("ml", "dose", "sachet")),
    (("granule", "poudre pour solution buvable", "poudre orale"), ("sachet", "ml", "dose")),
    (("injectable", "perfusion", "parenteral"), ("ampoule", "injection", "ml", "dose")),
    (("buvable", "sirop"), ("ml", "dose", "ampoule")),
    (
        ("gel", "creme", "pommade", "lotion", "emulsion", "shampooing", "mousse", "cutane"),
        ("application", "dose"),
    ),
)
# When the form says nothing we know: the route (the drug database's first route).
ROUTE_RULES: dict[str, tuple[str, ...]] = {
    "cutanee": ("application", "dose"),
    "transdermique": ("patch",),
    "ophtalmique": ("goutte",),
    "auriculaire": ("goutte",),
    "nasale": ("pulvérisation", "goutte"),
    "inhalee": ("bouffée", "dose", "ampoule"),
    "rectale": ("suppositoire", "dose"),
    "vaginale": ("ovule", "application"),
    "voie buccale autre": ("application", "dose"),
}


def _fold(text: str) -> str:
    return " ".join(unaccented(text).split())


def _presentation(label: str) -> str:
    """What the drug's printed name says of its form, after the first ", " (the database's
    naming: "FORLAX 10 g, poudre pour solution buvable en sachet"): the container ("en
    sachet-dose", "en flacon") that the form alone does not give."""
    _name, comma, rest = label.partition(", ")
    return rest if comma else ""


def units_for(*, form: str, route: str = "", label: str = "") -> tuple[str, ...]:
    """The countable units that fit this form and route, the default first; () when unknown."""
    folded = _fold(f"{form} {_presentation(label)}")
    if folded:
        for keywords, units in FORM_RULES:
            if any(keyword in folded for keyword in keywords):
                return units
    return ROUTE_RULES.get(_fold(route), ())


def unit_for_form(form: str, route: str = "", label: str = "") -> str:
    """The unit a posology of this pharmaceutical form is counted in by default."""
    units = units_for(form=form, route=route, label=label)
    return units[0] if units else ""


def unit_mismatch(*, unit: str, form: str, route: str = "", label: str = "") -> str | None:
    """Why this unit does not fit the drug (a French message for the line), or None when it
    fits or when the form is not one we know."""
    fitting = units_for(form=form, route=route, label=label)
    if not fitting or unit in fitting or unit in SUBSTANCE_UNITS:
        return None
    # The printed presentation says more than the form ("… en sachet"): name the drug by it.
    named = " ".join((_presentation(label) or form).split())
    if len(named) > 60:
        named = named[:59] + "…"
    return _(
        "L'unité « %(unit)s » ne convient pas à ce médicament (%(form)s) : indiquez la dose en "
        "%(units)s, ou en %(substance)s."
    ) % {
        "unit": unit,
        "form": named,
        "units": _(" ou ").join(UNITS[u][0] if u in UNITS else u for u in fitting),
        "substance": ", ".join(SUBSTANCE_UNITS),
    }
