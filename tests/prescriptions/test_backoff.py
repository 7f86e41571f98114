from django.test import override_settings

from prescriptions.backoff import retry_cap, retry_delay


@override_settings(SUBMISSION_RETRY_BASE_DELAY=2.0, SUBMISSION_RETRY_MAX_DELAY=300.0)
def test_delays_grow_with_attempts_and_stay_under_the_cap() -> None:
    for attempts in range(1, 40):
        ceiling = min(300.0, 2.0 * 2 ** (attempts - 1))
        for _ in range(20):
            delay = retry_delay(attempts=attempts, retry_after=None)
            assert 0.0 <= delay <= ceiling


@override_settings(
    SUBMISSION_RETRY_MAX_DELAY=100_000.0,
    CELERY_BROKER_TRANSPORT_OPTIONS={"visibility_timeout": 3600},
)
def test_cap_stays_far_below_the_visibility_timeout() -> None:
    assert retry_cap() <= 900.0
    assert all(retry_delay(attempts=50, retry_after=None) <= 900.0 for _ in range(50))


@override_settings(SUBMISSION_RETRY_BASE_DELAY=2.0, SUBMISSION_RETRY_MAX_DELAY=300.0)
def test_retry_after_from_ordoclic_is_honoured_but_capped() -> None:
    assert all(retry_delay(attempts=1, retry_after=30.0) >= 30.0 for _ in range(20))
    assert retry_delay(attempts=1, retry_after=10_000.0) == 300.0


@override_settings(SUBMISSION_RETRY_BASE_DELAY=2.0, SUBMISSION_RETRY_MAX_DELAY=300.0)
def test_jitter_spreads_retries() -> None:
    delays = {round(retry_delay(attempts=6, retry_after=None), 3) for _ in range(50)}
    assert len(delays) > 10
