"""Reader of the BDPM files (ANSM's public drug database, Licence Ouverte).

The files are published tab-separated, without a header, in Windows-1252 with CRLF line ends;
prices use a French decimal comma and routes are ``;``-separated. Column layouts: DOMAIN.md §6.
A record is a dict in the wire shape of :class:`ordoclic_client.contract.Drug` (camelCase);
:func:`drugs_from_bdpm` gives them as that model, the prescription conditions typed from the
texts of ``CIS_CPD_bdpm.txt`` and each presentation's reimbursement rate as a number.

Two readers share it: the sandbox's catalogue (a stand-in for Ordoclic's drug database) and
origami's local drug memory (``python manage.py drugs_import_bdpm``). No Django here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ordoclic_client import contract
from ordoclic_client.text import fold

FILES = {
    "products": "CIS_bdpm.txt",
    "presentations": "CIS_CIP_bdpm.txt",
    "compositions": "CIS_COMPO_bdpm.txt",
    "generics": "CIS_GENER_bdpm.txt",
    "conditions": "CIS_CPD_bdpm.txt",
}
ENCODING = "cp1252"


class BdpmFilesMissing(FileNotFoundError):
    """The directory does not hold the five BDPM files."""


def check_directory(directory: Path) -> None:
    missing = [name for name in FILES.values() if not (directory / name).is_file()]
    if missing:
        raise BdpmFilesMissing(
            f"BDPM files not found in {directory}: {', '.join(missing)}. "
            "Download them from the ANSM public drug database "
            "(base-donnees-publique.medicaments.gouv.fr) and point the importer at their folder."
        )


def read_rows(path: Path) -> Iterator[list[str]]:
    with path.open(encoding=ENCODING, newline="") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if line.strip():
                yield line.split("\t")


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def parse_price(text: str) -> str | None:
    """ "1,07" -> "1.07"; "1 234,56" -> "1234.56"; "1,226,20" -> "1226.20" (the files write
    some thousands with a comma too: the last comma is the decimal one); "" -> None."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if "," in text:
        integer, _comma, decimals = text.rpartition(",")
        text = integer.replace(",", "").replace(".", "") + "." + decimals
    return text


# The dosage reference of a liquid or semi-solid form names a quantity ("100 ml", "5 ml de
# suspension reconstituée", "une cuillère-mesure de 5 ml de ...", "100 g de gel"); a solid form
# names the unit ("un comprimé", "sachet-dose de 2046 mg"), which the dosage is already per.
_REFERENCE_QUANTITY = re.compile(
    r"^(?:une?\s+[^\s]+\s+de\s+)?([0-9]+(?:[.,][0-9]+)?)\s*(ml|l|g)\b", re.IGNORECASE
)


# Granules and powders in sachets give the sachet's mass ("8 g de granulés"): the dosage is per
# sachet, not per gram.
_PER_UNIT_ELEMENTS = ("granul", "poudre", "comprim", "gélule", "lyophilisat")


def dosage_with_reference(dosage: str, reference: str, element: str = "") -> str:
    """ "2,40 g" per "100 ml" -> "2,40 g/100 ml"; "500 mg" per "un comprimé" -> "500 mg"."""
    match = _REFERENCE_QUANTITY.match(reference.strip())
    if not dosage or not match:
        return dosage
    if match.group(2).lower() == "g" and element.lower().startswith(_PER_UNIT_ELEMENTS):
        return dosage
    quantity = match.group(1).replace(".", ",")
    if "," in quantity:
        quantity = quantity.rstrip("0").rstrip(",")
    return f"{dosage}/{quantity} {match.group(2).lower()}"


def parse_rate(text: str) -> str:
    text = text.strip().replace(" ", "")
    return text.replace("%", " %") if text else ""


