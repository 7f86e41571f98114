"""The committed BDPM test extract is consistent, and the script that makes it works."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from ordoclic_client.bdpm import FILES, read_rows

REPO = Path(__file__).resolve().parents[3]
EXTRACT = REPO / "tests" / "data" / "bdpm"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bdpm_extract", REPO / "scripts" / "bdpm_extract.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cis_sets(folder: Path) -> dict[str, set[str]]:
    out = {}
    for kind, name in FILES.items():
        column = 2 if kind == "generics" else 0
        out[kind] = {row[column].strip() for row in read_rows(folder / name)}
    return out


def test_the_extract_is_consistent_and_holds_the_curated_catalogue() -> None:
    sets = _cis_sets(EXTRACT)
    products = sets.pop("products")
    for kind, cis in sets.items():
        assert cis <= products, f"{kind} rows name products missing from CIS_bdpm.txt"
    curated = json.loads(
        (REPO / "ordoclic_client/sandbox/data/catalogue.json").read_text(encoding="utf-8")
    )
    assert {r["cis"] for r in curated} <= products
    assert 300 < len(products) < 1000


def test_the_extract_keeps_the_published_windows_1252_bytes() -> None:
    raw = (EXTRACT / "CIS_bdpm.txt").read_bytes()
    assert "DOLIPRANE 1000 mg, comprimé".encode("cp1252") in raw
    assert b"\r\n" in raw


def test_the_script_regenerates_a_consistent_extract(tmp_path: Path) -> None:
    counts = _script().extract(EXTRACT, tmp_path)
    sets = _cis_sets(tmp_path)
    products = sets.pop("products")
    assert counts["CIS_bdpm.txt"] == len(products)
    assert all(cis <= products for cis in sets.values())
    assert "60234100" in products  # the curated DOLIPRANE 1000 mg


def test_the_script_refuses_a_folder_without_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _script().main([str(tmp_path), str(tmp_path / "out")]) == 1
    assert "CIS_bdpm.txt" in capsys.readouterr().err
