"""A session lives at most ORIGAMI_SESSION_MAX_AGE (12 h), however active; and no page or partial
with patient data may be kept by the browser (Back after logout must not show it)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import AdminFactory, PatientFactory, PrescriberFactory, StaffFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db


class Clock:
    """time.time() under the test's control (the session middleware reads it)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    return fake


def test_an_active_session_still_ends_after_twelve_hours(client: Client, clock: Clock, settings):
    settings.SESSION_INACTIVITY_TIMEOUT = 30 * 60
    settings.SESSION_MAX_LIFETIME = 12 * 3600
    login(client, PrescriberFactory())
    assert client.get(reverse("patients:search")).status_code == 200

    # A request every 20 minutes: never inactive, for twelve hours.
    for _ in range(36):
        clock.now += 20 * 60
        assert client.get(reverse("patients:search")).status_code == 200
    clock.now += 20 * 60

    response = client.get(reverse("patients:search"), follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "12 heures" in response.content.decode()
    assert client.get(reverse("patients:search")).status_code == 302


def test_the_session_expiry_is_not_pushed_forward_by_activity(client: Client):
    login(client, PrescriberFactory())
    client.get(reverse("patients:search"))
    first = client.session.get_expiry_date()
    client.get(reverse("patients:search"))
    assert client.session.get_expiry_date() == first


def test_the_real_login_stamps_the_start(client: Client, clock: Clock, settings):
    from practitioners.totp import totp_current_code
    from tests.factories import FACTORY_PASSWORD

    settings.SESSION_MAX_LIFETIME = 3600
    settings.SESSION_INACTIVITY_TIMEOUT = 7200
    user = PrescriberFactory()
    client.post(reverse("login"), {"username": user.username, "password": FACTORY_PASSWORD})
    client.post(reverse("login_otp"), {"code": totp_current_code(user.totp_device)})
    assert client.get(reverse("patients:search")).status_code == 200
    clock.now += 3000
    assert client.get(reverse("patients:search")).status_code == 200
    clock.now += 700
    assert client.get(reverse("patients:search")).status_code == 302


def _no_store(response: Any) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_pages_and_partials_with_patient_data_are_never_stored(client: Client):
    from prescriptions.drafting.services import prescription_create_draft

    user = PrescriberFactory()
    login(client, user)
    patient = PatientFactory()
    prescription = prescription_create_draft(
        patient=patient,
        prescriber=user.practitioner,
        acting_user=user,
        exercise_context=user.practitioner.exercise_contexts.first(),
    )
    responses = [
        client.get(reverse("patients:search")),
        client.post(reverse("patients:search"), {"q": patient.last_name}),
        client.post(
            reverse("patients:search"), {"q": patient.last_name}, headers={"HX-Request": "true"}
        ),
        client.get(reverse("patients:detail", kwargs={"patient_id": patient.pk})),
        client.get(reverse("prescriptions:detail", kwargs={"pk": prescription.pk})),
        client.get(reverse("prescriptions:list")),
    ]
    for response in responses:
        assert response.status_code == 200, response.request["PATH_INFO"]
        assert _no_store(response), response.request["PATH_INFO"]


def test_every_response_to_a_logged_in_user_is_never_stored(client: Client):
    login(client, StaffFactory())
    assert _no_store(client.get(reverse("home")))
    assert _no_store(client.get(reverse("prescriptions:lookup")))
    admin = login(Client(), AdminFactory())
    for name in ("prescriptions:audit", "prescriptions:audit_export", "admin:index"):
        response = admin.get(reverse(name))
        assert response.status_code == 200, name
        assert _no_store(response), name


def test_patient_urls_are_never_stored_even_when_refused():
    assert _no_store(Client().get(reverse("patients:search")))
    assert _no_store(Client().get("/ordonnances/1/"))
