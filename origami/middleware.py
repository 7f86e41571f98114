"""Session security: inactivity timeout, absolute lifetime, "log out everywhere", and no browser
cache for anything carrying patient data."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from origami.http import login_redirect

# Set at login (origami.views.login_complete).
LAST_ACTIVITY_SESSION_KEY = "origami_last_activity"
STARTED_SESSION_KEY = "origami_session_started"
GENERATION_SESSION_KEY = "origami_session_generation"
# Background requests (e.g. htmx polling a status: hx-headers='{"X-Origami-Passive": "1"}') do
# not count as activity, so an unattended screen still times out.
PASSIVE_REQUEST_HEADER = "X-Origami-Passive"


def session_security_start(request: HttpRequest) -> None:
    """Stamp a freshly logged-in session with the time and the user's session generation."""
    now = int(time.time())
    request.session[LAST_ACTIVITY_SESSION_KEY] = now
    request.session[STARTED_SESSION_KEY] = now
    request.session[GENERATION_SESSION_KEY] = request.user.session_generation  # type: ignore[union-attr]
    _fix_expiry(request)


def _fix_expiry(request: HttpRequest) -> None:
    # Django pushes a session's expiry forward at every save (each request stamps the activity);
    # a fixed date keeps the cookie and the stored session to the absolute lifetime too.
    request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_MAX_LIFETIME))


class SessionSecurityMiddleware:
    """Ends a session after SESSION_INACTIVITY_TIMEOUT seconds without a request, or
    SESSION_MAX_LIFETIME seconds after the login whatever the activity, and ends the sessions
    opened before the user asked to be logged out everywhere. Installed after the
    authentication and OTP middlewares."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_SESSION_KEY)
            generation = request.session.get(GENERATION_SESSION_KEY)
            started = request.session.get(STARTED_SESSION_KEY)
            if generation is None:
                # A session opened by another login path (e.g. test helpers): stamp it now.
                request.session[GENERATION_SESSION_KEY] = generation = user.session_generation
                request.session[LAST_ACTIVITY_SESSION_KEY] = last = now
            if started is None:
                # A session opened by another login path: its lifetime starts now.
                request.session[STARTED_SESSION_KEY] = started = now
                _fix_expiry(request)
            if generation != user.session_generation:
                return self._end(request, _("Votre session a été fermée. Reconnectez-vous."))
            if now - int(started) > settings.SESSION_MAX_LIFETIME:
                hours = max(1, settings.SESSION_MAX_LIFETIME // 3600)
                return self._end(
                    request,
                    _(
                        "Votre session a atteint sa durée maximale de %(hours)s heures. "
                        "Reconnectez-vous pour continuer."
                    )
                    % {"hours": hours},
                )
            if last is None or now - int(last) > settings.SESSION_INACTIVITY_TIMEOUT:
                minutes = max(1, settings.SESSION_INACTIVITY_TIMEOUT // 60)
                return self._end(
                    request,
                    _(
                        "Votre session a expiré après %(minutes)s minutes d'inactivité. "
                        "Reconnectez-vous pour continuer."
                    )
                    % {"minutes": minutes},
                )
            # Activity is recorded to the minute (SESSION_ACTIVITY_RESOLUTION): the session row
            # is written at most once a minute, not at every request. A session therefore ends
            # up to that much before SESSION_INACTIVITY_TIMEOUT after the last request, never
            # after it.
            if (
                request.headers.get(PASSIVE_REQUEST_HEADER) != "1"
                and now - int(last) >= settings.SESSION_ACTIVITY_RESOLUTION
            ):
                request.session[LAST_ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)

    def _end(self, request: HttpRequest, message: str) -> HttpResponse:
        logout(request)
        messages.warning(request, message)
        # HtmxMiddleware runs after this one: login_redirect reads the headers itself.
        return login_redirect(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` (and its older equivalents) on every response to a logged-in
    user, and on every response under the patient and prescription URLs whoever asks: the
    browser's cache and Back button must not show patient data after a logout or a change.
    htmx partials are responses like any other. Installed after the authentication middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Read before the view runs: the logout view makes the user anonymous.
        authenticated = request.user.is_authenticated
        response = self.get_response(request)
        if authenticated or request.user.is_authenticated or _patient_path(request.path_info):
            add_never_cache_headers(response)
        return response


def _patient_path(path: str) -> bool:
    return path.startswith((reverse("patients:search"), reverse("prescriptions:list")))
