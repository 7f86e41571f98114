"""Session inactivity timeout and "log out everywhere"."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from origami.middleware import LAST_ACTIVITY_SESSION_KEY
from practitioners.models import AccountEvent, AccountEventKind
from practitioners.totp import totp_current_code
from tests.factories import FACTORY_PASSWORD, PrescriberFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db


def _age_session(client, seconds):
    session = client.session
    session[LAST_ACTIVITY_SESSION_KEY] = int(time.time()) - seconds
    session.save()


def test_session_ends_after_the_inactivity_timeout(client, settings):
    settings.SESSION_INACTIVITY_TIMEOUT = 600
    login(client, PrescriberFactory())
    _age_session(client, 601)

    response = client.get(reverse("patients:search"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "expiré après 10 minutes" in response.content.decode()
    assert client.get(reverse("patients:search")).status_code == 302


def test_activity_keeps_the_session_open(client, settings):
    settings.SESSION_INACTIVITY_TIMEOUT = 600
    login(client, PrescriberFactory())
    _age_session(client, 599)
    assert client.get(reverse("patients:search")).status_code == 200
    assert client.session[LAST_ACTIVITY_SESSION_KEY] >= int(time.time()) - 2


def test_htmx_request_after_timeout_is_sent_to_the_login_page(client, settings):
    settings.SESSION_INACTIVITY_TIMEOUT = 600
    login(client, PrescriberFactory())
    _age_session(client, 700)
    response = client.get(reverse("patients:search"), {"q": "a"}, headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == reverse("login")


def test_logout_everywhere_closes_the_other_sessions():
    user = PrescriberFactory()
    laptop, tablet = Client(), Client()
    login(laptop, user)
    login(tablet, user)

    laptop.post(reverse("logout_everywhere"))

    assert laptop.get(reverse("patients:search")).status_code == 302
    response = tablet.get(reverse("patients:search"), follow=True)
    assert "Votre session a été fermée" in response.content.decode()
    assert tablet.get(reverse("patients:search")).status_code == 302
    assert AccountEvent.objects.filter(user=user, kind=AccountEventKind.LOGOUT_EVERYWHERE).exists()


def test_logout_everywhere_leaves_other_users_logged_in():
    user, colleague = PrescriberFactory(), PrescriberFactory()
    mine, theirs = Client(), Client()
    login(mine, user)
    login(theirs, colleague)

    mine.post(reverse("logout_everywhere"))

    assert theirs.get(reverse("patients:search")).status_code == 200


def test_account_events_cannot_be_rewritten():
    from django.db import ProgrammingError, transaction

    user = PrescriberFactory()
    client = Client()
    login(client, user)
    client.post(reverse("logout_everywhere"))
    event = AccountEvent.objects.get(user=user)
    with pytest.raises(ProgrammingError), transaction.atomic():
        AccountEvent.objects.filter(pk=event.pk).update(kind=AccountEventKind.LOGIN)
    with pytest.raises(ProgrammingError), transaction.atomic():
        event.delete()


def test_background_polling_does_not_keep_the_session_alive(client, settings):
    settings.SESSION_INACTIVITY_TIMEOUT = 600
    login(client, PrescriberFactory())
    _age_session(client, 500)

    polled = client.get(reverse("patients:search"), headers={"X-Origami-Passive": "1"})
    assert polled.status_code == 200
    _age_session_by(client, 200)

    assert client.get(reverse("patients:search")).status_code == 302


def _age_session_by(client, seconds):
    session = client.session
    session[LAST_ACTIVITY_SESSION_KEY] = int(session[LAST_ACTIVITY_SESSION_KEY]) - seconds
    session.save()


def _session_writes(client, path, **headers):
    """The response, and the statements that wrote the session row during the request."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if "django_session" in query["sql"]
        and query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]
    return response, writes


def test_requests_within_a_minute_do_not_rewrite_the_session(client, settings):
    settings.SESSION_INACTIVITY_TIMEOUT = 600
    login(client, PrescriberFactory())
    client.get(reverse("patients:search"))  # the exercise context chosen once, stored
    for _ in range(3):
        response, writes = _session_writes(client, reverse("patients:search"))
        assert response.status_code == 200
        assert writes == []


def test_activity_is_recorded_once_a_minute_has_passed(client, settings):
    settings.SESSION_INACTIVITY_TIMEOUT = 600
    login(client, PrescriberFactory())
    client.get(reverse("patients:search"))
    _age_session(client, 61)
    response, writes = _session_writes(client, reverse("patients:search"))
    assert response.status_code == 200
    assert len(writes) == 1
    assert client.session[LAST_ACTIVITY_SESSION_KEY] >= int(time.time()) - 2


def test_the_timeout_counts_from_the_last_recorded_activity_not_from_the_login(client, settings):
    """Requests every 50 s for longer than the timeout: the session stays open (each request
    less than a minute after the recorded activity writes nothing, the next one records it)."""
    settings.SESSION_INACTIVITY_TIMEOUT = 120
    login(client, PrescriberFactory())
    for _ in range(6):  # 300 s of activity, 2.5 times the timeout
        _age_session_by(client, 50)
        assert client.get(reverse("patients:search")).status_code == 200
    _age_session_by(client, 121)
    assert client.get(reverse("patients:search")).status_code == 302


def test_a_session_ended_mid_prescription_logs_back_into_that_prescription(client, settings):
    """The prescriber was writing a draft when the session timed out: the next search sends the
    whole page to the login page, and the login leads back to the draft, not to the home page."""
    settings.SESSION_INACTIVITY_TIMEOUT = 600
    user = PrescriberFactory()
    login(client, user)
    _age_session(client, 700)
    response = client.get(
        reverse("prescriptions:drug_search", args=[42]),
        {"q": "doli"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/ordonnances/42/"},
    )
    login_url = response.headers["HX-Redirect"]
    assert login_url == reverse("login") + "?next=/ordonnances/42/"

    page = client.get(login_url).content.decode()
    assert "expiré après 10 minutes" in page
    assert 'name="next" value="/ordonnances/42/"' in page
    client.post(
        reverse("login"),
        {"username": user.username, "password": FACTORY_PASSWORD, "next": "/ordonnances/42/"},
    )
    done = client.post(reverse("login_otp"), {"code": totp_current_code(user.totp_device)})
    assert done["Location"] == "/ordonnances/42/"


@pytest.mark.parametrize("current", ["", "https://evil.example/ordonnances/42/", "javascript:x"])
def test_an_htmx_request_from_elsewhere_is_sent_to_the_plain_login_page(client, settings, current):
    settings.SESSION_INACTIVITY_TIMEOUT = 600
    login(client, PrescriberFactory())
    _age_session(client, 700)
    headers = {"HX-Request": "true", "HX-Current-URL": current}
    response = client.get(reverse("patients:search"), headers=headers)
    assert response.headers["HX-Redirect"] == reverse("login")


def test_an_htmx_request_of_a_vanished_session_also_comes_back_to_its_page(client):
    """No session at all (purged, or the cookie lost): the permission check sends the page to
    the login page with the way back."""
    response = client.post(
        reverse("prescriptions:line_add", args=[42]),
        {"posology": "1 cp"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/ordonnances/42/"},
    )
    assert response.headers["HX-Redirect"] == reverse("login") + "?next=/ordonnances/42/"
