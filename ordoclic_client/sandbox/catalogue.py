"""The drug catalogue: the curated built-in set, the BDPM import, search and lookups."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ordoclic_client.bdpm import rate_percent, read_bdpm, typed_conditions
from ordoclic_client.sandbox.store import Store
from ordoclic_client.sandbox.thesaurus import canonical_substance
from ordoclic_client.text import words


@cache
def curated_records() -> tuple[dict[str, Any], ...]:
    """About a hundred real drugs of emergency and primary care (BDPM facts plus ATC codes)."""
    text = (
        resources.files("ordoclic_client.sandbox")
        .joinpath("data/catalogue.json")
        .read_text(encoding="utf-8")
    )
    return tuple(json.loads(text))


def _search_text(record: dict[str, Any]) -> str:
    parts = [record["label"], record.get("commonName", "")]
    parts += [s["name"] for s in record.get("substances", [])]
    parts += [s.get("saltName", "") for s in record.get("substances", [])]
    return " ".join(p for p in parts if p)


def load(store: Store, records: Iterable[dict[str, Any]], *, curated: bool) -> int:
    """Insert or replace drug records (a re-import keeps the curated ATC codes)."""
    count = 0
    with store.write() as conn:
        atc_kept = dict(conn.execute("SELECT cis, atc FROM drugs WHERE atc != ''").fetchall())
        for record in records:
            cis = record["cis"]
            conn.execute("DELETE FROM substances WHERE cis = ?", (cis,))
            conn.execute("DELETE FROM presentations WHERE cis = ?", (cis,))
            # the CIS is the FTS rowid: deleting by rowid does not scan the index
            conn.execute("DELETE FROM drug_search WHERE rowid = ?", (int(cis),))
            conn.execute(
                "INSERT OR REPLACE INTO drugs (cis, label, form, routes, atc, common_name, "
                "generic_group, marketed, holder, conditions, curated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cis,
                    record["label"],
                    record.get("form", ""),
                    json.dumps(record.get("routes", []), ensure_ascii=False),
                    record.get("atc") or atc_kept.get(cis, ""),
                    record.get("commonName", ""),
                    json.dumps(record["genericGroup"], ensure_ascii=False)
                    if record.get("genericGroup")
                    else None,
                    int(record.get("marketed", True)),
                    record.get("holder", ""),
                    json.dumps(record.get("prescriptionConditions", []), ensure_ascii=False),
                    int(curated or cis in atc_kept),
                ),
            )
            for position, substance in enumerate(record.get("substances", [])):
                canonical = canonical_substance(substance["name"]) or canonical_substance(
                    substance.get("saltName", "")
                )
                conn.execute(
                    "INSERT INTO substances VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        cis,
                        position,
                        substance.get("code", ""),
                        substance["name"],
                        substance.get("dosage", ""),
                        canonical,
                    ),
                )
            for p in record.get("presentations", []):
                conn.execute(
                    "INSERT OR REPLACE INTO presentations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        p["cip13"],
                        cis,
                        p.get("cip7", ""),
                        p.get("ucd13", ""),
                        p.get("label", ""),
                        p.get("reimbursementRate", ""),
                        p.get("priceEur"),
                        int(p.get("marketed", True)),
                    ),
                )
            conn.execute(
                "INSERT INTO drug_search (rowid, cis, text) VALUES (?, ?, ?)",
                (int(cis), cis, _search_text(record)),
            )
            count += 1
    return count


def load_curated(store: Store) -> int:
    return load(store, curated_records(), curated=True)


def import_bdpm(store: Store, directory: Path) -> int:
    """Import the full BDPM extract; the curated drugs keep their ATC codes."""
    return load(store, read_bdpm(directory), curated=False)


def _fts_query(text: str) -> str:
    tokens = words(text)
    return " AND ".join(f'"{t}"*' for t in tokens)


def search(store: Store, *, text: str, page: int, per_page: int) -> tuple[int, list[str]]:
    """(total, CIS of the page) for a DCI or brand prefix search, accent and case blind.
    Marketed drugs first, then the curated ones, then by relevance and label."""
    query = _fts_query(text)
    if not query:
        return 0, []
    conn = store.conn()
    total = conn.execute(
        "SELECT count(*) FROM drug_search WHERE drug_search MATCH ?", (query,)
    ).fetchone()[0]
    rows = conn.execute(
        "SELECT d.cis FROM drug_search s JOIN drugs d ON d.cis = s.cis "
        "WHERE drug_search MATCH ? "
        "ORDER BY d.marketed DESC, d.curated DESC, s.rank, d.label LIMIT ? OFFSET ?",
        (query, per_page, (page - 1) * per_page),
    ).fetchall()
    return int(total), [r["cis"] for r in rows]


def find_by_code(store: Store, code: str) -> str | None:
    """The CIS behind a CIS (8 digits), CIP13 (34009...), UCD13 (34008...) or CIP7 code."""
    code = code.strip()
    conn = store.conn()
    if len(code) == 8:
        row = conn.execute("SELECT cis FROM drugs WHERE cis = ?", (code,)).fetchone()
    elif len(code) == 13 and code.startswith("34008"):
        row = conn.execute("SELECT cis FROM presentations WHERE ucd13 = ?", (code,)).fetchone()
    elif len(code) == 13:
        row = conn.execute("SELECT cis FROM presentations WHERE cip13 = ?", (code,)).fetchone()
    elif len(code) == 7:
        row = conn.execute("SELECT cis FROM presentations WHERE cip7 = ?", (code,)).fetchone()
    else:
        row = None
    return None if row is None else str(row["cis"])


def drugs_by_cis(conn: sqlite3.Connection, cis_list: list[str]) -> list[dict[str, Any]]:
    """Drugs in the wire shape of :class:`ordoclic_client.contract.Drug`, in the given order."""
    if not cis_list:
        return []
    marks = ",".join("?" * len(cis_list))
    query = f"SELECT * FROM drugs WHERE cis IN ({marks})"  # noqa: S608 - placeholders only
    drugs = {r["cis"]: r for r in conn.execute(query, cis_list)}
    substances: dict[str, list[dict[str, str]]] = {}
    keys: dict[str, list[str]] = {}
    for r in conn.execute(
        f"SELECT * FROM substances WHERE cis IN ({marks}) ORDER BY cis, position",  # noqa: S608
        cis_list,
    ):
        substances.setdefault(r["cis"], []).append(
            {"code": r["code"], "name": r["name"], "dosage": r["dosage"]}
        )
        keys.setdefault(r["cis"], []).append(r["canonical"])
    presentations: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(
        f"SELECT * FROM presentations WHERE cis IN ({marks}) AND marketed = 1 ORDER BY cip13",  # noqa: S608
        cis_list,
    ):
        presentations.setdefault(r["cis"], []).append(
            {
                "cip13": r["cip13"],
                "label": r["label"],
                "reimbursementRate": r["reimbursement_rate"],
                "reimbursementRatePercent": rate_percent(r["reimbursement_rate"]),
                "priceEur": r["price_eur"],
            }
        )
    out = []
    for cis in cis_list:
        d = drugs.get(cis)
        if d is None:
            continue
        routes = json.loads(d["routes"])
        texts = json.loads(d["conditions"])
        out.append(
            {
                "cis": cis,
                "label": d["label"],
                "form": d["form"],
                "routes": routes,
                "atc": d["atc"],
                "substances": substances.get(cis, []),
                "commonName": d["common_name"],
                "presentations": presentations.get(cis, []),
                "genericGroup": json.loads(d["generic_group"]) if d["generic_group"] else None,
                "marketed": bool(d["marketed"]),
                "holder": d["holder"],
                "prescriptionConditions": texts,
                "conditions": typed_conditions(
                    texts, substance_keys=keys.get(cis, []), routes=routes
                ),
            }
        )
    return out


def substances_of(conn: sqlite3.Connection, cis: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT name, dosage, canonical FROM substances WHERE cis = ? ORDER BY position", (cis,)
    ).fetchall()
