"""The local drug memory: what Ordoclic returned is kept (cheaply), the public BDPM files load
into it idempotently, and it answers a word-prefix search, accents and case ignored."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ordoclic_client import contract
from ordoclic_client.bdpm import drugs_from_bdpm
from ordoclic_client.sandbox.catalogue import curated_records
from prescriptions.drugs.memory import (
    drug_from_row,
    drug_remembered,
    drugs_import,
    drugs_recalled,
    drugs_remember,
)
from prescriptions.models import DrugSource, KnownDrug

pytestmark = pytest.mark.django_db

BDPM_DIR = Path(__file__).resolve().parents[2] / "data" / "bdpm"
DOLIPRANE = "60234100"
CLAMOXYL = "64539416"  # CLAMOXYL 1 g, comprimé dispersible (amoxicilline)


def curated(cis: str) -> contract.Drug:
    [record] = [r for r in curated_records() if r["cis"] == cis]
    return contract.Drug.model_validate(record)


def labels(text: str, limit: int = 50) -> list[str]:
    return [d.label for d in drugs_recalled(text=text, limit=limit)]


def test_a_product_ordoclic_returned_is_kept_whole_and_read_back_the_same() -> None:
    doliprane = curated(DOLIPRANE)
    assert drugs_remember(drugs=[doliprane]) == 1
    row = KnownDrug.objects.get(cis=DOLIPRANE)
    assert row.source == DrugSource.ORDOCLIC
    assert row.last_seen_at is not None
    assert row.substance == "paracétamol"
    assert row.default_unit == "comprimé"
    assert row.atc == doliprane.atc != ""
    assert set(row.cip13s) == {p.cip13 for p in doliprane.presentations}
    assert drug_from_row(row) == doliprane  # conditions, reimbursement, generic group included
    assert drug_remembered(code=doliprane.presentations[0].cip13) == row


def test_an_unchanged_answer_costs_one_read_and_no_write() -> None:
    drugs = [curated(DOLIPRANE), curated(CLAMOXYL)]
    drugs_remember(drugs=drugs)
    with CaptureQueriesContext(connection) as queries:
        assert drugs_remember(drugs=drugs) == 0
    assert len(queries) == 1
    assert queries[0]["sql"].startswith("SELECT")


def test_a_changed_product_is_updated_and_an_atc_once_known_is_kept() -> None:
    doliprane = curated(DOLIPRANE)
    drugs_remember(drugs=[doliprane])
    renamed = doliprane.model_copy(
        update={"label": "DOLIPRANE 1000 mg, comprimé sécable", "atc": ""}
    )
    assert drugs_remember(drugs=[renamed]) == 1
    row = KnownDrug.objects.get(cis=DOLIPRANE)
    assert row.label == "DOLIPRANE 1000 mg, comprimé sécable"
    assert row.atc == doliprane.atc


def test_the_bdpm_import_is_idempotent_and_leaves_what_ordoclic_said() -> None:
    drugs = drugs_from_bdpm(BDPM_DIR)
    drugs_remember(drugs=[curated(DOLIPRANE)])  # Ordoclic described this one already
    first = drugs_import(drugs=drugs)
    assert first.added == len(drugs) - 1
    assert first.kept_from_ordoclic == 1
    assert KnownDrug.objects.count() == len(drugs)
    assert KnownDrug.objects.get(cis=DOLIPRANE).source == DrugSource.ORDOCLIC
    with CaptureQueriesContext(connection) as queries:
        again = drugs_import(drugs=drugs)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(drugs) - 1)
    assert all(q["sql"].startswith("SELECT") for q in queries)


def test_the_import_keeps_conditions_and_reimbursement() -> None:
    drugs_import(drugs=drugs_from_bdpm(BDPM_DIR))
    clamoxyl = drug_from_row(KnownDrug.objects.get(cis=CLAMOXYL))
    assert clamoxyl.conditions.drug_list == contract.DrugList.LIST_I
    assert {p.reimbursement_rate_percent for p in clamoxyl.presentations} == {65}


def test_the_command_loads_the_files_and_says_what_it_did() -> None:
    out = StringIO()
    call_command("drugs_import_bdpm", str(BDPM_DIR), "--quiet", stdout=out)
    count = KnownDrug.objects.count()
    assert count > 300
    assert f"{count} ajoutés" in out.getvalue()
    out = StringIO()
    call_command("drugs_import_bdpm", str(BDPM_DIR), "--quiet", stdout=out)
    assert f"0 ajoutés, 0 mis à jour, {count} inchangés" in out.getvalue()


def test_the_command_names_the_missing_files(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"CIS_bdpm\.txt"):
        call_command("drugs_import_bdpm", str(tmp_path), "--quiet")


@pytest.fixture
def imported() -> None:
    drugs_import(drugs=drugs_from_bdpm(BDPM_DIR))


@pytest.mark.usefixtures("imported")
def test_search_from_memory_matches_word_prefixes_of_brand_and_dci() -> None:
    assert any(label.startswith("DOLIPRANE") for label in labels("dolip"))
    # a brand found by its substance, and generics by their name
    amox = labels("amox", limit=200)
    assert any(label.startswith("CLAMOXYL") for label in amox)
    assert any(label.startswith("AMOXICILLINE") for label in amox)
    # every word is a prefix; accents and case do not matter
    assert labels("PARACÉTAMOL 1000") == labels("paracetamol 1000")
    assert all("1000" in label for label in labels("doliprane 1000"))
    assert labels("xyzzy") == []
    assert labels("  ") == []


@pytest.mark.usefixtures("imported")
def test_search_from_memory_ranks_names_then_marketed_then_known_to_ordoclic() -> None:
    # the name typed first (AMOXICILLINE ...), then the products that have it as a substance
    found = labels("amoxicilline", limit=500)
    named = [label for label in found if label.startswith("AMOXICILLINE")]
    assert found[: len(named)] == named
    assert any(label.startswith("CLAMOXYL") for label in found[len(named) :])
    # within them, what is no longer marketed comes last
    KnownDrug.objects.filter(label__startswith="CLAMOXYL").update(marketed=False)
    others = labels("amoxicilline", limit=500)[len(named) :]
    clamoxyl = [label for label in others if label.startswith("CLAMOXYL")]
    assert others[-len(clamoxyl) :] == clamoxyl
    # and a product Ordoclic returned comes before the ones only the files brought
    last = KnownDrug.objects.get(label=named[-1])
    drugs_remember(drugs=[drug_from_row(last)])
    assert labels("amoxicilline")[0] == named[-1]


@pytest.mark.usefixtures("imported")
def test_the_search_from_memory_reads_narrow_rows_then_the_page() -> None:
    with CaptureQueriesContext(connection) as queries:
        page = drugs_recalled(text="co", limit=12)
    assert len(page) == 12
    names = [drug.label for drug in page if drug.label.upper().startswith("CO")]
    assert names  # "co" names first, then products with a "co" word ("comprimé")
    assert [drug.label for drug in page[: len(names)]] == names
    # the names, the others only when the names do not fill the page, then the page's rows
    assert len(queries) == (2 if len(names) == len(page) else 3)
