import pytest
from django.core.exceptions import ValidationError

from origami.patients.identifiers import clean_nir, format_nir


@pytest.mark.parametrize(
    ("number", "normalised"),
    [
        ("2 95 10 99 126 111 93", "295109912611193"),
        ("253072B07300470", "253072B07300470"),
        ("253072a07300443", "253072A07300443"),
    ],
)
def test_real_nir_vectors_pass(number, normalised):
    assert clean_nir(number) == normalised


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("295109912611194", "La clé du NIR ne correspond pas"),
        # 2B's key with 2A: the Corsican substitution (2A→19, 2B→18) is checked.
        ("253072A07300470", "La clé du NIR ne correspond pas"),
        ("253072B07300443", "La clé du NIR ne correspond pas"),
        ("29510991261119", "15 caractères, clé comprise (14 saisis)"),
        ("2951099126111933", "15 caractères, clé comprise (16 saisis)"),
        ("253072C07300470", "2A ou 2B"),
    ],
)
def test_wrong_nir_gets_a_french_message(number, message):
    with pytest.raises(ValidationError) as error:
        clean_nir(number)
    assert message in error.value.messages[0]


def test_nir_is_displayed_in_groups():
    assert format_nir("295109912611193") == "2 95 10 99 126 111 93"


@pytest.mark.parametrize(
    ("nir13", "message"),
    [
        ("5951099126111", "Le premier chiffre du NIR indique le sexe"),
        ("2950099126111", "Le mois de naissance du NIR"),
        ("2951399126111", "Le mois de naissance du NIR"),
        ("2951000126111", "Le lieu de naissance du NIR"),
    ],
)
def test_impossible_sex_month_or_place_gets_a_french_message(nir13, message):
    number = nir13 + f"{97 - int(nir13) % 97:02d}"  # the right key: only the structure is wrong
    with pytest.raises(ValidationError) as error:
        clean_nir(number)
    assert message in error.value.messages[0]


def test_a_temporary_nia_passes():
    nia13 = "7900399350001"
    assert clean_nir(nia13 + f"{97 - int(nia13) % 97:02d}").startswith("7")
