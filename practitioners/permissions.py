"""The one permission check every view goes through.

Decorate each view with exactly one of `prescriber_required`, `staff_required`, `admin_required`,
`role_required(...)` or `public`. The decorator records what it allows on the view
(`view.origami_access`), which the URL sweep (tests/test_url_permissions.py) reads to try every
URL as every other role.

Rules:
- anonymous users are sent to the login page (htmx requests get an HX-Redirect);
- an authenticated user whose role is not allowed gets a 403 page;
- prescribers and admins must have passed the second factor in this session;
- a prescriber must have an active practitioner record.

Objects shared between users (e.g. a prescription seen by a replacing prescriber) use
django-guardian: `check_object_permission(user, "app.perm", obj)` raises 404 so that an object
the user may not see is indistinguishable from one that does not exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse

from origami.http import HtmxHttpRequest, login_redirect

from .models import Role, User

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])

SECOND_FACTOR_ROLES = frozenset({Role.PRESCRIBER, Role.ADMIN})


class UserRequest(HtmxHttpRequest):
    """The request of a view behind a role decorator: its user is authenticated."""

    user: User  # type: ignore[assignment]


@dataclass(frozen=True)
class Access:
    """What a view allows: `public` views need no login; otherwise the roles allowed."""

    roles: frozenset[str]
    public: bool = False


def requires_second_factor(user: User) -> bool:
    """Prescribers and admins always log in with a TOTP code; staff accounts (status lookup
    only) use one when a device is set up for them, otherwise password only."""
    from django_otp import user_has_device

    return user.role in SECOND_FACTOR_ROLES or user_has_device(user)


def user_may_act(user: Any) -> bool:
    """An authenticated user whose account may be used right now (active, practitioner active
    for prescribers, second factor passed where required)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if requires_second_factor(user) and not (hasattr(user, "is_verified") and user.is_verified()):
        return False
    if user.role == Role.PRESCRIBER:
        practitioner = getattr(user, "practitioner", None)
        if practitioner is None or not practitioner.is_active:
            return False
    return True


def role_required(*roles: str) -> Callable[[ViewFunc], ViewFunc]:
    allowed = frozenset(roles)

    def decorator(view: ViewFunc) -> ViewFunc:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return login_redirect(request)
            if not user_may_act(user):
                # Half-logged-in or deactivated since login: start again from the login page.
                logout(request)
                return login_redirect(request)
            if cast(User, user).role not in allowed:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.origami_access = Access(roles=allowed)  # type: ignore[attr-defined]
        return cast(ViewFunc, wrapped)

    return decorator


prescriber_required = role_required(Role.PRESCRIBER)
staff_required = role_required(Role.STAFF)
admin_required = role_required(Role.ADMIN)
any_role_required = role_required(*Role.values)


def public(view: ViewFunc) -> ViewFunc:
    """Mark a view that anybody may open (login steps). Still a deliberate, visible choice."""
    view.origami_access = Access(roles=frozenset(Role.values), public=True)  # type: ignore[attr-defined]
    return view


def check_object_permission(user: Any, perm: str, obj: Model) -> None:
    """django-guardian object permission (or the global permission); 404 when missing."""
    if not user.has_perm(perm, obj):
        raise Http404
