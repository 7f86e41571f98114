"""Staff lookup, for a pharmacist's call: a prescription found by its unique number, with its
status, its prescriber and its lines, and only the patient's initials and birth year. Revealing
the patient's full name asks for a reason. Every lookup and every reveal is an audit event, and
a user's lookups are rate-limited (a counter per user and time window in Redis)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from origami.text import excerpt, length_error
from practitioners.models import Role, User

from ..errors import LookupRefused
from ..models import (
    AuditAction,
    BusinessStatus,
    CancellationStatus,
    DispensingStatus,
    Prescription,
)
from ..records import audit_record

NUMBER_PATTERN = re.compile(r"^[A-Z0-9]{4,64}$")
# What people type between the characters of a number read out on the phone.
SEPARATORS = re.compile(r"[\s\-.·]+")
REASON_MIN_LENGTH = 5


def number_normalise(raw: str) -> str:
    return SEPARATORS.sub("", raw).upper()


@dataclass(frozen=True)
class LookupLine:
    label: str
    posology: str


@dataclass(frozen=True)
class LookupResult:
    number: str
    status: str  # registered, partial, full, cancelled, replaced, cancel_pending
    status_label: str
    registered_at: datetime | None
    cancelled_at: datetime | None
    replaced_by: str  # the number of the prescription that replaces it, if registered
    prescriber_name: str
    prescriber_rpps: str
    structure_name: str
    structure_identifier: tuple[str, str] | None
    lines: list[LookupLine] = field(default_factory=list)
    patient_initials: str = ""
    patient_birth_year: int | None = None
    patient_full_name: str = ""  # only after a reveal


def _check_staff(user: User) -> None:
    if not user.is_authenticated or user.role != Role.STAFF:
        raise PermissionDenied


def lookup_rate_check(*, user: User) -> None:
    """Count this lookup; refuse it beyond STAFF_LOOKUP_RATE_LIMIT in the current window."""
    window = max(1, int(settings.STAFF_LOOKUP_RATE_WINDOW))
    limit = int(settings.STAFF_LOOKUP_RATE_LIMIT)
    key = f"staff-lookup:{window}:{user.pk}:{int(time.time()) // window}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        minutes = max(1, window // 60)
        raise LookupRefused(
            _(
                "Trop de recherches en peu de temps (au plus %(limit)s en %(minutes)s minutes). "
                "Patientez quelques minutes avant de rechercher à nouveau."
            )
            % {"limit": limit, "minutes": minutes},
            rate_limited=True,
        )


def _find(number: str) -> Prescription | None:
    return (
        Prescription.objects.select_related("prescriber__user", "exercise_context", "patient")
        .prefetch_related("lines")
        .filter(number=number)
        .first()
    )


def _checked_number(raw: str) -> str:
    too_long = length_error(raw, limit="lookup_number", what=_("Le numéro"))
    if too_long:
        raise LookupRefused(too_long)
    number = number_normalise(raw)
    if not number:
        raise LookupRefused(_("Saisissez le numéro unique de l'ordonnance."))
    if not NUMBER_PATTERN.match(number):
        raise LookupRefused(
            _(
                "« %(number)s » n'est pas un numéro d'ordonnance : il ne contient que des lettres "
                "et des chiffres (entre 4 et 64). Vérifiez-le auprès du pharmacien."
            )
            % {"number": excerpt(number)}
        )
    return number


def prescription_lookup(*, acting_user: User, raw_number: str) -> LookupResult | None:
    """The prescription with this number (None when there is none). Traced, rate-limited.
    Not atomic on purpose: a malformed number is traced too, before its refusal is raised."""
    _check_staff(acting_user)
    lookup_rate_check(user=acting_user)
    try:
        number = _checked_number(raw_number)
    except LookupRefused:
        audit_record(
            actor=acting_user,
            action=AuditAction.STAFF_LOOKUP,
            prescription=None,
            details={"outcome": "malformed"},
        )
        raise
    prescription = _find(number)
    audit_record(
        actor=acting_user,
        action=AuditAction.STAFF_LOOKUP,
        prescription=prescription,
        details={"outcome": "found" if prescription else "unknown", "number": number},
    )
    return _result(prescription) if prescription else None


@transaction.atomic
def prescription_patient_reveal(
    *, acting_user: User, raw_number: str, reason: str
) -> LookupResult | None:
    """The same result with the patient's full name, for a reason that is traced."""
    _check_staff(acting_user)
    reason = reason.strip()
    too_long = length_error(reason, limit="reveal_reason", what=_("Le motif"))
    if too_long:
        raise LookupRefused(too_long)
    if len(reason) < REASON_MIN_LENGTH:
        raise LookupRefused(
            _("Indiquez pourquoi vous avez besoin du nom complet du patient (motif obligatoire).")
        )
    lookup_rate_check(user=acting_user)
    number = _checked_number(raw_number)
    prescription = _find(number)
    if prescription is None:
        return None
    audit_record(
        actor=acting_user,
        action=AuditAction.PATIENT_NAME_REVEALED,
        prescription=prescription,
        details={"number": number, "reason": reason},
    )
    result = _result(prescription)
    patient = prescription.patient
    return LookupResult(
        **{
            **result.__dict__,
            "patient_full_name": f"{patient.last_name.upper()} {patient.first_name}",
        }
    )


def _status(prescription: Prescription) -> tuple[str, str, str]:
    if prescription.status == BusinessStatus.REPLACED:
        replacement = (
            Prescription.objects.filter(replaces=prescription, number__isnull=False)
            .order_by("-registered_at")
            .first()
        )
        number = replacement.number if replacement and replacement.number else ""
        return "replaced", _("Annulée et remplacée"), number
    if prescription.status == BusinessStatus.CANCELLED:
        return "cancelled", _("Annulée"), ""
    if prescription.dispensing_status == DispensingStatus.FULL:
        return "full", _("Délivrée en totalité"), ""
    if prescription.dispensing_status == DispensingStatus.PARTIAL:
        return "partial", _("Délivrée en partie"), ""
    if prescription.cancellations.filter(status=CancellationStatus.QUEUED).exists():
        return "cancel_pending", _("Valide, annulation demandée par le prescripteur"), ""
    return "registered", _("Valide, pas encore délivrée"), ""


def _initials(*names: str) -> str:
    return "".join(f"{name.strip()[0].upper()}." for name in names if name.strip())


def _result(prescription: Prescription) -> LookupResult:
    status, label, replaced_by = _status(prescription)
    practitioner = prescription.prescriber
    context = prescription.exercise_context
    patient = prescription.patient
    return LookupResult(
        number=prescription.number or "",
        status=status,
        status_label=label,
        registered_at=prescription.registered_at,
        cancelled_at=prescription.cancelled_at,
        replaced_by=replaced_by,
        prescriber_name=practitioner.display_name,
        prescriber_rpps=practitioner.rpps,
        structure_name=context.name if context else "",
        structure_identifier=context.structure_identifier if context else None,
        lines=[
            LookupLine(label=line.label, posology=line.posology_text)
            for line in prescription.lines.all()
        ],
        patient_initials=_initials(patient.first_name, patient.last_name),
        patient_birth_year=patient.birth_date.year,
    )
