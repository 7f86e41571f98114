"""The pure rules of the prescription screen: alert order, which levels need a decision and a
justification (from the settings), and when a line may be marked non substituable."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import override_settings

from prescriptions.drafting.rules import (
    alerts_ordered,
    level_needs_decision,
    level_needs_justification,
    non_substitution_error,
)


@dataclass
class _Alert:
    level: str
    pk: int


def test_alerts_come_highest_level_first_and_stay_in_order_within_a_level() -> None:
    alerts = [
        _Alert("APEC", 1),
        _Alert("CI", 5),
        _Alert("PE", 2),
        _Alert("CI", 3),
        _Alert("INFO", 0),
    ]
    ordered = [(a.level, a.pk) for a in alerts_ordered(alerts)]
    assert ordered == [("CI", 3), ("CI", 5), ("PE", 2), ("APEC", 1), ("INFO", 0)]


@override_settings(
    PRESCRIPTION_DECISION_LEVELS=["CI", "ASDEC"], PRESCRIPTION_JUSTIFICATION_LEVELS=[]
)
def test_the_settings_decide_which_levels_ask_for_a_decision() -> None:
    assert level_needs_decision("CI")
    assert level_needs_decision("ASDEC")
    assert not level_needs_decision("PE")
    assert not level_needs_justification("PE")


@override_settings(PRESCRIPTION_JUSTIFICATION_LEVELS=["PE"])
def test_a_justification_is_always_required_for_ci_and_asdec_and_for_what_the_settings_add() -> (
    None
):
    assert level_needs_justification("CI")
    assert level_needs_justification("ASDEC")
    assert level_needs_justification("PE")
    assert not level_needs_justification("APEC")


def test_non_substitution_reasons_apply_only_where_the_rules_allow_them() -> None:
    assert (
        non_substitution_error(reason="MTE", substance="lévothyroxine sodique", patient_age=50)
        is None
    )
    assert "MTE" in (
        non_substitution_error(reason="MTE", substance="paracétamol", patient_age=50) or ""
    )
    assert non_substitution_error(reason="EFG", substance="amoxicilline", patient_age=3) is None
    assert "6 ans" in (
        non_substitution_error(reason="EFG", substance="amoxicilline", patient_age=6) or ""
    )
    assert non_substitution_error(reason="CIF", substance="amoxicilline", patient_age=40) is None
    assert non_substitution_error(reason="", substance="amoxicilline", patient_age=40)
