"""Numbers in full French letters, as a secure prescription prints them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prescriptions.drafting.letters import (
    integer_words,
    number_in_letters,
    number_words,
    quantity_in_letters,
)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zéro"),
        (1, "un"),
        (7, "sept"),
        (14, "quatorze"),
        (17, "dix-sept"),
        (21, "vingt et un"),
        (28, "vingt-huit"),
        (56, "cinquante-six"),
        (70, "soixante-dix"),
        (71, "soixante et onze"),
        (77, "soixante-dix-sept"),
        (80, "quatre-vingts"),
        (81, "quatre-vingt-un"),
        (90, "quatre-vingt-dix"),
        (99, "quatre-vingt-dix-neuf"),
        (100, "cent"),
        (101, "cent un"),
        (120, "cent vingt"),
        (200, "deux cents"),
        (280, "deux cent quatre-vingts"),
        (1000, "mille"),
        (1400, "mille quatre cents"),
        (2001, "deux mille un"),
        (80_000, "quatre-vingt mille"),
        (200_000, "deux cent mille"),
        (1_000_000, "un million"),
        (2_000_000, "deux millions"),
    ],
)
def test_integers_in_traditional_spelling(n: int, words: str) -> None:
    assert integer_words(n) == words


def test_a_feminine_noun_takes_une() -> None:
    assert integer_words(21, feminine=True) == "vingt et une"
    assert integer_words(1, feminine=True) == "une"
    assert integer_words(81, feminine=True) == "quatre-vingt-une"
    assert integer_words(28, feminine=True) == "vingt-huit"


def test_decimals_read_with_virgule() -> None:
    assert number_words(Decimal("2.5")) == "deux virgule cinq"
    assert number_words(Decimal("0.25")) == "zéro virgule vingt-cinq"
    assert number_words(Decimal("1.05")) == "un virgule zéro cinq"
    assert number_words(Decimal("28.000")) == "vingt-huit"


def test_quantities_are_written_letters_then_figures() -> None:
    assert quantity_in_letters(28, "comprimé") == "vingt-huit (28) comprimés"
    assert quantity_in_letters(21, "gélule") == "vingt et une (21) gélules"
    assert quantity_in_letters(1, "gélule") == "une (1) gélule"
    assert quantity_in_letters(Decimal("140"), "ml") == "cent quarante (140) millilitres"
    assert number_in_letters(Decimal("0.5")) == "zéro virgule cinq (0,5)"


def test_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        integer_words(1_000_000_000)
    with pytest.raises(ValueError, match="negative"):
        number_words(-1)
