"""The permission helpers every view relies on."""

import pytest
from django.http import Http404, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from guardian.shortcuts import assign_perm

from practitioners.permissions import (
    Access,
    check_object_permission,
    prescriber_required,
    requires_second_factor,
)
from tests.factories import AdminFactory, PatientFactory, PrescriberFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_object_permission_is_granted_per_object_with_guardian():
    user = PrescriberFactory()
    shared, other = PatientFactory(), PatientFactory()
    assign_perm("patients.view_patient", user, shared)

    check_object_permission(user, "patients.view_patient", shared)
    with pytest.raises(Http404):
        check_object_permission(user, "patients.view_patient", other)


def test_decorated_views_declare_what_they_allow():
    @prescriber_required
    def view(request):
        return HttpResponse("ok")

    assert view.origami_access == Access(roles=frozenset({"prescriber"}))


def test_a_prescriber_who_skipped_the_second_factor_is_sent_back_to_login():
    user = PrescriberFactory()
    client = Client()
    client.force_login(user)  # password only: no verified device in the session

    response = client.get(reverse("patients:search"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_second_factor_is_required_for_prescribers_and_admins_only():
    assert requires_second_factor(PrescriberFactory())
    assert requires_second_factor(AdminFactory())
    assert not requires_second_factor(StaffFactory())
    assert requires_second_factor(StaffFactory(totp=True))


def test_htmx_requests_from_anonymous_users_get_a_client_redirect():
    @prescriber_required
    def view(request):
        return HttpResponse("ok")

    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/patients/", headers={"HX-Request": "true"})
    request.user = AnonymousUser()
    request.htmx = True

    response = view(request)

    assert response.headers["HX-Redirect"] == reverse("login")
