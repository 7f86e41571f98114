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
