"""Usernames are one identity whatever the look-alike letters typed: normalised (NFKC, then
case folded) when the account is created, when it logs in and for the lockout counter, and the
database refuses two accounts that PostgreSQL's case-insensitive match would confuse."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from practitioners.models import User
from practitioners.services import practitioner_account_create
from practitioners.usernames import username_normalize
from tests.factories import FACTORY_PASSWORD, AdminFactory, StaffFactory

pytestmark = pytest.mark.django_db

LONG_S = "\u017f"  # ſ
DOTLESS_I = "\u0131"  # ı
KELVIN = "\u212a"  # K


@pytest.fixture(autouse=True)
def _clear_throttle_counters():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _login(client: Client, username: str, password: str = FACTORY_PASSWORD, ip: str = "10.0.0.2"):
    # Failures are also counted per address: the attacker's tries come from another one than
    # the failures that locked the account, so only the per-username counter can stop them.
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _lock(username: str, settings) -> None:
    for _ in range(settings.LOGIN_MAX_FAILURES):
        _login(Client(), username, "pas-le-bon-mot-de-passe", ip="10.0.0.1")


@pytest.mark.parametrize(
    ("account", "variant"),
    [
        ("hsec_t1", f"h{LONG_S}ec_t1"),
        ("hsec_t1", "HSEC_T1"),
        ("kelvin_t1", f"{KELVIN}elvin_t1"),
        ("hsec_t1", "\uff48\uff53\uff45\uff43\uff3f\uff54\uff11"),  # ｈｓｅｃ＿ｔ１
    ],
)
def test_a_locked_account_stays_locked_under_a_look_alike_name(settings, account, variant):
    StaffFactory(username=account)  # password only: a full login after the password step
    _lock(account, settings)

    client = Client()
    response = _login(client, variant)

    assert "_auth_user_id" not in client.session
    assert "Trop de tentatives" in response.content.decode()


def test_dotless_i_is_another_name_not_a_way_around_the_lockout(settings):
    StaffFactory(username="hisec_t1")
    _lock("hisec_t1", settings)

    client = Client()
    response = _login(client, f"h{DOTLESS_I}sec_t1")

    # PostgreSQL's UPPER() folds ı to I; the login no longer uses it to find the account.
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_failures_under_look_alike_names_count_for_the_same_account(settings):
    StaffFactory(username="hsec_t2")
    variants = ["hsec_t2", f"h{LONG_S}ec_t2", "HSEC_T2", "\uff48sec_t2", "Hsec_t2"]
    for n, variant in enumerate(variants[: settings.LOGIN_MAX_FAILURES]):
        _login(Client(), variant, "faux", ip=f"10.0.1.{n}")

    client = Client()
    response = _login(client, "hsec_t2")
    assert "_auth_user_id" not in client.session
    assert "Trop de tentatives" in response.content.decode()


def test_a_look_alike_of_an_unlocked_account_logs_into_that_same_account():
    user = StaffFactory(username="hsec_t3")
    client = Client()
    _login(client, "\uff28\uff33\uff25\uff23_t3")  # ＨＳＥＣ_t3
    assert client.session["_auth_user_id"] == str(user.pk)


def test_usernames_are_stored_normalised_at_creation():
    admin = AdminFactory()
    practitioner = practitioner_account_create(
        acting_user=admin,
        username="\uff23Martin",  # Ｃ full width
        password="un-mot-de-passe-solide",
        first_name="Claire",
        last_name="Martin",
        rpps="10100001238",
        context_name="Cabinet",
        am_number="751234567",
        address="1 rue de la Paix",
        postcode="75002",
        city="Paris",
    )
    assert practitioner.user.username == "cmartin"
    assert User.objects.create_user(f"{KELVIN}LEIN", password="x").username == "klein"
    assert username_normalize(f"Stra{LONG_S}{LONG_S}e") == "strasse"
    assert username_normalize("STRASSE") == username_normalize("straße")


def test_the_admin_form_refuses_a_look_alike_of_an_existing_username():
    from practitioners.forms import PractitionerAccountCreateForm

    StaffFactory(username="hisec_t4")
    for variant in (f"h{DOTLESS_I}sec_t4", "HISEC_T4", "\uff48isec_t4"):
        form = PractitionerAccountCreateForm({"username": variant})
        form.is_valid()
        assert "username" in form.errors, variant


@pytest.mark.parametrize("variant", [f"h{DOTLESS_I}sec_t5", "HISEC_T5", "Hisec_t5"])
def test_the_database_refuses_two_accounts_it_would_confuse(variant):
    User.objects.create(username="hisec_t5")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username=variant)
