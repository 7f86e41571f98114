"""Browser journeys: a person's whole path through the app, in Debian's chromium, against the
app as `make up` serves it (the live server talking to the served sandbox over HTTP).

Every journey runs on a `journey` page that fails the test on anything a person would see go
wrong without the test asserting it: a console error, an uncaught script error, a
Content-Security-Policy violation, a request that failed (network) or answered 5xx, and any 4xx
the journey did not announce with `journey.expect_status(...)`. `journey.click(...)` fails
when a click changes nothing on screen (and nothing in the page's URL). `journey.shot(name)`
saves a screenshot when ORIGAMI_E2E_SCREENSHOTS names a directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..conftest import REPORT_CSP_VIOLATIONS, screenshot
from ..helpers import wait_for_page

# A click has this long (s) to change something visible before the journey fails.
CHANGE_TIMEOUT_S = 10.0

VISIBLE_STATE = "() => document.body ? document.body.innerText + '|' + location.href : ''"


@dataclass
class Journey:
    page: Any
    problems: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)
    name: str = "journey"
    shots: int = 0

    def expect_status(self, *statuses: int) -> None:
        """The journey is about to trigger these 4xx answers on purpose (a refusal shown to the
        user): they are not problems."""
        self.expected_statuses.update(statuses)

    def click(self, selector: str) -> None:
        """Click, then wait (bounded) until something visible changed: a click that does
        nothing is a failure."""
        before = self.page.evaluate(VISIBLE_STATE)
        self.page.click(selector)
        wait_for_page(
            self.page,
            f"(before) => ({VISIBLE_STATE})() !== before",
            arg=before,
            what=f"a visible change after clicking {selector!r} (it changed nothing on screen)",
            timeout=CHANGE_TIMEOUT_S,
        )

    def shot(self, step: str) -> None:
        self.shots += 1
        screenshot(self.page, f"{self.name}-{self.shots:02d}-{step}")


@pytest.fixture
def journey(browser: Any, request: pytest.FixtureRequest) -> Iterator[Journey]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    journey = Journey(page=page, name=request.node.name.removeprefix("test_"))

    def on_console(message: Any) -> None:
        if message.type == "error" or "CSP violation" in message.text:
            # A 4xx the journey announced shows in the console as a failed resource too.
            if any(f"status of {status}" in message.text for status in journey.expected_statuses):
                return
            journey.problems.append(f"console: {message.text}")

    def on_response(response: Any) -> None:
        status = response.status
        if status >= 500 or (400 <= status < 500 and status not in journey.expected_statuses):
            journey.problems.append(f"HTTP {status} {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: journey.problems.append(f"script error: {error}"))

    def on_request_failed(request: Any) -> None:
        # A request the browser itself dropped because the page moved on (a panel still
        # loading when the person clicks a link) is no failure the person meets.
        if "favicon" in request.url or "ERR_ABORTED" in (request.failure or ""):
            return
        journey.problems.append(f"request failed: {request.method} {request.url}")

    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    yield journey
    context.close()
    assert not journey.problems, "the journey met problems:\n" + "\n".join(journey.problems)
