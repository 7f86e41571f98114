"""Session security: inactivity timeout and "log out everywhere"."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

# Set at login (origami.views.login_complete).
LAST_ACTIVITY_SESSION_KEY = "origami_last_activity"
GENERATION_SESSION_KEY = "origami_session_generation"
# Background requests (e.g. htmx polling a status: hx-headers='{"X-Origami-Passive": "1"}') do
# not count as activity, so an unattended screen still times out.
PASSIVE_REQUEST_HEADER = "X-Origami-Passive"


def session_security_start(request: HttpRequest) -> None:
    """Stamp a freshly logged-in session with the time and the user's session generation."""
    request.session[LAST_ACTIVITY_SESSION_KEY] = int(time.time())
    request.session[GENERATION_SESSION_KEY] = request.user.session_generation  # type: ignore[union-attr]


class SessionSecurityMiddleware:
    """Ends a session after SESSION_INACTIVITY_TIMEOUT seconds without a request, and ends the
    sessions opened before the user asked to be logged out everywhere. Installed after the
    authentication and OTP middlewares."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_SESSION_KEY)
            generation = request.session.get(GENERATION_SESSION_KEY)
            if generation is None:
                # A session opened by another login path (e.g. test helpers): stamp it now.
                request.session[GENERATION_SESSION_KEY] = generation = user.session_generation
                request.session[LAST_ACTIVITY_SESSION_KEY] = last = now
            if generation != user.session_generation:
                return self._end(request, _("Votre session a été fermée. Reconnectez-vous."))
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
        # HtmxMiddleware runs after this one: read the header itself.
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(resolve_url(settings.LOGIN_URL))
        return redirect_to_login(request.get_full_path())
