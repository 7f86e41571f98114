"""The chaos suite, on real PostgreSQL, Redis, Celery workers and the served sandbox, each in
its own process started by the suite (tests/chaos/harness.py). Every scenario ends with the
sandbox ledger checked against the prescriptions the app accepted: nothing lost, nothing
registered twice, nothing registered that the app did not accept. `python -m tests.chaos` runs
the same scenarios at scale (300+ prescriptions)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Chaos
from .scenarios import SCENARIOS

pytestmark = pytest.mark.chaos

PER_SCENARIO = 6


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    with Chaos(root=tmp_path_factory.mktemp("chaos"), workers=2) as environment:
        yield environment


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_nothing_lost_nothing_sent_twice(chaos: Chaos, name: str) -> None:
    before = chaos.verdict().accepted
    SCENARIOS[name](chaos, PER_SCENARIO)
    verdict = chaos.verdict()
    assert verdict.accepted > before  # the scenario did sign prescriptions
    assert verdict.pending == 0, f"{verdict.pending} prescriptions still queued"
    assert (verdict.lost, verdict.duplicated, verdict.unexpected) == (0, 0, 0), verdict
    assert verdict.registered == verdict.accepted
    # Exactly once by our own doing, not only by Ordoclic honouring the Idempotency-Key: no
    # creation sent again without a lookup first, and the same key on every one.
    assert (verdict.resent_without_lookup, verdict.keys_changed) == (0, 0), verdict


def test_workers_killed_in_flight_leave_prescriptions_found_by_lookup_not_sent_again(
    chaos: Chaos,
) -> None:
    """The kills did land after Ordoclic registered prescriptions whose attempt never
    committed: the next attempts found them by external id."""
    before = chaos.verdict()
    SCENARIOS["worker_killed_in_flight"](chaos, 12)
    verdict = chaos.verdict()
    assert verdict.found_by_lookup > before.found_by_lookup, verdict
    assert verdict.resent_without_lookup == 0, verdict
    assert (verdict.pending, verdict.lost, verdict.duplicated) == (0, 0, 0), verdict


def test_consolidation_held_what_a_new_analysis_found(chaos: Chaos) -> None:
    """Prescriptions with a contraindication signed without analysis while Ordoclic was down
    were held for their prescriber, not sent, until the prescriber decided."""
    held_before = chaos.verdict().held
    chaos.faults("down")
    chaos.driver("sign", "--count", "2", "--ci-every", "1", "--threads", "2")
    chaos.faults("ok")
    chaos.settle(60)
    assert chaos.held_now() == 2
    assert chaos.verdict().lost == 0  # held, not lost: waiting for the prescriber
    chaos.heal()
    verdict = chaos.verdict()
    assert verdict.held == held_before + 2
    assert (verdict.pending, verdict.lost, verdict.duplicated) == (0, 0, 0)
