"""The two-step login: password, then TOTP code; throttling; deactivated accounts."""

import pytest
from django.urls import reverse

from practitioners.models import AccountEvent, AccountEventKind
from practitioners.totp import totp_current_code
from tests.factories import FACTORY_PASSWORD, AdminFactory, PrescriberFactory, StaffFactory

pytestmark = pytest.mark.django_db

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."


@pytest.fixture(autouse=True)
def _clear_throttle_counters():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _password_step(client, username, password=FACTORY_PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_prescriber_logs_in_with_password_then_totp_code(client):
    user = PrescriberFactory()

    response = _password_step(client, user.username)
    assert response.status_code == 302
    assert response["Location"] == reverse("login_otp")
    # Between the two steps nothing is reachable yet.
    assert client.get(reverse("patients:search")).status_code == 302

    response = client.post(reverse("login_otp"), {"code": totp_current_code(user.totp_device)})

    assert response.status_code == 302
    assert client.get(reverse("patients:search")).status_code == 200
    assert AccountEvent.objects.filter(user=user, kind=AccountEventKind.LOGIN).count() == 1


def test_a_wrong_totp_code_does_not_log_in(client):
    user = PrescriberFactory()
    _password_step(client, user.username)
    wrong = f"{(int(totp_current_code(user.totp_device)) + 1) % 1_000_000:06d}"

    response = client.post(reverse("login_otp"), {"code": wrong})

    assert response.status_code == 200
    assert "Code incorrect ou expiré" in response.content.decode()
    assert client.get(reverse("patients:search")).status_code == 302


def test_a_totp_code_already_used_is_refused_at_a_second_login(client):
    """A code seen over a shoulder or on a shared screen opens no second session within its
    window: django-otp remembers the last time step each device accepted."""
    from django.test import Client

    user = PrescriberFactory()
    code = totp_current_code(user.totp_device)
    _password_step(client, user.username)
    assert client.post(reverse("login_otp"), {"code": code}).status_code == 302

    other = Client()
    _password_step(other, user.username)
    response = other.post(reverse("login_otp"), {"code": code})
    assert response.status_code == 200
    assert "Code incorrect ou expiré" in response.content.decode()
    assert other.get(reverse("patients:search")).status_code == 302
    assert AccountEvent.objects.filter(user=user, kind=AccountEventKind.LOGIN).count() == 1


def test_admin_needs_the_second_factor_too(client):
    user = AdminFactory()
    response = _password_step(client, user.username)
    assert response["Location"] == reverse("login_otp")
    assert client.get(reverse("admin:index")).status_code == 302


def test_admin_site_login_goes_through_the_two_step_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_without_device_logs_in_with_password_only(client):
    user = StaffFactory()
    response = _password_step(client, user.username)
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_message(client):
    user = PrescriberFactory()
    wrong_password = _password_step(client, user.username, "pas-le-bon")
    unknown_user = _password_step(client, "personne", "pas-le-bon")
    assert BAD_CREDENTIALS in wrong_password.content.decode()
    assert BAD_CREDENTIALS in unknown_user.content.decode()


@pytest.mark.parametrize("how", ["user", "practitioner"])
def test_deactivated_account_cannot_log_in_and_is_told_so(client, how):
    user = PrescriberFactory()
    if how == "user":
        user.is_active = False
        user.save()
    else:
        user.practitioner.is_active = False
        user.practitioner.save()

    response = _password_step(client, user.username)

    assert response.status_code == 200
    assert "Ce compte est désactivé" in response.content.decode()
    assert client.get(reverse("login_otp")).status_code == 302
    assert not AccountEvent.objects.filter(user=user, kind=AccountEventKind.LOGIN).exists()


def test_a_deactivated_account_is_not_revealed_without_its_password(client):
    user = PrescriberFactory(is_active=False)
    response = _password_step(client, user.username, "pas-le-bon")
    assert BAD_CREDENTIALS in response.content.decode()
    assert "désactivé" not in response.content.decode()


def test_failures_per_username_lock_the_login_even_with_the_right_password(client, settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = PrescriberFactory()
    for n in range(3):
        _password_step(client, user.username, "pas-le-bon", REMOTE_ADDR=f"10.0.0.{n}")

    response = _password_step(client, user.username, REMOTE_ADDR="10.0.0.99")

    assert "Trop de tentatives de connexion" in response.content.decode()
    assert client.session.get("origami_pending_login") is None


def test_failures_per_address_lock_every_username_from_it(client, settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = PrescriberFactory()
    for n in range(3):
        _password_step(client, f"inconnu{n}", "x", REMOTE_ADDR="10.0.0.7")

    locked = _password_step(client, user.username, REMOTE_ADDR="10.0.0.7")
    elsewhere = _password_step(client, user.username, REMOTE_ADDR="10.0.0.8")

    assert "Trop de tentatives de connexion" in locked.content.decode()
    assert elsewhere.status_code == 302


def test_throttle_message_is_the_same_for_unknown_usernames(client, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        _password_step(client, "personne", "x")
    response = _password_step(client, "personne", "x")
    assert "Trop de tentatives de connexion" in response.content.decode()


def test_wrong_totp_codes_count_as_failures(client, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = PrescriberFactory()
    _password_step(client, user.username)
    wrong = f"{(int(totp_current_code(user.totp_device)) + 1) % 1_000_000:06d}"
    client.post(reverse("login_otp"), {"code": wrong})
    client.post(reverse("login_otp"), {"code": wrong})

    response = client.post(reverse("login_otp"), {"code": totp_current_code(user.totp_device)})

    assert response["Location"] == reverse("login")
    assert client.get(reverse("patients:search")).status_code == 302


def test_next_url_is_kept_through_both_steps_but_only_on_this_site(client):
    user = PrescriberFactory()
    client.post(
        reverse("login"),
        {"username": user.username, "password": FACTORY_PASSWORD, "next": "/patients/?q=a"},
    )
    response = client.post(reverse("login_otp"), {"code": totp_current_code(user.totp_device)})
    assert response["Location"] == "/patients/?q=a"

    other = PrescriberFactory()
    client.post(reverse("logout"))
    client.post(
        reverse("login"),
        {"username": other.username, "password": FACTORY_PASSWORD, "next": "https://evil.example/"},
    )
    response = client.post(reverse("login_otp"), {"code": totp_current_code(other.totp_device)})
    assert response["Location"] == reverse("home")
