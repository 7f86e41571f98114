"""A TOTP secret is shown once, when it is made (account creation or a reset), never again: the
admin of the TOTP devices shows neither the key, nor the otpauth URI, nor a QR code. A reset
makes a new secret, shows it once, and is an account event."""

from __future__ import annotations

from base64 import b32encode

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from practitioners.models import AccountEvent
from practitioners.totp import totp_current_code
from tests.factories import AdminFactory, PrescriberFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db

BASE = "/admin/otp_totp/totpdevice/"


def _secret(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode().rstrip("=")


def _secret_visible(body: str, device: TOTPDevice) -> bool:
    return device.key in body or _secret(device) in body or "otpauth" in body


@pytest.fixture
def admin() -> Client:
    return login(Client(), AdminFactory())


def test_the_config_and_qr_code_pages_are_gone(admin):
    device = PrescriberFactory().totp_device
    for page in ("config", "qrcode"):
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:otp_totp_totpdevice_{page}", kwargs={"pk": device.pk})
        response = admin.get(f"{BASE}{device.pk}/{page}/", follow=True)
        assert response["Content-Type"].startswith("text/html"), page  # not the SVG
        assert not _secret_visible(response.content.decode(), device)


def test_no_admin_page_shows_the_secret(admin):
    device = PrescriberFactory().totp_device
    pages = [
        BASE,
        f"{BASE}{device.pk}/change/",
        f"{BASE}{device.pk}/history/",
        f"/admin/practitioners/user/{device.user_id}/change/",
    ]
    for url in pages:
        response = admin.get(url)
        assert response.status_code == 200, url
        assert not _secret_visible(response.content.decode(), device), url
        assert 'name="key"' not in response.content.decode(), url


def test_an_admin_cannot_set_a_key_by_hand(admin):
    device = PrescriberFactory().totp_device
    old_key = device.key
    admin.post(
        f"{BASE}{device.pk}/change/", {"key": "00" * 20, "name": "x", "user": device.user_id}
    )
    device.refresh_from_db()
    assert device.key == old_key
    assert admin.get(f"{BASE}add/").status_code == 403


def test_a_reset_makes_a_new_secret_shown_once_and_is_an_account_event(admin):
    user = PrescriberFactory()
    device = user.totp_device
    old_key = device.key

    response = admin.post(
        BASE, {"action": "totp_reset", "_selected_action": [str(device.pk)], "index": "0"}
    )

    device.refresh_from_db()
    assert device.key != old_key
    body = response.content.decode()
    assert response.status_code == 200
    assert _secret(device) in body  # shown now, to hand over
    assert "data:image/svg+xml" in body
    event = AccountEvent.objects.get(user=user, kind="totp_reset")
    assert event.acting_user.is_admin_role
    assert old_key not in str(event.detail)
    assert device.key not in str(event.detail)
    # The new secret works, and is never shown again.
    assert device.verify_token(totp_current_code(device))
    assert not _secret_visible(admin.get(f"{BASE}{device.pk}/change/").content.decode(), device)


def test_a_reset_is_refused_for_several_devices_at_once(admin):
    devices = [PrescriberFactory().totp_device, PrescriberFactory().totp_device]
    keys = [d.key for d in devices]
    admin.post(
        BASE,
        {"action": "totp_reset", "_selected_action": [str(d.pk) for d in devices], "index": "0"},
        follow=True,
    )
    assert [TOTPDevice.objects.get(pk=d.pk).key for d in devices] == keys
    assert not AccountEvent.objects.filter(kind="totp_reset").exists()
