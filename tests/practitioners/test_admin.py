"""Admin screens for practitioner accounts."""

import pytest
from django.urls import reverse

from practitioners.models import (
    AccountEvent,
    ExerciseContext,
    OrdoclicLinkStatus,
    Practitioner,
    Role,
    User,
)
from tests.factories import AdminFactory, PractitionerFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db

ACCOUNT = {
    "username": "lroche",
    "first_name": "Lucie",
    "last_name": "Roche",
    "email": "lucie.roche@example.org",
    "password": "Un-mot-de-passe-solide-2026",
    "rpps": "101 000 012 38",
    "profession": "medecin",
    "specialty": "Médecine d'urgence",
    "context_name": "SAMU 75",
    "finess": "750100208",
    "am_number": "",
    "address": "149 rue de Sèvres",
    "postcode": "75015",
    "city": "Paris",
    "phone": "01 44 49 40 00",
}


@pytest.fixture
def admin_client_2fa(client):
    return login(client, AdminFactory())


def test_admin_creates_a_prescriber_account_in_one_go(admin_client_2fa):
    response = admin_client_2fa.post(reverse("admin:practitioners_practitioner_add"), ACCOUNT)

    assert response.status_code == 200
    practitioner = Practitioner.objects.get(rpps="10100001238")
    assert practitioner.user.role == Role.PRESCRIBER
    assert practitioner.user.check_password(ACCOUNT["password"])
    assert practitioner.exercise_contexts.get().finess == "750100208"
    assert practitioner.ordoclic_link_status == OrdoclicLinkStatus.UNLINKED
    body = response.content.decode()
    assert "otpauth" not in body  # the QR code carries the URI, the page shows the key
    assert "data:image/svg+xml" in body
    assert AccountEvent.objects.filter(user=practitioner.user, kind="account_created").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rpps", "10100001239", "clé de contrôle ne correspond pas"),
        ("rpps", "1010000123", "11 chiffres"),
        ("rpps", "1010000123X", "que des chiffres"),
        ("finess", "750100207", "clé de contrôle ne correspond pas"),
        ("finess", "", "Renseignez un numéro FINESS ou un numéro Assurance Maladie"),
        ("am_number", "12345", "9 chiffres"),
        ("postcode", "7501", "5 chiffres"),
    ],
)
def test_bad_input_is_refused_with_a_french_message_and_nothing_saved(
    admin_client_2fa, field, value, message
):
    users_before = User.objects.count()
    data = {**ACCOUNT, field: value}
    if field == "am_number":
        data["finess"] = ""

    response = admin_client_2fa.post(reverse("admin:practitioners_practitioner_add"), data)

    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert User.objects.count() == users_before
    assert not Practitioner.objects.filter(rpps="10100001238").exists()
    assert not ExerciseContext.objects.exists()
    # What was typed is still in the form.
    assert "Lucie" in response.content.decode()


def test_a_duplicate_rpps_is_refused(admin_client_2fa):
    PractitionerFactory(rpps="10100001238")

    response = admin_client_2fa.post(reverse("admin:practitioners_practitioner_add"), ACCOUNT)

    assert response.status_code == 400
    assert "Un praticien avec ce numéro RPPS existe déjà" in response.content.decode()
    assert Practitioner.objects.filter(rpps="10100001238").count() == 1