def read_bdpm(directory: Path) -> list[dict[str, Any]]:
    """Every product of the extract, as drug records (curated facts such as ATC are not in BDPM)."""
    check_directory(directory)
    presentations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in read_rows(directory / FILES["presentations"]):
        cip13 = _cell(row, 6)
        if not cip13:
            continue
        presentations[_cell(row, 0)].append(
            {
                "cip13": cip13,
                "cip7": _cell(row, 1),
                "label": _cell(row, 2),
                "reimbursementRate": parse_rate(_cell(row, 8)),
                "priceEur": parse_price(_cell(row, 9)),
                "marketed": _cell(row, 4).startswith("Déclaration de commercialisation"),
            }
        )

    # One active ingredient per (CIS, link number): the therapeutic fraction (FT) when the
    # substance is given as a salt (SA "CHLORHYDRATE DE SERTRALINE" / FT "SERTRALINE").
    by_link: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    for row in read_rows(directory / FILES["compositions"]):
        by_link[(_cell(row, 0), _cell(row, 7) or _cell(row, 2))].append(row)
    substances: dict[str, list[dict[str, str]]] = defaultdict(list)
    for (cis, _link), rows in by_link.items():
        therapeutic = [r for r in rows if _cell(r, 6) == "FT"]
        salts = [r for r in rows if _cell(r, 6) != "FT"]
        for r in therapeutic or salts:
            substance = {
                "code": _cell(r, 2),
                "name": _cell(r, 3),
                "dosage": dosage_with_reference(_cell(r, 4), _cell(r, 5), _cell(r, 1)),
            }
            if therapeutic and salts:
                # kept for matching: "IODE" (FT) is given for "IOHEXOL" (SA)
                substance["saltName"] = _cell(salts[0], 3)
            substances[cis].append(substance)

    generic_groups: dict[str, dict[str, str]] = {}
    for row in read_rows(directory / FILES["generics"]):
        generic_groups[_cell(row, 2)] = {
            "id": _cell(row, 0),
            "label": _cell(row, 1),
            "type": "princeps" if _cell(row, 3) == "0" else "generic",
        }

    conditions: dict[str, list[str]] = defaultdict(list)
    for row in read_rows(directory / FILES["conditions"]):
        if _cell(row, 1):
            conditions[_cell(row, 0)].append(_cell(row, 1))

    records = []
    for row in read_rows(directory / FILES["products"]):
        cis = _cell(row, 0)
        form = _cell(row, 2)
        group = generic_groups.get(cis)
        subs = substances.get(cis, [])
        if group:
            common_name = group["label"].split(" - ")[0].strip()
        else:
            common_name = " + ".join(f"{s['name'].lower()} {s['dosage']}".strip() for s in subs)
            common_name = f"{common_name}, {form}" if common_name and form else common_name
        records.append(
            {
                "cis": cis,
                "label": _cell(row, 1),
                "form": form,
                "routes": [r.strip() for r in _cell(row, 3).split(";") if r.strip()],
                "atc": "",
                "substances": subs,
                "commonName": common_name,
                "presentations": presentations.get(cis, []),
                "genericGroup": group,
                "marketed": _cell(row, 6).startswith("Commercialis"),
                "holder": _cell(row, 10),
                "prescriptionConditions": conditions.get(cis, []),
            }
        )
    return records


# --- prescription conditions and reimbursement, typed from the texts ---------------------------

# Longest prescription of a narcotic, by substance and route, in days. Source: arrêté du
# 22 février 1990 modifié fixing the list of narcotics and their maximum prescription durations,
# as the ANSM and the Ordre des pharmaciens (Meddispar) summarise it: 28 days for most oral and
# transdermal forms, 14 days for methadone, 7 days for injectable morphine and oxycodone outside
# pumps. A certified database gives it per product; the sandbox keeps the common cases.
NARCOTIC_MAX_DAYS: dict[tuple[str, str], int] = {
    ("morphine", "oral"): 28,
    ("morphine", "injectable"): 7,
    ("oxycodone", "oral"): 28,
    ("oxycodone", "injectable"): 7,
    ("hydromorphone", "oral"): 28,
    ("fentanyl", "transdermal"): 28,
    ("fentanyl", "transmucosal"): 7,
    ("methadone", "oral"): 14,
    ("buprenorphine", "oral"): 28,  # assimilé (sublingual tablets)
    ("zolpidem", "oral"): 28,  # assimilé
}
_ROUTE_GROUPS = {
    "orale": "oral",
    "sublinguale": "oral",
    "intraveineuse": "injectable",
    "intramusculaire": "injectable",
    "sous cutanee": "injectable",
    "transdermique": "transdermal",
    "buccale": "transmucosal",
    "nasale": "transmucosal",
}
_LIMIT = re.compile(r"prescription limitee a (\d+) (jours?|semaines?|mois)")
_FRACTION = re.compile(r"delivrance fractionnee de (\d+) jours?")
_SPECIALTY = re.compile(r"sp[ée]cialistes(?: et services| en)? (.+)$", re.IGNORECASE)
_UNIT_DAYS = {"jour": 1, "jours": 1, "semaine": 7, "semaines": 7, "mois": 30}


