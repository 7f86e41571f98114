"""No silent failure: every htmx request that ends in a refusal (4xx), a server error (5xx), a
network error or a timeout says so in French where the user was looking, and keeps what was
typed. Configured once for the whole app (base.html's htmx-config, static/js/app.js)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import StaffFactory

from .helpers import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LOOKUP = "**/ordonnances/assistance/"
TYPED = "7KQ2 M9XD 4TPA"


@pytest.fixture
def lookup_page(live_server: Any, page: Any) -> Any:
    log_in(page, live_server.url, StaffFactory())
    page.goto(f"{live_server.url}/ordonnances/assistance/")
    page.fill("#lookup-number", TYPED)
    return page


def submit_and_read_error(page: Any) -> str:
    page.click(".search-form button[type=submit]")
    error = page.locator(".search-form + .request-error")
    error.wait_for()
    assert error.get_attribute("role") == "alert"
    assert page.input_value("#lookup-number") == TYPED  # what was typed stays
    return str(error.inner_text())


def test_a_refusal_without_a_form_to_show_is_said(lookup_page: Any) -> None:
    lookup_page.route(LOOKUP, lambda route: route.fulfill(status=403, body="Forbidden"))
    assert "pas le droit" in submit_and_read_error(lookup_page)


def test_a_server_error_is_said(lookup_page: Any) -> None:
    lookup_page.route(LOOKUP, lambda route: route.fulfill(status=500, body="<h1>boom</h1>"))
    message = submit_and_read_error(lookup_page)
    assert "erreur 500" in message
    assert "boom" not in lookup_page.inner_text("main")


def test_a_network_error_is_said(lookup_page: Any) -> None:
    lookup_page.route(LOOKUP, lambda route: route.abort("internetdisconnected"))
    assert "Connexion impossible" in submit_and_read_error(lookup_page)


def test_a_timeout_is_said_and_the_next_success_clears_it(lookup_page: Any) -> None:
    held: list[Any] = []
    lookup_page.route(LOOKUP, lambda route: held.append(route))
    lookup_page.evaluate("htmx.config.timeout = 500")
    assert "ne répond pas à temps" in submit_and_read_error(lookup_page)
    for route in held:
        route.abort()
    lookup_page.unroute(LOOKUP)
    lookup_page.evaluate("htmx.config.timeout = 20000")
    lookup_page.click(".search-form button[type=submit]")
    lookup_page.wait_for_selector("#lookup-result .message-error, #lookup-result .card")
    assert lookup_page.locator(".request-error").count() == 0
