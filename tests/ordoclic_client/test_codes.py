"""Shape and key checks of NIR / NIA, RPPS, CIS, CIP13 and UCD13 (ordoclic_client.codes)."""

from __future__ import annotations

import pytest

from ordoclic_client.codes import (
    DrugCodeKind,
    InvalidCode,
    check_cip13,
    check_cis,
    check_drug_code,
    check_nir,
    check_rpps,
    check_ucd13,
    ean13_key,
    is_temporary_nia,
    nir_key,
    nir_sex,
)


def keyed(nir13: str) -> str:
    return nir13 + nir_key(nir13)


@pytest.mark.parametrize(
    "nir",
    [
        "295109912611193",  # DOMAIN.md vectors
        "253072B07300470",
        "253072A07300443",
        keyed("1850575056042"),  # born in Paris
        keyed("2012097412345"),  # month 20: month of birth not stated
        keyed("1754299350001"),  # month 42, born abroad (country 350)
        keyed("2605099135002"),  # month 50 and above
        keyed("1950196410003"),  # 96: born in Tunisia before independence
        keyed("2880597123004"),  # 971: Guadeloupe
        keyed("7900399350001"),  # temporary NIA, man
        keyed("8900399350001"),  # temporary NIA, woman
    ],
)
def test_possible_nir_pass(nir: str) -> None:
    assert check_nir(nir) == nir


@pytest.mark.parametrize(
    ("nir13", "reason"),
    [
        ("5951099126111", "nir_sex"),
        ("3951099126111", "nir_sex"),
        ("0951099126111", "nir_sex"),
        ("2950099126111", "nir_month"),
        ("2951399126111", "nir_month"),
        ("2951999126111", "nir_month"),
        ("2954399126111", "nir_month"),
        ("2954999126111", "nir_month"),
        ("2951000126111", "nir_department"),
        ("2951099000111", "nir_department"),  # abroad, country 000
    ],
)
def test_impossible_sex_month_or_place_is_refused_even_with_the_right_key(
    nir13: str, reason: str
) -> None:
    with pytest.raises(InvalidCode) as error:
        check_nir(keyed(nir13))
    assert error.value.reason == reason


@pytest.mark.parametrize(
    ("nir", "reason"),
    [
        ("295109912611194", "nir_checksum"),
        ("253072A07300470", "nir_checksum"),  # 2B's key with 2A
        ("29510991261119", "nir_length"),
        ("253072C07300470", "nir_format"),
    ],
)
def test_nir_key_length_and_format(nir: str, reason: str) -> None:
    with pytest.raises(InvalidCode) as error:
        check_nir(nir)
    assert error.value.reason == reason


def test_nir_sex_and_nia() -> None:
    assert nir_sex("295109912611193") == "F"
    assert nir_sex(keyed("7900399350001")) == "M"
    assert is_temporary_nia(keyed("8900399350001"))
    assert not is_temporary_nia("295109912611193")


def test_rpps() -> None:
    assert check_rpps("10100001238") == "10100001238"
    assert check_rpps("101 0000 1238") == "10100001238"
    for number, reason in [
        ("00000000000", "rpps_zeros"),
        ("10100001239", "rpps_checksum"),
        ("1010000123", "rpps_length"),
        ("1010000123A", "rpps_format"),
    ]:
        with pytest.raises(InvalidCode) as error:
            check_rpps(number)
        assert error.value.reason == reason
    assert check_rpps("99700092640", allowed_test_numbers=frozenset({"99700092640"}))


def test_cis_and_cip13() -> None:
    assert check_cis("60234100") == "60234100"
    assert check_cip13("3400935955838") == "3400935955838"  # DOLIPRANE 1000 mg, box of 8
    for code, check, reason in [
        ("6023410", check_cis, "cis_format"),
        ("6023410A", check_cis, "cis_format"),
        ("3400935955839", check_cip13, "cip13_checksum"),
        ("3500935955838", check_cip13, "cip13_prefix"),
        ("340093595583", check_cip13, "cip13_format"),
    ]:
        with pytest.raises(InvalidCode) as error:
            check(code)
        assert error.value.reason == reason


def test_ean13_key_and_ucd13() -> None:
    assert ean13_key("340093595583") == "8"
    ucd = "340081234567" + ean13_key("340081234567")
    assert check_ucd13(ucd) == ucd
    assert check_drug_code(ucd) == (DrugCodeKind.UCD13, ucd)
    assert check_drug_code("3400935955838") == (DrugCodeKind.CIP13, "3400935955838")
    assert check_drug_code(" 60234100 ") == (DrugCodeKind.CIS, "60234100")
    with pytest.raises(InvalidCode):
        check_drug_code("12345")
