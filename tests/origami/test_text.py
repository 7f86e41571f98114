"""Free-text limits: the helper, the patient search and the admin's forms."""

from __future__ import annotations

import pytest
from django.urls import reverse

from origami.text import TEXT_LIMITS, excerpt, length_error
from tests.factories import AdminFactory, PrescriberFactory
from tests.helpers import login

PASTE = ("Martin Jeanne " * 400)[:4999] + "x"


def test_an_excerpt_is_short_and_says_it_was_cut() -> None:
    assert excerpt("1 cp matin") == "1 cp matin"
    cut = excerpt(PASTE)
    assert len(cut) == 40
    assert cut.endswith("…")


def test_a_length_error_counts_without_quoting() -> None:
    at_most = "x" * TEXT_LIMITS["posology"]
    assert length_error(at_most, limit="posology", what="La posologie") is None
    message = length_error(PASTE, limit="posology", what="La posologie")
    assert message is not None
    assert message.startswith("La posologie : 200 caractères au plus (5")
    assert "Martin" not in message


@pytest.mark.django_db
def test_a_patient_search_too_long_is_said_not_run(client: object) -> None:
    browser = login(client, PrescriberFactory())
    html = browser.post(reverse("patients:search"), {"q": PASTE}).content.decode()
    assert "La recherche : 100 caractères au plus" in html.replace("\xa0", " ")
    assert PASTE[:60] not in html
    assert 'maxlength="100"' in html


@pytest.mark.django_db
def test_the_admin_practitioner_form_refuses_a_pasted_name(client: object) -> None:
    from tests.practitioners.test_admin import ACCOUNT

    admin = login(client, AdminFactory())
    response = admin.post(
        reverse("admin:practitioners_practitioner_add"), {**ACCOUNT, "last_name": PASTE}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "au plus 150 caractères" in html
    assert 'maxlength="150"' in html


@pytest.mark.django_db
def test_a_pasted_password_is_refused_at_login_without_being_checked(client: object) -> None:
    user = PrescriberFactory()
    response = client.post(  # type: ignore[attr-defined]
        reverse("login"), {"username": user.username, "password": "x" * 5000}
    )
    html = response.content.decode()
    assert "au plus 256 caractères" in html
    assert "x" * 300 not in html
