"""Login in two steps (password, then TOTP code), logout, and the home page by role."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from origami.http import safe_next_url
from origami.middleware import session_security_start
from practitioners.authentication import (
    PasswordOutcome,
    login_failures_clear,
    login_throttled,
    password_check,
    totp_verify,
)
from practitioners.forms import LoginForm, TotpForm
from practitioners.models import AccountEventKind, Role, User
from practitioners.ordoclic import practitioner_ordoclic_recheck
from practitioners.permissions import any_role_required, public, requires_second_factor
from practitioners.selectors import practitioner_for_user
from practitioners.services import account_event_record, user_logout_everywhere

# Between the password and the code, the session only holds who is logging in (not logged in).
PENDING_LOGIN_SESSION_KEY = "origami_pending_login"
PENDING_LOGIN_MAX_AGE = 5 * 60


def _client_ip(request: HttpRequest) -> str:
    # Behind a reverse proxy, the proxy must set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return str(request.META.get("REMOTE_ADDR", ""))


def _throttled_message() -> str:
    minutes = max(1, settings.LOGIN_FAILURE_WINDOW // 60)
    return _(
        "Trop de tentatives de connexion échouées. Par sécurité, la connexion est bloquée "
        "pendant %(minutes)s minutes."
    ) % {"minutes": minutes}


def login_complete(request: HttpRequest, user: User, device: TOTPDevice | None) -> HttpResponse:
    """Where every login path ends once the person is authenticated: password and TOTP code
    today; a Pro Santé Connect callback would end here too (practitioners/psc.py, README):
    session stamped for the inactivity and absolute timeouts, lockout counter cleared, account
    event written."""
    next_url = request.session.get(PENDING_LOGIN_SESSION_KEY, {}).get("next") or request.POST.get(
        "next"
    )
    request.session.pop(PENDING_LOGIN_SESSION_KEY, None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if device is not None:
        otp_login(request, device)
    session_security_start(request)
    login_failures_clear(username=user.username)
    practitioner = practitioner_for_user(user=user)
    if practitioner is not None:  # told at once if the account can no longer sign
        practitioner_ordoclic_recheck(practitioner=practitioner, acting_user=user)
    account_event_record(
        user=user,
        acting_user=user,
        kind=AccountEventKind.LOGIN,
        detail={"second_factor": device is not None},
    )
    return HttpResponseRedirect(safe_next_url(request, next_url))


@public
@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_password(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = password_check(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            ip=_client_ip(request),
        )
        match check.outcome:
            case PasswordOutcome.THROTTLED:
                form.add_error(None, _throttled_message())
            case PasswordOutcome.INVALID:
                form.add_error(None, _("Identifiant ou mot de passe incorrect."))
            case PasswordOutcome.INACTIVE:
                form.add_error(
                    None,
                    _(
                        "Ce compte est désactivé : vous ne pouvez plus vous connecter. "
                        "Contactez l'administrateur d'origami."
                    ),
                )
            case PasswordOutcome.NO_SECOND_FACTOR:
                form.add_error(
                    None,
                    _(
                        "Aucun second facteur n'est configuré pour ce compte. "
                        "Contactez l'administrateur d'origami."
                    ),
                )
            case PasswordOutcome.OK:
                assert check.user is not None
                if not requires_second_factor(check.user):
                    return login_complete(request, check.user, device=None)
                request.session.cycle_key()
                request.session[PENDING_LOGIN_SESSION_KEY] = {
                    "user_id": check.user.pk,
                    "since": int(time.time()),
                    "next": next_url,
                }
                return redirect("login_otp")
    return render(request, "registration/login.html", {"form": form, "next": next_url})


def _pending_user(request: HttpRequest) -> User | None:
    pending = request.session.get(PENDING_LOGIN_SESSION_KEY)
    if not pending or time.time() - pending.get("since", 0) > PENDING_LOGIN_MAX_AGE:
        return None
    return User.objects.filter(pk=pending.get("user_id"), is_active=True).first()


@public
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_otp(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        request.session.pop(PENDING_LOGIN_SESSION_KEY, None)
        messages.warning(request, _("Saisissez à nouveau votre identifiant et votre mot de passe."))
        return redirect("login")
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = _client_ip(request)
        if login_throttled(username=user.username, ip=ip):
            request.session.pop(PENDING_LOGIN_SESSION_KEY, None)
            messages.error(request, _throttled_message())
            return redirect("login")
        device = totp_verify(user=user, code=form.cleaned_data["code"], ip=ip)
        if device is not None:
            return login_complete(request, user, device)
        form.add_error(
            "code",
            _(
                "Code incorrect ou expiré. Saisissez le code affiché en ce moment dans votre "
                "application."
            ),
        )
    return render(request, "registration/login_otp.html", {"form": form})


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("Vous êtes déconnecté."))
    return redirect("login")


@any_role_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    user_logout_everywhere(user=request.user, acting_user=request.user)  # type: ignore[arg-type]
    logout(request)
    messages.success(
        request, _("Toutes vos sessions sont fermées, sur cet appareil comme sur les autres.")
    )
    return redirect("login")


@public
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: never a 404 in their console."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@public
@require_GET
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin site logs in through the same two-step login as everybody else."""
    query = request.GET.urlencode()
    return redirect(reverse("login") + (f"?{query}" if query else ""))


@any_role_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    role = request.user.role  # type: ignore[union-attr]
    if role == Role.PRESCRIBER:
        return redirect("patients:search")
    if role == Role.ADMIN:
        return redirect("admin:index")
    return render(request, "origami/home_staff.html")


@any_role_required
@require_GET
@never_cache
def session_ping(request: HttpRequest) -> HttpResponse:
    """An authenticated request through the whole middleware stack (session, second factor,
    inactivity timeout) and nothing else: the reference that bench.latency divides the screens'
    times by."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
