"""Test helpers for logging in as a real user would end up: authenticated, second factor
passed, session stamped for the inactivity and "log out everywhere" checks."""

from __future__ import annotations

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from origami.middleware import GENERATION_SESSION_KEY, LAST_ACTIVITY_SESSION_KEY
from practitioners.models import User


def login(client: Client, user: User) -> Client:
    """Log `client` in as `user` with the second factor satisfied (when the user has a TOTP
    device, which PrescriberFactory and AdminFactory create)."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[GENERATION_SESSION_KEY] = user.session_generation
    session[LAST_ACTIVITY_SESSION_KEY] = int(time.time())
    session.save()
    return client
