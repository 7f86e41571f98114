import pytest
from django.core.exceptions import ValidationError

from practitioners.identifiers import clean_am_number, clean_finess, clean_rpps, validate_rpps


@pytest.mark.parametrize(
    "number", ["10100001238", "10100004562", "10100007896", "10100009991", "101 000 012 38"]
)
def test_real_rpps_numbers_pass(number):
    assert clean_rpps(number) == number.replace(" ", "")


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1010000123", "11 chiffres (10 saisis)"),
        ("101000012389", "11 chiffres (12 saisis)"),
        ("1010000123A", "que des chiffres"),
        ("10100001239", "clé de contrôle ne correspond pas"),
        ("99700092640", "clé de contrôle ne correspond pas"),
        ("00000000000", "uniquement de zéros"),
    ],
)
def test_wrong_rpps_numbers_get_a_french_message(number, message):
    with pytest.raises(ValidationError) as error:
        clean_rpps(number)
    assert message in error.value.messages[0]


def test_ordoclic_test_rpps_is_accepted_only_when_listed(settings):
    settings.ORDOCLIC_ALLOWED_TEST_RPPS = ["99700092640"]
    assert clean_rpps("99700092640") == "99700092640"


def test_model_validator_wants_the_compact_form():
    with pytest.raises(ValidationError):
        validate_rpps("101 000 012 38")


@pytest.mark.parametrize("number", ["750100208", "690001235", "2A0000040", "2B 000 0012"])
def test_finess_numbers_pass(number):
    assert clean_finess(number) == number.replace(" ", "").upper()


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("750100207", "clé de contrôle"),
        ("75010020", "9 caractères (8 saisis)"),
        ("2C0000040", "que des chiffres"),
        ("2AB000040", "après le département"),
    ],
)
def test_wrong_finess_numbers_get_a_french_message(number, message):
    with pytest.raises(ValidationError) as error:
        clean_finess(number)
    assert message in error.value.messages[0]


@pytest.mark.parametrize("number", ["12345678", "1234567890", "12345678A"])
def test_wrong_am_numbers_get_a_french_message(number):
    with pytest.raises(ValidationError) as error:
        clean_am_number(number)
    assert "9 chiffres" in error.value.messages[0]


def test_am_number_passes():
    assert clean_am_number("751 234 567") == "751234567"
