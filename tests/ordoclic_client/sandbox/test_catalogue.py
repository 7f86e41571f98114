"""The curated catalogue's integrity and the drug search (text and codes)."""

from __future__ import annotations

import re

import httpx
import pytest
from stdnum import ean

from ordoclic_client.sandbox.catalogue import curated_records
from ordoclic_client.sandbox.thesaurus import CLASSES, INTERACTIONS, canonical_substance

SEARCH = "/drugbase/v1/drugs"


def test_about_a_hundred_curated_drugs_with_valid_codes() -> None:
    records = curated_records()
    assert 100 <= len(records) <= 130
    for record in records:
        assert re.fullmatch(r"6[0-9]{7}", record["cis"]), record["label"]
        # 7 characters, or the 5 of the subgroup where WHO gives no substance code (VENOFER)
        atc = record["atc"]
        assert re.fullmatch(r"[A-Z][0-9]{2}[A-Z]{2}(?:[0-9]{2})?", atc), record["label"]
        assert record["substances"], record["label"]
        assert record["presentations"], record["label"]
        for presentation in record["presentations"]:
            assert presentation["cip13"].startswith("34009"), record["label"]
            assert ean.is_valid(presentation["cip13"]), presentation["cip13"]


def test_every_side_of_every_interaction_has_a_curated_drug() -> None:
    known = {
        canonical_substance(s.get("saltName") or "") or canonical_substance(s["name"])
        for record in curated_records()
        for s in record["substances"]
    }
    for rule in INTERACTIONS:
        for term in (rule.left, rule.right):
            kind, _, value = term.partition(":")
            members = {value} if kind == "s" else set(CLASSES[value].members)
            assert members & known, f"{rule.key}: no curated drug for {term}"


def search(api: httpx.Client, headers: dict[str, str], **params: object) -> dict:
    response = api.get(SEARCH, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("text", ["doliprane", "DOLIPRANE", "dolip", "Paracétamol", "paracetam"])
def test_search_by_brand_or_dci_prefix_ignores_case_and_accents(
    api: httpx.Client, as_claire: dict[str, str], text: str
) -> None:
    labels = [d["label"] for d in search(api, as_claire, q=text)["items"]]
    assert "DOLIPRANE 1000 mg, comprimé" in labels


def test_several_words_narrow_the_search(api: httpx.Client, as_claire: dict[str, str]) -> None:
    labels = [d["label"] for d in search(api, as_claire, q="doliprane 500")["items"]]
    assert labels == ["DOLIPRANE 500 mg, gélule"]


def test_search_results_carry_the_drug_facts(api: httpx.Client, as_claire: dict[str, str]) -> None:
    [drug] = search(api, as_claire, q="zeclar")["items"]
    assert drug["cis"] == "67997205"
    assert drug["atc"] == "J01FA09"
    assert drug["substances"][0]["name"] == "CLARITHROMYCINE"
    assert drug["routes"] == ["orale"]
    assert drug["presentations"][0]["cip13"].startswith("34009")


def test_search_is_paginated_in_the_list_envelope(
    api: httpx.Client, as_claire: dict[str, str]
) -> None:
    first = search(api, as_claire, q="a", per_page=5)
    second = search(api, as_claire, q="a", per_page=5, page=2)
    assert first["total_count"] > 10
    assert first["page_count"] == -(-first["total_count"] // 5)
    assert len(first["items"]) == 5
    assert not {d["cis"] for d in first["items"]} & {d["cis"] for d in second["items"]}


def test_nothing_found_is_an_empty_page(api: httpx.Client, as_claire: dict[str, str]) -> None:
    assert search(api, as_claire, q="zzzzqx")["items"] == []


@pytest.mark.parametrize("code", ["60234100", "3400935955838", "3595583"])
def test_search_by_cis_cip13_or_cip7(
    api: httpx.Client, as_claire: dict[str, str], code: str
) -> None:
    assert [d["cis"] for d in search(api, as_claire, code=code)["items"]] == ["60234100"]


def test_drug_details_by_cis(api: httpx.Client, as_claire: dict[str, str]) -> None:
    assert api.get(f"{SEARCH}/60234100", headers=as_claire).json()["atc"] == "N02BE01"
    assert api.get(f"{SEARCH}/69999999", headers=as_claire).status_code == 404


def test_a_search_without_text_nor_code_says_so(
    api: httpx.Client, as_claire: dict[str, str]
) -> None:
    response = api.get(SEARCH, headers=as_claire)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "q"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("DL-LYSINE (ACÉTYLSALICYLATE DE)", "acide acetylsalicylique"),
        ("SODIUM (VALPROATE DE)", "valproate"),
        ("CHLORHYDRATE DE TRAMADOL", "tramadol"),
        ("ÉTHINYLESTRADIOL", "ethinylestradiol"),
        ("CHLORURE DE MÉTHYLTHIONINIUM", "bleu de methylene"),
        ("CLAVULANATE DE POTASSIUM", "acide clavulanique"),
        ("EXCIPIENT INCONNU", ""),
    ],
)
def test_bdpm_substance_names_map_to_the_thesaurus(name: str, key: str) -> None:
    assert canonical_substance(name) == key
