"""How a product is named when it is prescribed by its common name (DCI), and what a line keeps
of its product's prescription conditions."""

from __future__ import annotations

import re
from typing import Any

from ordoclic_client import contract


def conditions_wire(conditions: contract.PrescriptionConditions) -> dict[str, Any]:
    """What a line keeps of its product's conditions (the contract's JSON)."""
    return conditions.model_dump(mode="json", by_alias=True)


# Salts, esters and hydrates of a BDPM substance name, dropped from its DCI ("sulfate de
# morphine" -> "morphine", "amoxicilline trihydratée" -> "amoxicilline").
_SALT_PREFIXES = (
    "chlorhydrate de ",
    "dichlorhydrate de ",
    "bromhydrate de ",
    "sulfate de ",
    "maléate de ",
    "fumarate de ",
    "tartrate de ",
    "hémitartrate de ",
    "citrate de ",
    "bésilate de ",
    "mésilate de ",
    "succinate de ",
    "acétate de ",
    "phosphate de ",
    "chlorure de ",
    "bromure de ",
    "métilsulfate de ",
    "lactate de ",
    "chlorhydrate d'",
    "bromure d'",
    "sulfate d'",
    "chlorure d'",
    "maléate d'",
)
_SALT_SUFFIXES = (
    " base",
    " anhydre",
    " trihydraté",
    " trihydratée",
    " dihydraté",
    " dihydratée",
    " monohydraté",
    " monohydratée",
    " sesquihydraté",
    " hémihydraté",
    " sodique",
    " potassique",
    " calcique",
    " magnésique",
    " disodique",
)


def dci_substance(name: str) -> str:
    """A BDPM substance name as a DCI, lower case ("ACÉTYLSALICYLIQUE (ACIDE)" -> "acide
    acétylsalicylique", "CHLORHYDRATE DE TRAMADOL" -> "tramadol")."""
    text = " ".join(name.lower().split())
    if text.endswith(")") and "(" in text:  # "sodium (valproate de)" -> "valproate de sodium"
        head, _sep, inner = text[:-1].partition("(")
        text = f"{inner.strip()} {head.strip()}".strip()
    changed = True
    while changed:
        changed = False
        for prefix in _SALT_PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text, changed = text[len(prefix) :], True
        for suffix in _SALT_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed = text[: -len(suffix)], True
    return text.strip()


_LABEL_STRENGTH = re.compile(
    r"(?<![\w,])(?<!\d )(\d+(?:[,.]\d+)?\s?(?:mg|g|µg|microgrammes|UI|mmol|mEq)"
    r"(?:\s?/\s?(?:\d+(?:[,.]\d+)?\s?)?(?:ml|mL|g|dose|h))?)(?![\w])"
)


def label_strength(label: str) -> str:
    """The strength a product's name states ("METFORMINE ALMUS 1000 mg, comprimé" -> "1000 mg"),
    "" when it states none. Preferred for a single substance: the BDPM composition may give
    the base or the fraction instead (metformine 780 mg for 1000 mg of the hydrochloride)."""
    name = label.split(", ")[0]
    match = _LABEL_STRENGTH.search(name)
    if not match:
        return ""
    return re.sub(r"\s*/\s*", "/", " ".join(match.group(1).replace("mL", "ml").split()))


def dci_dosage(dosage: str) -> str:
    """ "500,00 mg" -> "500 mg", "0,150 mg" -> "0,15 mg"; other strengths as given."""
    number, sep, rest = dosage.strip().partition(" ")
    if "," in number and number.replace(",", "").isdigit():
        number = number.rstrip("0").rstrip(",")
    return f"{number}{sep}{rest}".strip()


_FORM_WORDS_DROPPED = (
    "pelliculé",
    "pelliculée",
    "sécable",
    "quadrisécable",
    "enrobé",
    "enrobée",
    "(e)",
)


def dci_form(form: str) -> str:
    """The pharmaceutical form a DCI line names: the product's, without what does not change
    the choice of a product ("comprimé pelliculé sécable" -> "comprimé"); release and route
    words stay ("comprimé gastro-résistant", "gélule à libération prolongée")."""
    text = form.lower().replace("(e)", "")
    words = [w for w in text.split() if w not in _FORM_WORDS_DROPPED]
    return " ".join(words).strip()


def dci_label(*, substances: str, dosage: str, form: str) -> str:
    """What a DCI line prints: "amoxicilline 1 g, comprimé"; a combination pairs each
    substance with its strength ("amoxicilline 1 g + acide clavulanique 125 mg, ...")."""
    names = [n.strip() for n in substances.split(" + ")]
    strengths = [d.strip() for d in dosage.split(" + ")]
    if len(names) == len(strengths):
        text = " + ".join(f"{n} {d}".strip() for n, d in zip(names, strengths, strict=True))
    else:
        text = f"{substances} {dosage}".strip()
    return f"{text}, {form}" if form else text
