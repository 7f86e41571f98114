"""Liveness and readiness, as an orchestrator probes them: plain HTTP, no cookie, any Host,
under the production settings (HTTPS redirect on)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.test import Client, override_settings

from origami import health
from origami.ordoclic import get_breaker, reset_client

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_REDIRECT_EXEMPT": [r"^sante/", r"^metriques/$"],
    "SESSION_COOKIE_SECURE": True,
    "ALLOWED_HOSTS": ["origami.example.fr"],
    "DEBUG": False,
}


@pytest.fixture(autouse=True)
def fresh_breaker() -> Iterator[None]:
    reset_client()
    get_breaker().reset()
    yield
    get_breaker().reset()
    reset_client()


def probe(path: str, **headers: Any) -> Any:
    # The orchestrator's Host is the instance's own address, not an allowed host.
    return Client(HTTP_HOST="10.0.3.7:8000").get(path, **headers)


def test_liveness_answers_without_touching_any_dependency() -> None:
    with (
        override_settings(**PRODUCTION),
        mock.patch.object(health, "_check_database", side_effect=AssertionError("touched")),
        mock.patch.object(health, "_check_redis", side_effect=AssertionError("touched")),
    ):
        response = probe("/sante/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"].startswith("max-age=0")


def test_readiness_checks_database_migrations_and_redis_over_plain_http() -> None:
    with override_settings(**PRODUCTION):
        response = probe("/sante/pret/")
    assert response.status_code == 200  # not a redirect to HTTPS, not a 400 for the Host
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}
    assert body["ordoclic"]["breaker"] == "closed"
    assert not response.cookies


def test_the_rest_of_the_app_still_redirects_to_https_and_checks_the_host() -> None:
    with override_settings(**PRODUCTION):
        assert Client(HTTP_HOST="10.0.3.7:8000").get("/connexion/").status_code == 400
        redirect = Client(HTTP_HOST="origami.example.fr").get("/connexion/")
    assert redirect.status_code == 301
    assert redirect["Location"].startswith("https://")


def test_an_open_breaker_is_reported_but_the_app_stays_ready() -> None:
    breaker = get_breaker()
    for _ in range(5):
        breaker.record_failure("ordoclic down")
    response = probe("/sante/pret/")
    assert response.status_code == 200
    assert response.json()["ordoclic"]["breaker"] == "open"


def test_redis_down_makes_the_instance_not_ready() -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = probe("/sante/pret/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["redis"] == "ConnectionError"
    assert body["checks"]["database"] == "ok"


def test_database_down_makes_the_instance_not_ready() -> None:
    with mock.patch.object(health, "_check_database", return_value="OperationalError"):
        response = probe("/sante/pret/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "OperationalError"
    assert response.json()["checks"]["migrations"] == "base indisponible"


def test_a_pending_migration_makes_the_instance_not_ready(monkeypatch: Any) -> None:
    monkeypatch.setattr(health, "_migrations_applied", False)
    fake_plan = [("prescriptions", "9999_future")]
    with mock.patch(
        "django.db.migrations.executor.MigrationExecutor.migration_plan", return_value=fake_plan
    ):
        response = probe("/sante/pret/")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "1 migration(s) en attente"
    assert health._migrations_applied is False  # checked again at the next probe


def test_probes_refuse_anything_but_get() -> None:
    assert Client().post("/sante/").status_code == 405
    assert Client().post("/sante/pret/").status_code == 405