def narcotic_max_days(substance_keys: list[str], routes: list[str]) -> int | None:
    groups = {_ROUTE_GROUPS.get(fold(r), "") for r in routes}
    caps = [
        NARCOTIC_MAX_DAYS[(k, g)]
        for k in substance_keys
        for g in groups
        if (k, g) in NARCOTIC_MAX_DAYS
    ]
    return min(caps) if caps else None


def typed_conditions(
    texts: list[str], *, substance_keys: list[str], routes: list[str]
) -> dict[str, Any]:
    """The wire form of :class:`~ordoclic_client.contract.PrescriptionConditions`."""
    folded = [fold(t) for t in texts]
    narcotic = any(t.startswith("stupefiant") for t in folded)
    drug_list = (
        "stupefiant"
        if narcotic
        else "liste_i"
        if "liste i" in folded
        else "liste_ii"
        if "liste ii" in folded
        else None
    )
    specialties, limits, fractions = [], [], []
    for original, text in zip(texts, folded, strict=True):
        if match := _LIMIT.search(text):
            limits.append(int(match.group(1)) * _UNIT_DAYS[match.group(2)])
        if match := _FRACTION.search(text):
            fractions.append(int(match.group(1)))
        if "prescription" in text and (match := _SPECIALTY.search(original)):
            specialty = match.group(1).strip()
            if specialty not in specialties:
                specialties.append(specialty)
    secure = narcotic or any("ordonnance securisee" in t for t in folded)
    cap = narcotic_max_days(substance_keys, routes) if secure else None
    durations = [d for d in (*limits, cap) if d is not None]
    return {
        "drugList": drug_list,
        "securePrescription": secure,
        "hospitalOnly": any(t.startswith("reserve a l usage hospitalier") for t in folded),
        "hospitalPrescription": any(t.startswith("prescription hospitaliere") for t in folded),
        "initialHospitalPrescription": any(
            t.startswith("prescription initiale hospitaliere") for t in folded
        ),
        "specialistOnly": any(
            t.startswith("prescription") and "reservee" in t and "specialistes" in t for t in folded
        ),
        "specialties": specialties,
        "specialMonitoring": any(
            "surveillance particuliere pendant le traitement" in t for t in folded
        ),
        "maxDurationDays": min(durations) if durations else None,
        "dispensingFractionDays": min(fractions) if fractions else None,
        "overlapForbidden": any(t.startswith("chevauchement interdit") for t in folded),
    }


def rate_percent(rate: str) -> int | None:
    """ "65 %" -> 65; "" -> None (not reimbursable)."""
    match = re.match(r"\s*(\d+)", rate or "")
    return int(match.group(1)) if match else None


def drugs_from_bdpm(directory: Path) -> list[contract.Drug]:
    """Every product of the files as the contract's :class:`~ordoclic_client.contract.Drug`,
    conditions typed and reimbursement rates as numbers (the BDPM files carry no ATC code).

    The narcotic duration caps are looked up by the words of the substance names ("SULFATE DE
    MORPHINE" has "morphine"); a certified database gives them per product."""
    drugs = []
    for record in read_bdpm(directory):
        names = [s["name"] for s in record["substances"]]
        names += [s.get("saltName", "") for s in record["substances"]]
        keys = sorted({word for name in names for word in fold(name).split()})
        record["conditions"] = typed_conditions(
            record["prescriptionConditions"], substance_keys=keys, routes=record["routes"]
        )
        for presentation in record["presentations"]:
            presentation["reimbursementRatePercent"] = rate_percent(
                presentation["reimbursementRate"]
            )
        drugs.append(contract.Drug.model_validate(record))
    return drugs
