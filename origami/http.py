"""Request types shared by the views of every app."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware."""

    htmx: HtmxDetails


def safe_next_url(request: HttpRequest, candidate: str | None) -> str:
    """Where to go after a form: the ``next`` asked for when it stays on this site, else home."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def login_redirect(request: HttpRequest) -> HttpResponse:
    """To the login page, then back where the user was. A page comes back to itself. An htmx
    request (a search, a line, a poll) leads the whole page to the login page, then back to
    the page it was sent from (htmx's ``HX-Current-URL``, kept only on this site): a session
    ended in the middle of a prescription comes back to that prescription."""
    if request.headers.get("HX-Request") != "true":
        return redirect_to_login(request.get_full_path())
    current = request.headers.get("HX-Current-URL", "")
    if not url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):  # absent, or another site's
        return HttpResponseClientRedirect(resolve_url(settings.LOGIN_URL))
    parts = urlsplit(current)
    back = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return HttpResponseClientRedirect(redirect_to_login(back).url)
