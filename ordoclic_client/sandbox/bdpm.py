"""Reader of the BDPM files (ANSM's public drug database) into the sandbox's drug records.

The files are published tab-separated, without a header, in Windows-1252 with CRLF line ends;
prices use a French decimal comma and routes are ``;``-separated. Column layouts: DOMAIN.md §6.
A record is a dict in the wire shape of :class:`ordoclic_client.contract.Drug` (camelCase).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    """ "1,07" -> "1.07"; "1 234,56" -> "1234.56"; "" -> None."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
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