def test_editing_an_rpps_checks_it_too(admin_client_2fa):
    practitioner = PractitionerFactory()
    url = reverse("admin:practitioners_practitioner_change", args=[practitioner.pk])
    page = admin_client_2fa.get(url)
    assert page.status_code == 200
    assert "Lier à Ordoclic" in page.content.decode()

    response = admin_client_2fa.post(
        url,
        {
            "user": practitioner.user.pk,
            "rpps": "10100001239",
            "profession": "medecin",
            "specialty": "",
            "is_active": "on",
            "exercise_contexts-TOTAL_FORMS": "0",
            "exercise_contexts-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "clé de contrôle ne correspond pas" in response.content.decode()
    practitioner.refresh_from_db()
    assert practitioner.rpps != "10100001239"


def test_link_button_calls_the_link_service_and_shows_the_outcome(admin_client_2fa, monkeypatch):
    practitioner = PractitionerFactory()
    calls = []

    def fake_link(*, practitioner, acting_user):
        calls.append((practitioner.pk, acting_user.role))
        practitioner.ordoclic_link_status = OrdoclicLinkStatus.DEACTIVATED
        return practitioner

    monkeypatch.setattr("practitioners.admin.practitioner_link_ordoclic", fake_link)

    response = admin_client_2fa.post(
        reverse("admin:practitioners_practitioner_ordoclic", args=[practitioner.pk]), follow=True
    )

    assert calls == [(practitioner.pk, Role.ADMIN)]
    assert "désactivé ; il ne pourra pas signer" in response.content.decode()


def test_changelist_shows_the_link_status_and_searches_by_rpps(admin_client_2fa):
    PractitionerFactory(rpps="10100004562", user__last_name="Benali")
    PractitionerFactory(rpps="10100001238", user__last_name="Martin")

    response = admin_client_2fa.get(
        reverse("admin:practitioners_practitioner_changelist"), {"q": "10100004562"}
    )

    body = response.content.decode()
    assert "BENALI" in body
    assert "MARTIN" not in body
    assert "Non lié" in body


def test_an_exercise_context_with_a_wrong_finess_is_refused(admin_client_2fa):
    practitioner = PractitionerFactory()
    url = reverse("admin:practitioners_practitioner_change", args=[practitioner.pk])

    response = admin_client_2fa.post(
        url,
        {
            "user": practitioner.user.pk,
            "rpps": practitioner.rpps,
            "profession": "medecin",
            "specialty": "",
            "is_active": "on",
            "exercise_contexts-TOTAL_FORMS": "1",
            "exercise_contexts-INITIAL_FORMS": "0",
            "exercise_contexts-0-name": "Centre hospitalier",
            "exercise_contexts-0-finess": "750100207",
            "exercise_contexts-0-am_number": "",
            "exercise_contexts-0-address": "1 rue de la Paix",
            "exercise_contexts-0-postcode": "75002",
            "exercise_contexts-0-city": "Paris",
            "exercise_contexts-0-is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "clé de contrôle ne correspond pas" in response.content.decode()
    assert not ExerciseContext.objects.filter(practitioner=practitioner).exists()


def test_admin_creates_a_staff_account_without_admin_site_access(admin_client_2fa):
    response = admin_client_2fa.post(
        reverse("admin:practitioners_user_add"),
        {
            "username": "accueil",
            "role": Role.STAFF,
            "usable_password": "true",
            "password1": "Un-mot-de-passe-solide-2026",
            "password2": "Un-mot-de-passe-solide-2026",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="accueil")
    assert user.role == Role.STAFF
    assert not user.is_staff


def test_admin_action_links_the_selected_practitioners_at_the_sandbox(admin_client_2fa, ordoclic):
    martin = PractitionerFactory(rpps="10100001238")
    durand = PractitionerFactory(rpps="10100007896")
    unknown = PractitionerFactory(rpps="10100009991")

    response = admin_client_2fa.post(
        reverse("admin:practitioners_practitioner_changelist"),
        {"action": "link_to_ordoclic", "_selected_action": [martin.pk, durand.pk, unknown.pk]},
        follow=True,
    )

    for practitioner in (martin, durand, unknown):
        practitioner.refresh_from_db()
    assert martin.ordoclic_link_status == OrdoclicLinkStatus.LINKED
    assert martin.ordoclic_professional_id is not None
    assert martin.ordoclic_verified_at is not None
    assert durand.ordoclic_link_status == OrdoclicLinkStatus.DEACTIVATED
    assert unknown.ordoclic_link_status == OrdoclicLinkStatus.ERROR
    body = response.content.decode()
    assert "compte lié à Ordoclic et actif" in body
    assert "liaison impossible" in body
