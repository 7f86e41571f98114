"""Regenerate the small BDPM extract committed for tests (tests/data/bdpm/) from the full files.

    .venv/bin/python scripts/bdpm_extract.py ../shared/data/bdpm tests/data/bdpm

The tests must pass on a clone that has nothing beside it, so they read this extract, not the
full files (which stay the input of the importer command and of the benchmarks). The extract
keeps every product of the curated catalogue, the products the tests name, every generic of a
few substances the tests search for, and a regular sample of the rest, so that it holds a few
hundred products. The five files stay consistent (every row of the other four files whose CIS is
kept) and keep the published format: tab-separated, no header, Windows-1252, CRLF, bytes as
published (rows are copied, not re-encoded).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO / "ordoclic_client" / "sandbox" / "data" / "catalogue.json"
FILES = ("CIS_bdpm.txt", "CIS_CIP_bdpm.txt", "CIS_COMPO_bdpm.txt", "CIS_GENER_bdpm.txt")
CONDITIONS = "CIS_CPD_bdpm.txt"

# Products the tests name besides the curated catalogue (CIS).
EXTRA_CIS = {
    "60386663",  # a product with three routes (cutanée; orale; sublinguale)
    "62913185",  # clarithromycine generic used by the import test
    "61096983",  # ERYFLUID lotion (érythromycine, cutanée)
    "63855240",  # VOLTARENE EMULGEL 1 % gel (diclofénac, cutanée)
    "60080232",  # VENOFER (fer, intraveineuse, réservé à l'usage hospitalier)
    "66113600",  # JOSACINE 250 mg/5 ml suspension
    "66477582",  # DOLIPRANE 2,4 % suspension buvable
    "61902232",  # ADVILMED enfants 20 mg/1 ml suspension
    "67140810",  # CLAMOXYL 250 mg/5 ml suspension
    "66853013",  # AUGMENTIN 100 mg/12,50 mg par ml enfants
}
# Every product whose composition names one of these (folded, upper-case BDPM words).
SUBSTANCE_WORDS = ("CLARITHROMYCINE", "SIMVASTATINE")
SAMPLE_EVERY = 97  # plus one product in 97 of the rest, in CIS order


def _cis(line: bytes) -> bytes:
    return line.split(b"\t", 1)[0].strip()


def _lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines(keepends=True) if line.strip()]


def select(source: Path) -> set[bytes]:
    curated = {r["cis"] for r in json.loads(CATALOGUE.read_text(encoding="utf-8"))}
    wanted = {c.encode() for c in curated | EXTRA_CIS}
    for line in _lines(source / "CIS_COMPO_bdpm.txt"):
        if any(word.encode("cp1252") in line for word in SUBSTANCE_WORDS):
            wanted.add(_cis(line))
    products = sorted(_cis(line) for line in _lines(source / "CIS_bdpm.txt"))
    wanted.update(products[::SAMPLE_EVERY])
    return wanted & set(products)


def extract(source: Path, target: Path) -> dict[str, int]:
    wanted = select(source)
    target.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in (*FILES, CONDITIONS):
        kept = [line for line in _lines(source / name) if _cis_of(name, line) in wanted]
        (target / name).write_bytes(b"".join(kept))
        counts[name] = len(kept)
    return counts


def _cis_of(name: str, line: bytes) -> bytes:
    if name == "CIS_GENER_bdpm.txt":  # group id, label, CIS, ...
        cells = line.split(b"\t")
        return cells[2].strip() if len(cells) > 2 else b""
    return _cis(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder of the five full BDPM files")
    parser.add_argument("target", type=Path, help="folder to write the extract to")
    args = parser.parse_args(argv)
    missing = [n for n in (*FILES, CONDITIONS) if not (args.source / n).is_file()]
    if missing:
        print(f"BDPM files not found in {args.source}: {', '.join(missing)}", file=sys.stderr)
        return 1
    for name, count in extract(args.source, args.target).items():
        print(f"{name}: {count} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
