"""Reader of the BDPM files (ANSM's public drug database) into the sandbox's drug records.

The files are published tab-separated, without a header, in Windows-1252 with CRLF line ends;
prices use a French decimal comma and routes are ``;``-separated. Column layouts: DOMAIN.md §6.
A record is a dict in the wire shape of :class:`ordoclic_client.contract.Drug` (camelCase).
"""

from __future__ import annotations

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
            substance = {"code": _cell(r, 2), "name": _cell(r, 3), "dosage": _cell(r, 4)}
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
