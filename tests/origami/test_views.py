"""Home page by role, and an account deactivated while logged in."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import AdminFactory, PrescriberFactory, StaffFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db


def test_prescriber_home_is_the_patient_search(client):
    login(client, PrescriberFactory())
    assert client.get(reverse("home"))["Location"] == reverse("patients:search")


def test_admin_home_is_the_admin_site(client):
    login(client, AdminFactory())
    assert client.get(reverse("home"))["Location"] == reverse("admin:index")


def test_staff_home_is_the_status_lookup_page(client):
    login(client, StaffFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "Assistance aux pharmaciens" in response.content.decode()


def test_anonymous_home_goes_to_the_login_page():
    response = Client().get(reverse("home"))
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("how", ["user", "practitioner"])
def test_an_account_deactivated_during_a_session_is_logged_out(client, how):
    user = PrescriberFactory()
    login(client, user)
    assert client.get(reverse("patients:search")).status_code == 200
    if how == "user":
        user.is_active = False
        user.save()
    else:
        user.practitioner.is_active = False
        user.practitioner.save()

    response = client.get(reverse("patients:search"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_session_ping_answers_a_logged_in_user_only(client):
    """The reference request of bench.latency: the whole middleware stack, nothing else."""
    url = reverse("session_ping")
    assert Client().get(url).status_code == 302  # anonymous: to the login page
    login(client, StaffFactory())
    response = client.get(url)
    assert (response.status_code, response.content) == (200, b"ok")
    assert "no-cache" in response.headers["Cache-Control"]
