"""The chaos suite, on real PostgreSQL, Redis, Celery workers and the served sandbox, each in
its own process started by the suite (tests/chaos/harness.py). Every scenario ends with the
sandbox ledger checked against the prescriptions the app accepted: nothing lost, nothing
registered twice, nothing registered that the app did not accept. `python -m tests.chaos` runs
the same scenarios at scale (300+ prescriptions)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Chaos
from .scenarios import SCENARIOS, redis_restarted

pytestmark = pytest.mark.chaos

PER_SCENARIO = 6


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    with Chaos(root=tmp_path_factory.mktemp("chaos"), workers=2) as environment:
        yield environment


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_nothing_lost_nothing_sent_twice(chaos: Chaos, name: str) -> None:
    before, exits = chaos.verdict().accepted, chaos.worker_exits
    SCENARIOS[name](chaos, PER_SCENARIO)
    verdict = chaos.verdict()
    assert verdict.accepted > before  # the scenario did sign prescriptions
    assert verdict.pending == 0, f"{verdict.pending} prescriptions still queued"
    assert (verdict.lost, verdict.duplicated, verdict.unexpected) == (0, 0, 0), verdict
    assert verdict.registered == verdict.accepted
    assert chaos.worker_exits == exits, "a worker exited (see its log in the chaos directory)"
    # Exactly once by our own doing, not only by Ordoclic honouring the Idempotency-Key: no
    # creation sent again without a lookup first, and the same key on every one.
    assert (verdict.resent_without_lookup, verdict.keys_changed) == (0, 0), verdict


def test_workers_survive_redis_restarts_without_a_supervisor(chaos: Chaos) -> None:
    """Redis restarted, empty, while the workers hold the retries of prescriptions signed
    during an outage (tasks with a countdown, not yet acknowledged), and nothing restarts a
    worker that exits: every worker is still there and the queue drains."""
    chaos.supervised = False
    try:
        before, exits = chaos.verdict().accepted, chaos.worker_exits
        for _ in range(2):
            redis_restarted(chaos, PER_SCENARIO)
        assert chaos.worker_exits == exits, "a worker exited on a Redis restart"
        assert chaos.workers_alive() == chaos.workers
        verdict = chaos.verdict()
        assert verdict.accepted == before + 2 * PER_SCENARIO
        assert (verdict.pending, verdict.lost, verdict.duplicated) == (0, 0, 0), verdict
    finally:
        chaos.supervised = True


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


def test_a_product_picked_offline_that_ordoclic_does_not_know_is_held_never_sent(
    chaos: Chaos,
) -> None:
    """Found in origami's memory while Ordoclic was down, unknown to Ordoclic once it is back:
    held for the prescriber (the line and the reason said), never sent, never lost. Last of
    the module: these stay held (the prescriber writes a new prescription)."""
    before = chaos.verdict()
    held_before = chaos.held_now()
    chaos.faults("down")
    chaos.driver("sign-offline", "--count", "2", "--unknown-every", "1", "--threads", "2")
    chaos.faults("ok")
    assert chaos.settle(60)
    assert chaos.held_now() == held_before + 2
    [(lines,)] = chaos.query(
        "SELECT count(*) FROM prescriptions_prescriptionline WHERE drug_check_error <> ''"
    )
    assert lines == 2
    verdict = chaos.verdict()
    assert verdict.accepted == before.accepted + 2
    assert verdict.registered == before.registered  # neither was sent
    assert (verdict.pending, verdict.lost, verdict.duplicated, verdict.unexpected) == (0, 0, 0, 0)
