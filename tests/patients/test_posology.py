from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from origami.patients.posology import (
    DURATION_UNITS,
    MOMENTS,
    PERIODS,
    UNITS,
    Posology,
    PosologyError,
    posology_check,
    posology_parse,
    posology_sentence,
)


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        (
            "1 cp matin midi soir pendant 5 jours",
            "1 comprimé le matin, le midi et le soir pendant 5 jours",
        ),
        ("1 cp x3/j 5j", "1 comprimé 3 fois par jour pendant 5 jours"),
        ("1 cp 3x/j pdt 5 j", "1 comprimé 3 fois par jour pendant 5 jours"),
        (
            "2 bouffées si besoin max 8/24h",
            "2 bouffées si besoin, sans dépasser 8 bouffées par 24 heures",
        ),
        (
            "1000 mg si douleur max 4000 mg/24h",
            "1000 mg si besoin, sans dépasser 4000 mg par 24 heures",
        ),
        ("1/2 cp le soir 1 mois", "0,5 comprimé le soir pendant 1 mois"),
        ("1 gel toutes les 8h 7j", "1 gélule 3 fois par 24 heures pendant 7 jours"),
        ("1 sachet par semaine", "1 sachet par semaine"),
        ("0,5 ml matin et soir 2 sem", "0,5 ml le matin et le soir pendant 2 semaines"),
    ],
)
def test_quick_entry_gives_the_printed_sentence(typed: str, sentence: str) -> None:
    assert posology_sentence(posology_parse(typed)) == sentence


def test_a_dose_without_unit_takes_the_drugs_unit() -> None:
    posology = posology_parse("2 matin et soir", default_unit="gélule")
    assert posology_sentence(posology) == "2 gélules le matin et le soir"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Indiquez une posologie"),
        ("matin et soir", "doit commencer par une dose"),
        ("0 cp matin", "supérieure à zéro"),
        ("40 cp matin", "valeur impossible"),
        ("90000 mg matin", "valeur impossible"),
        ("1 cp matin pendant 0 jours", "au moins un jour"),
        ("1 cp matin pendant 400 jours", "supérieure à un an"),
        ("1 cp x50/j", "Nombre de prises impossible"),
        ("1 zz matin", "Unité inconnue"),
        ("1 cp avec un grand verre", "incomprise près de « avec un grand verre »"),
        ("2 cp si besoin max 1/24h", "inférieur à une prise"),
    ],
)
def test_absurd_or_unclear_entries_are_refused_with_a_french_message(
    typed: str, message: str
) -> None:
    with pytest.raises(PosologyError, match=message):
        posology_parse(typed)


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(PosologyError, match="au moins un jour"):
        posology_check(Posology(dose=Decimal(1), unit="comprimé", duration_value=-3))


doses = st.sampled_from(
    [Decimal(x) for x in ("0.25", "0.5", "1", "1.5", "2", "3", "5", "10")]
) | st.integers(min_value=1, max_value=10).map(Decimal)


@st.composite
def posologies(draw: st.DrawFn) -> Posology:
    unit = draw(st.sampled_from(sorted(UNITS)))
    dose = draw(doses)
    moments = tuple(m for m in MOMENTS if draw(st.booleans()))
    as_needed = draw(st.booleans())
    if moments:
        count, period = len(moments), "day"
    else:
        count = draw(st.integers(min_value=1, max_value=6))
        period = draw(st.sampled_from(PERIODS))
    max_per_24h = None
    if as_needed and draw(st.booleans()):
        max_per_24h = dose * draw(st.integers(min_value=1, max_value=6))
    duration_value = draw(st.none() | st.integers(min_value=1, max_value=12))
    return Posology(
        dose=dose,
        unit=unit,
        moments=moments,
        frequency_count=count,
        frequency_period=period,
        as_needed=as_needed,
        max_per_24h=max_per_24h,
        duration_value=duration_value,
        duration_unit=draw(st.sampled_from(DURATION_UNITS)) if duration_value else "day",
    )


@given(posologies())
def test_the_printed_sentence_reads_back_as_the_same_posology(posology: Posology) -> None:
    """What the pharmacist reads on paper is exactly what was sent to Ordoclic."""
    assert posology_parse(posology_sentence(posology)) == posology


@given(st.text(max_size=40))
def test_any_text_either_parses_to_a_valid_posology_or_says_why(text: str) -> None:
    message = ""
    try:
        posology = posology_parse(text, default_unit="comprimé")
    except PosologyError as error:
        message = str(error)
    else:
        posology_check(posology)
        assert posology.dose > 0
        return
    assert message
