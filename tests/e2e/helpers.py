"""Steps every browser test takes: logging in with the second factor, opening a new
prescription for a patient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import FACTORY_PASSWORD
from tests.waiting import wait_until

from .conftest import screenshot


def log_in(page: Any, base_url: str, user: Any) -> None:
    page.goto(f"{base_url}/connexion/")
    page.fill('input[name="username"]', user.username)
    page.fill('input[name="password"]', FACTORY_PASSWORD)
    page.click("button[type=submit]")
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None:  # staff accounts may have no second factor
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        page.fill('input[name="code"]', f"{code:0{device.digits}d}")
        page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/connexion" not in url)


def open_new_prescription(page: Any, base_url: str, patient: Any) -> None:
    page.goto(f"{base_url}/patients/")
    page.fill("#patient-q", "Lefèvre")
    page.click(f'a[href="/patients/{patient.pk}/"]')
    page.wait_for_selector("#new-prescription")
    screenshot(page, "patient-page-prescriptions")
    page.click("#new-prescription")
    page.wait_for_selector("#drug-search")
    # The screen's scripts have run (htmx listens to its forms): a change made before would
    # be lost, which no person is quick enough to do but a busy test machine is.
    page.wait_for_load_state("load")


def submit_line(page: Any, search: str, posology: str) -> None:
    """As a prescriber at the keyboard: the search, Enter (the first result), the posology,
    Enter (sends the line). What the screen answers is the caller's to wait for."""
    page.fill("#drug-search", search)
    page.wait_for_selector(".rx-drug")
    page.press("#drug-search", "Enter")
    page.keyboard.type(posology)
    page.keyboard.press("Enter")


def lost_once(then: Callable[[Any], None] | None = None) -> Callable[[Any], None]:
    """A `page.route` handler: the first request is lost on the network, the next ones are
    sent (or handed to ``then``)."""
    seen = {"requests": 0}

    def handle(route: Any) -> None:
        seen["requests"] += 1
        if seen["requests"] == 1:
            route.abort("internetdisconnected")
        elif then is not None:
            then(route)
        else:
            route.continue_()

    return handle


def wait_for_page(
    page: Any, expression: str, *, what: str, arg: Any = None, timeout: float = 15.0
) -> Any:
    """Wait (bounded) until ``expression``, a function evaluated in the page, returns something
    truthy, and return it. Instead of `page.wait_for_function`, whose polling evaluates a
    string in the page, which our Content-Security-Policy refuses when it races (Playwright
    issue 36982): `page.evaluate` is not subject to it."""
    from playwright.sync_api import Error as PlaywrightError

    def check() -> Any:
        try:
            return page.evaluate(expression, arg) or page.wait_for_timeout(50)
        except PlaywrightError as error:  # a navigation: ask the new page
            if "navigation" not in str(error):
                raise
            return page.wait_for_load_state("domcontentloaded")

    return wait_until(check, what=what, timeout=timeout)


def wait_for_focus(page: Any, element_id: str) -> None:
    """Wait until the element of that id has the keyboard focus."""
    wait_for_page(
        page,
        f"() => document.activeElement !== null && document.activeElement.id === '{element_id}'",
        what=f"the focus in #{element_id}",
    )
