"""A session that ends in the middle of a prescription (inactivity, a purge, "log out
everywhere"): the prescriber's next action leads to the login page, and the login leads back to
the prescription, where the draft is as it was left."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django_otp.plugins.otp_totp.models import TOTPDevice

from practitioners.ordoclic import practitioner_link_ordoclic
from practitioners.totp import totp_current_code
from tests.factories import FACTORY_PASSWORD, PatientFactory, PrescriberFactory

from .conftest import screenshot
from .helpers import log_in, open_new_prescription, submit_line, wait_for_focus

pytestmark = [pytest.mark.e2e, pytest.mark.served, pytest.mark.django_db(transaction=True)]


def test_a_session_ended_mid_prescription_logs_back_into_the_draft(
    live_server: Any, page: Any, served_ordoclic: Any
) -> None:
    user = PrescriberFactory(practitioner_record__rpps="10100001238")
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    patient = PatientFactory(last_name="Lefèvre", first_name="Jeanne")
    log_in(page, live_server.url, user)
    open_new_prescription(page, live_server.url, patient)
    submit_line(page, "doliprane", "1 cp 3 fois par jour 5j")
    page.wait_for_selector(".rx-line")
    draft = page.url

    page.wait_for_selector("#analysis[data-analysed]")
    wait_for_focus(page, "drug-search")

    Session.objects.all().delete()  # the session is gone, the page is still open
    # The next search, or the screen's own poll if it comes first, leads to the login page.
    page.keyboard.type("amoxicilline")
    page.wait_for_url(lambda url: "/connexion/" in url)
    assert "next=" in page.url
    screenshot(page, "session-ended-login")

    page.fill('input[name="username"]', user.username)
    page.fill('input[name="password"]', FACTORY_PASSWORD)
    page.click("button[type=submit]")
    device = TOTPDevice.objects.get(user=user)
    device.last_t = -1  # the next 30-second window, without waiting for it
    device.save(update_fields=["last_t"])
    page.fill('input[name="code"]', totp_current_code(device))
    page.click("button[type=submit]")
    page.wait_for_url(draft)
    page.wait_for_selector("#drug-search")
    assert "1 comprimé 3 fois par jour pendant 5 jours" in page.inner_text(".rx-lines")
