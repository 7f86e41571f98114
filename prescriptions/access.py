"""Who may see and change a prescription. Every read starts from `prescriptions_visible_to`: a
prescriber sees their own prescriptions and those shared with them (django-guardian object
permission, e.g. a replacing prescriber); nobody else sees any. Every write locks the row through
`prescription_lock_for_change`, which checks the user may change it."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from practitioners.models import Role, User

from .models import Prescription

VIEW_PERM = "prescriptions.view_prescription"
CHANGE_PERM = "prescriptions.change_prescription"


def prescriptions_visible_to(
    *, user: User | AnonymousUser, perm: str = VIEW_PERM
) -> QuerySet[Prescription]:
    if not isinstance(user, User) or user.role != Role.PRESCRIBER:
        return Prescription.objects.none()
    shared = get_objects_for_user(
        user, perm, klass=Prescription, accept_global_perms=False, with_superuser=False
    ).values("pk")
    return Prescription.objects.filter(Q(prescriber__user=user) | Q(pk__in=shared))


def prescription_get_for(*, user: User, pk: int, for_change: bool = False) -> Prescription:
    """The prescription if the user may see it (or change it); 404 otherwise, so that another
    prescriber's prescription is indistinguishable from one that does not exist.

    One plain read by primary key: the prescriber's own prescription (nearly every request) is
    recognised on the row itself; only someone else's goes on to the object-permission check."""
    if not isinstance(user, User) or user.role != Role.PRESCRIBER:
        raise Http404
    found = (
        Prescription.objects.select_related(
            "patient", "prescriber__user", "exercise_context", "replaces", "submission"
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    if found.prescriber.user_id == user.pk:
        return found
    perm = CHANGE_PERM if for_change else VIEW_PERM
    if not prescriptions_visible_to(user=user, perm=perm).filter(pk=pk).exists():
        raise Http404
    return found


def user_may_change(*, user: User, prescription: Prescription) -> bool:
    if prescription.prescriber.user_id == user.pk:
        return True
    return bool(user.has_perm(CHANGE_PERM, prescription))


def prescription_lock_for_change(*, prescription_id: int, user: User) -> Prescription:
    """The prescription locked for the rest of the caller's transaction, once `user` is known to
    be allowed to change it (PermissionDenied otherwise)."""
    prescription = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("prescriber", "patient")
        .get(pk=prescription_id)
    )
    if not user_may_change(user=user, prescription=prescription):
        raise PermissionDenied
    return prescription
