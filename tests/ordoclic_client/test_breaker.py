"""The circuit breaker, shared through Redis by two client instances (two processes' worth)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
import redis
import respx
from redis.backoff import NoBackoff
from redis.retry import Retry

from ordoclic_client import OrdoclicClient, RedisBreaker
from ordoclic_client.results import Ok, Rejected, Unavailable, UnavailableKind
from tests.waiting import join_all, wait_until

from .conftest import RPPS

PAGE = {"page": 1, "per_page": 20, "page_count": 0, "total_count": 0, "items": []}


@pytest.fixture
def make_breaker(redis_client: redis.Redis, breaker_name: str) -> Callable[..., RedisBreaker]:
    def make(**kwargs: float) -> RedisBreaker:
        settings = {"failures": 3, "reset_seconds": 30.0} | kwargs
        return RedisBreaker(
            redis_client,
            name=breaker_name,
            failures=int(settings["failures"]),
            reset_seconds=settings["reset_seconds"],
        )

    return make


def test_opens_after_consecutive_failures_across_clients_and_stops_sending(
    api: respx.MockRouter,
    make_client: Callable[..., OrdoclicClient],
    make_breaker: Callable[..., RedisBreaker],
) -> None:
    drugs = api.get("/drugbase/v1/drugs").mock(return_value=httpx.Response(503))
    web = make_client(breaker=make_breaker())
    worker = make_client(breaker=make_breaker())

    web.drug_search(rpps=RPPS, text="a")
    worker.drug_search(rpps=RPPS, text="b")
    assert web.breaker is not None
    assert web.breaker.state() == "closed"
    web.drug_search(rpps=RPPS, text="c")

    refused = worker.drug_search(rpps=RPPS, text="d")

    assert drugs.call_count == 3
    assert isinstance(refused, Unavailable)
    assert refused.reason == "circuit open"
    assert refused.retry_after is not None
    assert 25 < refused.retry_after <= 30
    assert refused.sent is False
    assert worker.breaker is not None
    assert worker.breaker.state() == "open"
    assert worker.breaker.last_error() == "server error (HTTP 503)"


def test_refusals_do_not_count_and_break_the_run(
    api: respx.MockRouter,
    make_client: Callable[..., OrdoclicClient],
    make_breaker: Callable[..., RedisBreaker],
) -> None:
    api.get("/drugbase/v1/drugs").mock(
        side_effect=[
            httpx.Response(500),
            httpx.Response(500),
            httpx.Response(400, json={"errors": [{"message": "q trop court"}]}),
            httpx.Response(500),
            httpx.Response(500),
        ]
    )
    client = make_client(breaker=make_breaker())

    results = [client.drug_search(rpps=RPPS, text="x") for _ in range(5)]

    assert isinstance(results[2], Rejected)
    assert client.breaker is not None
    assert client.breaker.state() == "closed"


def test_half_open_lets_exactly_one_probe_through_and_its_success_closes(
    api: respx.MockRouter,
    make_client: Callable[..., OrdoclicClient],
    make_breaker: Callable[..., RedisBreaker],
) -> None:
    probe_started, release = threading.Event(), threading.Event()

    def slow_recovery(request: httpx.Request) -> httpx.Response:
        probe_started.set()
        release.wait(timeout=10)
        return httpx.Response(200, json=PAGE)

    drugs = api.get("/drugbase/v1/drugs").mock(return_value=httpx.Response(500))
    first = make_client(breaker=make_breaker(failures=1, reset_seconds=0.2))
    second = make_client(breaker=make_breaker(failures=1, reset_seconds=0.2))
    first.drug_search(rpps=RPPS, text="x")
    assert first.breaker is not None
    assert first.breaker.state() == "open"
    breaker = first.breaker
    wait_until(lambda: breaker.state() != "open", what="the breaker to half-open")
    assert first.breaker.state() == "half_open"
    drugs.mock(side_effect=slow_recovery)
    results: list[object] = []
    probe = threading.Thread(target=lambda: results.append(first.drug_search(rpps=RPPS, text="y")))
    probe.start()
    assert probe_started.wait(timeout=10)

    refused = second.drug_search(rpps=RPPS, text="z")
    release.set()
    join_all([probe], what="the recovery probe")

    assert isinstance(refused, Unavailable)
    assert refused.reason == "circuit open"
    assert isinstance(results[0], Ok)
    assert drugs.call_count == 2
    assert second.breaker is not None
    assert second.breaker.state() == "closed"
    assert isinstance(second.drug_search(rpps=RPPS, text="w"), Ok)


def test_a_failed_probe_opens_the_breaker_again(
    api: respx.MockRouter,
    make_client: Callable[..., OrdoclicClient],
    make_breaker: Callable[..., RedisBreaker],
) -> None:
    api.get("/drugbase/v1/drugs").mock(side_effect=httpx.ReadTimeout("still down"))
    client = make_client(breaker=make_breaker(failures=2, reset_seconds=0.2))
    client.drug_search(rpps=RPPS, text="a")
    client.drug_search(rpps=RPPS, text="b")
    assert client.breaker is not None
    breaker = client.breaker
    wait_until(lambda: breaker.state() != "open", what="the breaker to half-open")

    probe = client.drug_search(rpps=RPPS, text="c")

    assert probe == Unavailable("read timeout", sent=True, kind=UnavailableKind.TIMEOUT)
    assert client.breaker.state() == "open"
    assert client.breaker.last_error() == "read timeout"


def test_an_unreachable_store_lets_calls_through(
    api: respx.MockRouter, make_client: Callable[..., OrdoclicClient]
) -> None:
    api.get("/drugbase/v1/drugs").mock(return_value=httpx.Response(200, json=PAGE))
    dead = redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    client = make_client(breaker=RedisBreaker(dead, name="unreachable"))

    assert isinstance(client.drug_search(rpps=RPPS, text="a"), Ok)
    assert client.breaker is not None
    assert client.breaker.state() == "closed"


def test_snapshot_for_the_admin_page(
    api: respx.MockRouter,
    make_client: Callable[..., OrdoclicClient],
    make_breaker: Callable[..., RedisBreaker],
) -> None:
    api.get("/drugbase/v1/drugs").mock(side_effect=httpx.ConnectError("refused"))
    breaker = make_breaker(failures=5)
    client = make_client(breaker=breaker)

    client.drug_search(rpps=RPPS, text="a")
    snapshot = breaker.snapshot()

    assert snapshot.state == "closed"
    assert snapshot.consecutive_failures == 1
    assert snapshot.last_error == "connection refused"
    breaker.reset()
    assert breaker.snapshot().consecutive_failures == 0
