"""What a user needs to set up their authenticator app: the base32 secret, the otpauth URI and
its QR code (inline SVG data URI, allowed by the CSP's img-src)."""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass

import segno
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


@dataclass(frozen=True)
class TotpProvisioning:
    secret: str
    uri: str

    @property
    def qr_data_uri(self) -> str:
        return str(segno.make(self.uri, error="m").svg_data_uri(scale=4, border=2))


def totp_provisioning(device: TOTPDevice) -> TotpProvisioning:
    return TotpProvisioning(
        secret=b32encode(device.bin_key).decode().rstrip("="), uri=device.config_url
    )


def totp_current_code(device: TOTPDevice) -> str:
    """The code the user's app shows right now (demo and tests only)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=0)
    return f"{code:0{device.digits}d}"
