"""Accessibility: axe-core finds no violation on any page a prescriber, a staff member or an
administrator uses (login, home, patients, the prescription while written with its alerts and
once signed, the lists, the paper copy, the staff lookup, the journal, the operations page and
the admin's practitioner forms); and focus is clearly visible on every control.

axe's script is injected into the page, which the strict Content-Security-Policy forbids: these
tests, and only these, open their browser context with `bypass_csp=True`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from prescriptions.drafting import services
from prescriptions.models import AuditEvent
from tests.chaos import workload
from tests.factories import AdminFactory, PatientFactory, StaffFactory
from tests.prescriptions.conftest import registered_prescription

from .conftest import screenshot
from .helpers import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def axe_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        targets = [", ".join(node["target"]) for node in violation["nodes"]][:5]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}")
    return found


def check(page: Any, url: str, wait_for: str, found: dict[str, list[str]]) -> None:
    page.goto(url)
    page.wait_for_selector(wait_for)
    page.wait_for_load_state("networkidle")
    problems = violations(page)
    if problems:
        found[url] = problems


def test_no_page_has_an_accessibility_violation(
    live_server: Any, browser: Any, axe_page: Any, served_ordoclic: Any
) -> None:
    base = live_server.url
    found: dict[str, list[str]] = {}
    page = axe_page

    check(page, f"{base}/connexion/", "input[name=username]", found)

    martin = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    signed = registered_prescription(user=martin, patient=patient)
    draft = workload.draft(martin, (workload.SIMVASTATINE, workload.CLARITHROMYCINE), patient)
    services.prescription_analyse(prescription=draft, acting_user=martin)
    assert draft.alerts.exists()

    log_in(page, base, martin)
    check(page, f"{base}/", "main", found)
    # The search posts its terms (never in the URL): type them as a person would.
    page.goto(f"{base}/patients/")
    page.fill("#patient-q", "Lefèvre")
    page.wait_for_selector("#results table")
    page.wait_for_load_state("networkidle")
    if problems := violations(page):
        found["patient search results"] = problems
    check(page, f"{base}/patients/{patient.pk}/", "#new-prescription", found)
    check(page, f"{base}/ordonnances/{draft.pk}/", ".rx-alert-ci", found)
    # The same screen with a decision form open and a line refused (its error shown).
    page.locator(".rx-alert-ci summary", has_text="Maintenir").first.click()
    page.fill("#drug-search", "forlax")
    page.wait_for_selector(".rx-drug")
    page.press("#drug-search", "Enter")
    page.keyboard.type("1 gel le matin 7j")
    page.keyboard.press("Enter")
    page.wait_for_selector("#add-line .field-error")
    if problems := violations(page):
        found["draft with a decision form and a refused line"] = problems
    check(page, f"{base}/ordonnances/{signed.pk}/", "main", found)
    check(page, f"{base}/ordonnances/", "main", found)
    check(page, f"{base}/ordonnances/?filtre=sent", "main", found)
    check(page, f"{base}/ordonnances/patient/{patient.pk}/", "main", found)
    check(page, f"{base}/ordonnances/{signed.pk}/copie/", ".paper", found)
    check(page, f"{base}/ordonnances/{signed.pk}/annuler/", "main", found)

    staff = axe_page.context.browser.new_context(
        locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True
    )
    staff_page = staff.new_page()
    log_in(staff_page, base, StaffFactory())
    check(staff_page, f"{base}/ordonnances/assistance/", "#lookup-number", found)
    staff_page.fill("#lookup-number", signed.number)
    staff_page.press("#lookup-number", "Enter")
    staff_page.wait_for_selector("#lookup-status")
    problems = violations(staff_page)
    if problems:
        found["lookup result"] = problems
    staff.close()

    admin = axe_page.context.browser.new_context(
        locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True
    )
    admin_page = admin.new_page()
    log_in(admin_page, base, AdminFactory())
    assert AuditEvent.objects.exists()
    check(admin_page, f"{base}/ordonnances/journal/", "main", found)
    check(admin_page, f"{base}/ordonnances/exploitation/", "main", found)
    check(admin_page, f"{base}/admin/", "#content", found)
    check(admin_page, f"{base}/admin/practitioners/practitioner/", "#content", found)
    check(admin_page, f"{base}/admin/practitioners/practitioner/add/", "#content", found)
    practitioner = martin.practitioner
    check(
        admin_page,
        f"{base}/admin/practitioners/practitioner/{practitioner.pk}/change/",
        "#content",
        found,
    )
    admin.close()

    report = "\n".join(f"{url}\n  " + "\n  ".join(problems) for url, problems in found.items())
    assert not found, "axe found violations:\n" + report


FOCUS_STYLE = """(selector) => {
    const style = getComputedStyle(document.querySelector(selector));
    return {
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth),
        outlineColor: style.outlineColor,
        boxShadow: style.boxShadow,
        background: getComputedStyle(document.body).backgroundColor,
        focused: document.activeElement === document.querySelector(selector),
    };
}"""


def rgba(css_colour: str) -> tuple[float, float, float, float]:
    values = [float(v) for v in re.findall(r"[\d.]+", css_colour)]
    return values[0], values[1], values[2], values[3] if len(values) > 3 else 1.0


def luminance(red: float, green: float, blue: float) -> float:
    """Relative luminance (WCAG) of an sRGB colour."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(colour: str, background: str) -> float:
    """WCAG contrast of `colour` drawn over `background` (a translucent colour is blended with
    the background first: it is what the eye sees)."""
    red, green, blue, alpha = rgba(colour)
    back = rgba(background)[:3]
    seen = [alpha * c + (1 - alpha) * b for c, b in zip((red, green, blue), back, strict=True)]
    lighter, darker = sorted((luminance(*seen), luminance(*back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def tab_to(page: Any, selector: str, *, at_most: int = 30) -> None:
    """Move the focus with the keyboard (so :focus-visible applies) until it reaches selector."""
    for _ in range(at_most):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement?.matches({selector!r})"):
            return
    raise AssertionError(f"{selector} not reached with Tab")


@pytest.mark.django_db(transaction=True)
def test_focus_is_clearly_visible_on_the_primary_button_and_every_control(
    live_server: Any, page: Any
) -> None:
    page.goto(f"{live_server.url}/connexion/")
    button = "button[type=submit]"
    page.wait_for_selector(button)
    resting = page.evaluate(FOCUS_STYLE, button)
    tab_to(page, button)
    focused = page.evaluate(FOCUS_STYLE, button)
    screenshot(page, "focus-primary-button")
    assert focused["focused"]
    assert (resting["outlineStyle"], resting["outlineWidth"]) != (
        focused["outlineStyle"],
        focused["outlineWidth"],
    ) or resting["outlineColor"] != focused["outlineColor"]
    assert focused["outlineStyle"] == "solid"
    assert focused["outlineWidth"] >= 2
    # The ring stands out from the page around it (WCAG non-text contrast: 3:1 at least).
    assert contrast(focused["outlineColor"], focused["background"]) >= 3
    # The same ring on the fields and the links.
    for selector in ("input[name=username]", "a.skip-link"):
        page.goto(f"{live_server.url}/connexion/")
        page.wait_for_selector(button)
        tab_to(page, selector)
        style = page.evaluate(FOCUS_STYLE, selector)
        assert style["outlineStyle"] == "solid", selector
        assert contrast(style["outlineColor"], style["background"]) >= 3, selector
