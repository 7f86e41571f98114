"""The BDPM importer on the committed extract of the real files (`tests/data/bdpm`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ordoclic_client.bdpm import BdpmFilesMissing, parse_price, read_bdpm
from ordoclic_client.contract import ANALYSIS
from ordoclic_client.sandbox import Sandbox
from ordoclic_client.sandbox.catalogue import import_bdpm

from .conftest import CLAIRE, signed_assertion

BDPM_DIR = Path(__file__).resolve().parents[2] / "data" / "bdpm"


@pytest.fixture(scope="module")
def bdpm_dir() -> Path:
    if not (BDPM_DIR / "CIS_bdpm.txt").is_file():
        pytest.fail(f"The BDPM test extract is expected at {BDPM_DIR}.")
    return BDPM_DIR


@pytest.fixture(scope="module")
def imported(bdpm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path_factory.mktemp("bdpm-import"))
    import_bdpm(sandbox.app.store, bdpm_dir)
    yield sandbox
    sandbox.close()


@pytest.fixture(scope="module")
def api(imported: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url="http://sandbox", transport=imported.transport) as client:
        body = signed_assertion(imported.private_key_pem, imported.partner_id, CLAIRE)
        token = client.post("/v1/auth", json=body).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def test_every_product_and_presentation_is_imported(imported: Sandbox) -> None:
    conn = imported.app.store.conn()
    products = (BDPM_DIR / "CIS_bdpm.txt").read_bytes().count(b"\n")
    presentations = (BDPM_DIR / "CIS_CIP_bdpm.txt").read_bytes().count(b"\n")
    assert products > 300
    assert conn.execute("SELECT count(*) FROM drugs").fetchone()[0] == products
    assert conn.execute("SELECT count(*) FROM presentations").fetchone()[0] == presentations


def test_windows_1252_accents_and_french_decimals_are_read_right(bdpm_dir: Path) -> None:
    doliprane = next(r for r in read_bdpm(bdpm_dir) if r["cis"] == "60234100")
    assert doliprane["label"] == "DOLIPRANE 1000 mg, comprimé"
    assert doliprane["substances"] == [
        {"code": "02202", "name": "PARACÉTAMOL", "dosage": "1000 mg"}
    ]
    box_of_8 = next(p for p in doliprane["presentations"] if p["cip13"] == "3400935955838")
    assert (box_of_8["priceEur"], box_of_8["reimbursementRate"]) == ("1.07", "65 %")
    assert doliprane["holder"] == "OPELLA HEALTHCARE FRANCE"


def test_routes_are_split_and_salts_give_their_therapeutic_fraction(bdpm_dir: Path) -> None:
    records = {r["cis"]: r for r in read_bdpm(bdpm_dir)}
    assert records["60386663"]["routes"] == ["cutanée", "orale", "sublinguale"]
    assert records["60683198"]["substances"][0]["name"] == "SERTRALINE"
    assert records["60683198"]["substances"][0]["saltName"] == "CHLORHYDRATE DE SERTRALINE"


def test_french_prices(bdpm_dir: Path) -> None:
    assert parse_price("1 234,56") == "1234.56"
    assert (
        parse_price("1,226,20") == "1226.20"
    )  # a thousands comma, as some rows of the files have it
    assert parse_price("") is None


def test_search_covers_the_generics_after_import(api: httpx.Client) -> None:
    page = api.get("/drugbase/v1/drugs", params={"q": "clarithromycine", "per_page": 50}).json()
    labels = [d["label"] for d in page["items"]]
    assert "CLARITHROMYCINE ACCORD 500 mg, comprimé pelliculé" in labels
    assert page["total_count"] > 10


def test_curated_facts_survive_the_import(api: httpx.Client) -> None:
    assert api.get("/drugbase/v1/drugs/60234100").json()["atc"] == "N02BE01"
    zeclar = api.get("/drugbase/v1/drugs/67997205").json()
    assert zeclar["prescriptionConditions"] == ["liste I"]
    assert zeclar["genericGroup"]["type"] == "princeps"


def test_imported_generics_belong_to_their_thesaurus_classes(api: httpx.Client) -> None:
    generic_simvastatin = api.get("/drugbase/v1/drugs", params={"q": "simvastatine almus 20"})
    simvastatin_cis = generic_simvastatin.json()["items"][0]["cis"]
    body = {
        "patient": {"birthDate": "1960-01-01"},
        "lines": [
            {"lineId": "a", "drug": {"code": simvastatin_cis}, "dose": "1", "unit": "comprimé"},
            {"lineId": "b", "drug": {"code": "62913185"}, "dose": "1", "unit": "comprimé"},
        ],
    }
    alerts = api.post(ANALYSIS, json=body).json()["alerts"]
    assert [(a["type"], a["level"]) for a in alerts] == [("drug_interaction", "CI")]


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BdpmFilesMissing, match=r"CIS_bdpm\.txt"):
        read_bdpm(tmp_path)


def test_the_importer_command_line_explains_missing_files(tmp_path: Path) -> None:
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "ordoclic_client.sandbox",
            "import-bdpm",
            "--state",
            str(tmp_path / "s"),
            str(tmp_path / "nowhere"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1
    assert "BDPM files not found" in missing.stderr
