"""The password step of the login and its throttling.

Failed attempts are counted in Redis (the Django cache) per username and per client address,
in a fixed window of LOGIN_FAILURE_WINDOW seconds; from LOGIN_MAX_FAILURES failures on, the
login is refused without even checking the password. Messages never tell whether a username
exists: a deactivated account is only reported to someone who typed its right password.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User
from .permissions import requires_second_factor
from .usernames import username_normalize


class PasswordOutcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    INACTIVE = "inactive"
    THROTTLED = "throttled"
    NO_SECOND_FACTOR = "no_second_factor"


@dataclass(frozen=True)
class PasswordCheck:
    outcome: PasswordOutcome
    user: User | None = None


def _key(kind: str, value: str) -> str:
    # Usernames under their normalised form: every look-alike spelling of a name shares its
    # counter (addresses are ASCII; normalising them changes nothing).
    digest = hashlib.sha256(username_normalize(value).encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def login_failures(*, username: str, ip: str) -> int:
    """The larger of the two counters (username, address)."""
    values = cache.get_many([_key("user", username), _key("ip", ip)])
    return max([int(v) for v in values.values()] or [0])


def login_throttled(*, username: str, ip: str) -> bool:
    return login_failures(username=username, ip=ip) >= settings.LOGIN_MAX_FAILURES


def login_failure_record(*, username: str, ip: str, step: str = "password") -> None:
    """Count a failure towards the lockout, and tell Django's ``user_login_failed`` listeners
    (the metrics count failures by ``step``, never by username)."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, step=step)
    for key in (_key("user", username), _key("ip", ip)):
        # add() starts the window only on the first failure; incr() keeps its expiry.
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)


def login_failures_clear(*, username: str) -> None:
    cache.delete(_key("user", username))


def _practitioner_deactivated(user: User) -> bool:
    practitioner = getattr(user, "practitioner", None)
    return practitioner is not None and not practitioner.is_active


def password_check(*, username: str, password: str, ip: str) -> PasswordCheck:
    if login_throttled(username=username, ip=ip):
        user_login_failed.send(sender=__name__, credentials={"username": username}, step="locked")
        return PasswordCheck(PasswordOutcome.THROTTLED)
    # Exact match on the stored normalised form: not PostgreSQL's case-insensitive match,
    # which folds more letters than the lockout key did (ſ → S) and let a look-alike name
    # reach a locked account with a fresh counter.
    user = User.objects.filter(username=username_normalize(username)).first()
    if user is None:
        # Spend the same time as for a real account, so timing does not tell them apart.
        make_password(password)
        login_failure_record(username=username, ip=ip)
        return PasswordCheck(PasswordOutcome.INVALID)
    if not user.check_password(password):
        login_failure_record(username=username, ip=ip)
        return PasswordCheck(PasswordOutcome.INVALID)
    if not user.is_active or _practitioner_deactivated(user):
        return PasswordCheck(PasswordOutcome.INACTIVE, user)
    if requires_second_factor(user) and not _has_confirmed_device(user):
        return PasswordCheck(PasswordOutcome.NO_SECOND_FACTOR, user)
    return PasswordCheck(PasswordOutcome.OK, user)


def _has_confirmed_device(user: User) -> bool:
    from django_otp import user_has_device

    return bool(user_has_device(user, confirmed=True))


def totp_verify(*, user: User, code: str, ip: str) -> TOTPDevice | None:
    """The user's TOTP device that accepts this code, or None (the failure is counted).
    django-otp also slows down repeated failures per device and refuses a replayed code."""
    if login_throttled(username=user.username, ip=ip):
        user_login_failed.send(
            sender=__name__, credentials={"username": user.username}, step="locked"
        )
        return None
    token = code.strip().replace(" ", "")
    with transaction.atomic():
        for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(token):
                return device
    login_failure_record(username=user.username, ip=ip, step="second_factor")
    return None
