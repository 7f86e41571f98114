"""Writes about accounts, practitioners and exercise contexts. Each names its actor and leaves
an account event in the same transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from .models import (
    AccountEvent,
    AccountEventKind,
    ExerciseContext,
    Practitioner,
    Profession,
    Role,
    User,
)
from .usernames import username_normalize


def account_event_record(
    *, user: User, acting_user: User, kind: AccountEventKind, detail: dict[str, Any] | None = None
) -> AccountEvent:
    return AccountEvent.objects.create(
        user=user, acting_user=acting_user, kind=kind, detail=detail or {}
    )


@transaction.atomic
def user_logout_everywhere(*, user: User, acting_user: User) -> User:
    """Close every open session of the user: sessions carry the generation they were opened
    under, and the session middleware ends those with an older one."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    account_event_record(
        user=user, acting_user=acting_user, kind=AccountEventKind.LOGOUT_EVERYWHERE
    )
    return user


@transaction.atomic
def exercise_context_choose(
    *, practitioner: Practitioner, exercise_context_id: int, acting_user: User
) -> ExerciseContext:
    """Make one of the practitioner's own active contexts the current one and remember it as
    the last used."""
    context = (
        ExerciseContext.objects.filter(
            pk=exercise_context_id, practitioner=practitioner, is_active=True
        )
        .select_related("practitioner")
        .first()
    )
    if context is None:
        raise ValidationError(_("Ce lieu d'exercice n'est pas disponible pour votre compte."))
    if practitioner.last_exercise_context_id != context.pk:
        practitioner.last_exercise_context = context
        practitioner.save(update_fields=["last_exercise_context", "updated_at"])
    account_event_record(
        user=practitioner.user,
        acting_user=acting_user,
        kind=AccountEventKind.EXERCISE_CONTEXT_CHOSEN,
        detail={"exercise_context_id": context.pk},
    )
    return context


def totp_device_ensure(*, user: User) -> TOTPDevice:
    """The user's confirmed TOTP device, created on first need."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="origami", confirmed=True)
    return device


@transaction.atomic
def totp_device_reset(*, device: TOTPDevice, acting_user: User) -> TOTPDevice:
    """A new secret for a lost or exposed authenticator: the old codes stop working at once.
    The caller shows the new secret once, to hand it over; it is never shown again. The account
    event names the device, never its key."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    device.key = default_key()
    device.drift = 0
    device.last_t = -1
    device.confirmed = True
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    account_event_record(
        user=device.user,
        acting_user=acting_user,
        kind=AccountEventKind.TOTP_RESET,
        detail={"device_id": device.pk},
    )
    return device


@transaction.atomic
def practitioner_account_create(
    *,
    acting_user: User,
    username: str,
    password: str,
    first_name: str,
    last_name: str,
    email: str = "",
    rpps: str,
    profession: str = Profession.PHYSICIAN,
    specialty: str = "",
    context_name: str,
    finess: str = "",
    am_number: str = "",
    address: str,
    postcode: str,
    city: str,
    phone: str = "",
) -> Practitioner:
    """Create a prescriber account in one go: the user, the practitioner with its RPPS, the
    first exercise context and the TOTP device of the second factor. Inputs are validated the
    same way as the admin forms do; nothing is saved when one of them is wrong."""
    user = User(
        username=username_normalize(username),
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=Role.PRESCRIBER,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    practitioner = Practitioner(user=user, rpps=rpps, profession=profession, specialty=specialty)
    practitioner.full_clean()
    practitioner.save()
    context = ExerciseContext(
        practitioner=practitioner,
        name=context_name,
        finess=finess,
        am_number=am_number,
        address=address,
        postcode=postcode,
        city=city,
        phone=phone,
    )
    context.full_clean()
    context.save()
    totp_device_ensure(user=user)
    account_event_record(
        user=user,
        acting_user=acting_user,
        kind=AccountEventKind.ACCOUNT_CREATED,
        detail={"rpps": practitioner.rpps, "role": user.role},
    )
    return practitioner
