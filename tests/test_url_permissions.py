"""The URL sweep: every URL pattern of the project, tried as anonymous, as every role that the
view does not allow and, for object URLs, as another prescriber. Nothing may answer 200 (nor
redirect anywhere but to the login page).

New URLs are swept automatically:
- each view must carry its permission decorator (practitioners.permissions), which tells the
  sweep which roles it allows; a view without one fails the sweep;
- a URL with path arguments needs an entry in tests/url_registry.py saying how to build its
  objects for a given owner; a missing entry fails the sweep with the URL's name.
The Django admin is swept too: only the admin role may reach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from practitioners.models import Role
from practitioners.permissions import Access
from tests.factories import AdminFactory, PrescriberFactory, StaffFactory
from tests.helpers import login
from tests.url_registry import OBJECT_URLS

pytestmark = pytest.mark.django_db

LOGIN_URL = "/connexion/"


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    callback: Any
    arguments: tuple[str, ...]


def _routes(patterns: list[Any], namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            arguments = tuple(entry.pattern.regex.groupindex)
            yield Route(f"{namespace}{entry.name or ''}", entry.callback, arguments)


ROUTES = [r for r in _routes(get_resolver().url_patterns) if not r.name.startswith("admin:")]
ADMIN_ROUTES = [r for r in _routes(get_resolver().url_patterns) if r.name.startswith("admin:")]


def _access(route: Route) -> Access:
    access = getattr(route.callback, "origami_access", None)
    assert isinstance(access, Access), (
        f"The view of URL '{route.name}' ({route.callback.__module__}."
        f"{route.callback.__name__}) has no permission decorator: use prescriber_required, "
        "staff_required, admin_required, role_required(...) or public from "
        "practitioners.permissions."
    )
    return access


def _denied(response: Any) -> bool:
    if response.status_code in (403, 404, 405):
        return True
    return response.status_code == 302 and response["Location"].startswith(LOGIN_URL)


def _users() -> dict[str, Any]:
    return {
        Role.PRESCRIBER: PrescriberFactory(),
        Role.STAFF: StaffFactory(),
        Role.ADMIN: AdminFactory(),
    }


def _url(route: Route, owner: Any) -> tuple[str, bool]:
    if not route.arguments:
        return reverse(route.name), False
    entry = OBJECT_URLS.get(route.name)
    assert entry is not None, (
        f"URL '{route.name}' takes {route.arguments}: register how to build its objects in "
        "tests/url_registry.py (OBJECT_URLS) so the permission sweep can try it."
    )
    return reverse(route.name, kwargs=entry.make(owner)), entry.owner_only


def _try(client: Client, url: str) -> list[Any]:
    return [client.get(url), client.post(url, {})]


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_no_url_leaks_to_the_wrong_user(route):
    access = _access(route)
    if access.public:
        return
    users = _users()
    url, owner_only = _url(route, users[Role.PRESCRIBER])

    for response in _try(Client(), url):
        assert _denied(response), f"anonymous got {response.status_code} on {url}"

    for role, user in users.items():
        if role in access.roles:
            continue
        client = login(Client(), user)
        for response in _try(client, url):
            assert response.status_code in (403, 404, 405), (
                f"{role} got {response.status_code} on {url} ({route.name})"
            )

    if owner_only:
        other = login(Client(), PrescriberFactory())
        for response in _try(other, url):
            assert response.status_code in (403, 404, 405), (
                f"another prescriber got {response.status_code} on {url} ({route.name})"
            )

    # The owner (or an allowed user) does reach it: the sweep is not passing by accident.
    allowed_role = Role.PRESCRIBER if Role.PRESCRIBER in access.roles else next(iter(access.roles))
    allowed = login(Client(), users[allowed_role])
    response = allowed.get(url)
    assert response.status_code < 500
    assert response.status_code not in (401, 403), f"{allowed_role} refused on {url}"


def test_public_urls_are_only_the_login_steps():
    public = sorted(r.name for r in ROUTES if _access(r).public)
    # Ordoclic's webhook has no session: its HMAC signature authenticates it
    # (tests/prescriptions/test_webhooks.py refuses unsigned, forged, stale and replayed posts).
    # The probes carry no data but states; the metrics need a bearer token
    # (tests/origami/test_health.py, tests/origami/test_metrics.py, and below).
    # The favicon is a redirect to a static file. The FHIR API has no session: each host
    # application has a bearer token (tests/prescriptions/fhir/test_api.py, and below).
    assert public == [
        "admin_login",
        "favicon",
        "fhir:bundle",
        "fhir:medication_requests",
        "health_live",
        "health_ready",
        "login",
        "login_otp",
        "logout",
        "metrics",
        "prescriptions:ordoclic_webhook",
    ]


@pytest.mark.parametrize("role", [None, *Role.values])
def test_metrics_are_refused_to_every_session_without_the_token(role):
    from django.test import override_settings

    client = Client() if role is None else login(Client(), _users()[role])
    with override_settings(ORIGAMI_METRICS_TOKEN="the-scrape-token"):
        for response in _try(client, reverse("metrics")):
            assert response.status_code in (401, 405), f"{role} got {response.status_code}"


@pytest.mark.parametrize("role", [None, *Role.values])
def test_the_fhir_api_is_refused_to_every_session_without_a_token(role):
    client = Client() if role is None else login(Client(), _users()[role])
    urls = [
        reverse("fhir:medication_requests") + "?patient=1",
        reverse("fhir:bundle", args=["00000000-0000-0000-0000-000000000000"]),
    ]
    for url in urls:
        for response in _try(client, url):
            assert response.status_code in (401, 405), f"{role} got {response.status_code}"


@pytest.mark.parametrize("name", ["health_live", "health_ready"])
def test_probes_show_no_data_to_anybody(name):
    body = Client().get(reverse(name)).json()
    assert set(body) <= {"status", "checks", "ordoclic", "version"}


ADMIN_SAMPLE_URLS = [
    "/admin/",
    "/admin/practitioners/practitioner/",
    "/admin/practitioners/practitioner/add/",
    "/admin/practitioners/practitioner/1/change/",
    "/admin/practitioners/practitioner/1/ordoclic/",
    "/admin/practitioners/user/",
    "/admin/patients/patient/",
    "/admin/patients/patient/1/change/",
]


def test_every_admin_app_is_in_the_admin_sample():
    from django.contrib import admin

    sampled = {u.split("/")[2] for u in ADMIN_SAMPLE_URLS if u.count("/") > 3}
    registered = {m._meta.app_label for m in admin.site._registry}
    assert registered - {"auth", "otp_totp", "guardian", "prescriptions"} <= sampled
    assert ADMIN_ROUTES, "the admin site is mounted"


@pytest.mark.parametrize("url", ADMIN_SAMPLE_URLS)
def test_only_admins_reach_the_admin_site(url):
    from tests.factories import PractitionerFactory

    PractitionerFactory()  # an object with pk 1 or more
    users = _users()
    for response in _try(Client(), url):
        assert response.status_code != 200
        assert response.status_code in (302, 403, 404, 405)
    for role in (Role.PRESCRIBER, Role.STAFF):
        client = login(Client(), users[role])
        for response in _try(client, url):
            assert response.status_code != 200, f"{role} reached {url}"
            if response.status_code == 302:
                assert response["Location"].startswith(("/admin/login/", LOGIN_URL))
    admin_client = login(Client(), users[Role.ADMIN])
    assert admin_client.get("/admin/").status_code == 200
