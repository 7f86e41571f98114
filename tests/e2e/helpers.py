"""Steps every browser test takes: logging in with the second factor, opening a new
prescription for a patient."""

from __future__ import annotations

from typing import Any

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import FACTORY_PASSWORD

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
