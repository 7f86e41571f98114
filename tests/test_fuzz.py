"""Property-based sweep: every URL of the project (the same walk as tests/test_url_permissions.py),
as a user allowed to reach it, receives random requests: any method, its own form fields and
random ones, random unicode, NUL characters, huge values, empty values, repeated fields, wrong
types, raw bodies in any content type and charset. It must never answer a 500, and a refused
request (4xx) must never have written anything.

A few examples per URL keep the run short (`FUZZ_EXAMPLES`, default 6); the seed is fixed so CI
runs the same requests every time (set FUZZ_RANDOM=1 to explore new ones).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practitioners.models import Role
from tests.factories import AdminFactory, PrescriberFactory, StaffFactory
from tests.helpers import login
from tests.test_url_permissions import ROUTES, Route, _access, _url

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WEBHOOK_SECRET = "secret-du-balayage"

# Text as people and attackers type it: any printable unicode (no lone surrogates: they cannot
# be encoded in a request), NUL characters, look-alike letters, digits of identifiers.
_texts = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.text(alphabet="\x00abc \n\t<>'\"%;&=ſıK１", max_size=20),
    st.sampled_from(["", " ", "0", "-1", "1e309", "nan", "null", "[]", "{}", "2A", "99999999999"]),
    st.integers(min_value=0, max_value=5).map(lambda n: "é" * (10**n)),  # up to 100 000
)
_methods = st.sampled_from(["GET", "POST", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
_content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-16",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=no-such-charset",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "text/plain",
    ]
)
_raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda v: json.dumps(v).encode(),
        st.recursive(
            st.none() | st.booleans() | st.integers() | _texts,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
            max_leaves=6,
        ),
    ),
)

_FIELD_NAME = re.compile(r'\bname="([^"]+)"')


def _fields(client: Client, url: str) -> list[str]:
    """The names of the form fields the page shows (what a browser would post back)."""
    response = client.get(url)
    body = b"" if response.streaming else response.content
    names = set(_FIELD_NAME.findall(body.decode(errors="replace")))
    names.discard("csrfmiddlewaretoken")
    return sorted(names) or ["q"]


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label not in {"sessions.Session", "prescriptions.AuditEvent"}
    }


def _last_audit_pk() -> int:
    from prescriptions.models import AuditEvent

    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _refusal_traces_only(after_pk: int) -> bool:
    """A refused staff lookup is traced on purpose (who tried which number): the only row a
    refused request may leave."""
    from prescriptions.models import AuditEvent

    return all(
        event.action == "staff_lookup" and event.details.get("outcome") != "found"
        for event in AuditEvent.objects.filter(pk__gt=after_pk)
    )


def _client_for(route: Route, users: dict[str, Any]) -> Client:
    access = _access(route)
    if access.public:
        return Client()
    role = Role.PRESCRIBER if Role.PRESCRIBER in access.roles else next(iter(access.roles))
    return login(Client(), users[role])


@st.composite
def _requests(draw: Any, fields: list[str]) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(fields) | _texts, min_size=0, max_size=6))
    data: dict[str, Any] = {}
    for name in names:
        data[name] = draw(_texts | st.lists(_texts, min_size=2, max_size=3))
    raw = draw(st.booleans())
    return {
        "method": draw(_methods),
        "data": data,
        "raw": draw(_raw_bodies) if raw else None,
        "content_type": draw(_content_types),
        "htmx": draw(st.booleans()),
    }


def _send(client: Client, url: str, request: dict[str, Any]) -> Any:
    headers = {"HX-Request": "true"} if request["htmx"] else {}
    method = request["method"]
    if request["raw"] is not None and method != "GET":
        return client.generic(
            method, url, request["raw"], content_type=request["content_type"], headers=headers
        )
    if method == "GET":
        return client.get(url, request["data"], headers=headers)
    if method == "POST":
        return client.post(url, request["data"], headers=headers)
    return client.generic(method, url, headers=headers)


def _edge_cases(fields: list[str]) -> list[dict[str, Any]]:
    """What random drawing may miss in a few examples: each tried on every URL."""
    base = {"raw": None, "content_type": "application/json", "htmx": False}
    every = {
        "nul": {f: "a\x00b" for f in fields},
        "huge": {f: "x" * 200_000 for f in fields},
        "empty": dict.fromkeys(fields, ""),
        "wrong types": {f: ["1", "deux", "-3"] for f in fields},
    }
    cases = [{**base, "method": m, "data": d} for d in every.values() for m in ("GET", "POST")]
    cases += [
        {
            **base,
            "method": "POST",
            "data": {},
            "raw": "q=é".encode("utf-16"),
            "content_type": "application/x-www-form-urlencoded; charset=utf-16",
        },
        {**base, "method": "POST", "data": {}, "raw": b'{"id": "\\u0000"}'},
        {
            **base,
            "method": "POST",
            "data": {},
            "raw": b"x" * (3 * 1024 * 1024),
            "content_type": "application/x-www-form-urlencoded",
        },
    ]
    cases += [{**base, "method": m, "data": {}} for m in ("PUT", "PATCH", "DELETE", "OPTIONS")]
    return cases


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_no_input_makes_a_500_or_a_partial_write(route, ordoclic, settings_fixture):
    cache.clear()
    users = {
        Role.PRESCRIBER: PrescriberFactory(),
        Role.STAFF: StaffFactory(),
        Role.ADMIN: AdminFactory(),
    }
    url, _ = _url(route, users[Role.PRESCRIBER])
    client = _client_for(route, users)
    fields = _fields(client, url)

    def one_request(request: dict[str, Any]) -> None:
        before, audit_pk = _row_counts(), _last_audit_pk()
        response = _send(client, url, request)
        assert response.status_code < 500, (route.name, request, response.status_code)
        if response.status_code >= 400:
            assert _row_counts() == before, (route.name, request, response.status_code)
            assert _refusal_traces_only(audit_pk), (route.name, request, response.status_code)

    for case in _edge_cases(fields):
        one_request(case)
    FUZZ_SETTINGS(given(request=_requests(fields))(one_request))()


@pytest.fixture
def settings_fixture(settings: Any) -> Any:
    # The webhook answers (instead of a 404) and checks signatures.
    settings.ORDOCLIC_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings
