"""Renew: a new draft with the lines of a past prescription, for the same patient, dated when it
is signed and analysed against the patient's record of today. The past prescription stays as it
is (unlike a reissue, `followup/reissue.py`, which replaces and cancels it)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from practitioners.models import ExerciseContext, User

from ..errors import PrescriptionError
from ..models import AuditAction, BusinessStatus, Prescription, PrescriptionLine
from ..records import audit_record
from .services import prescription_create_draft

# What a new line copies of a past one; the dispensing fields start afresh.
LINE_FIELDS = [
    "position",
    "drug_code_system",
    "drug_code",
    "label",
    "substance",
    "dosage",
    "form",
    "route",
    "conditions",
    "dose",
    "unit",
    "moments",
    "frequency_count",
    "frequency_period",
    "as_needed",
    "max_per_24h",
    "duration_value",
    "duration_unit",
    "posology_text",
    "quantity",
    "renewals",
    "non_substitutable",
    "non_substitutable_reason",
    "ald",
    "instructions",
    "non_reimbursable",
    "reimbursable",
    "conditions_confirmed",
    "overlap_allowed",
]

# A prescription that was signed (whatever became of its transmission) can be renewed; a draft
# is still being written, a cancelled one was stopped on purpose.
RENEWABLE = (BusinessStatus.SIGNED, BusinessStatus.REPLACED)


def lines_copy(*, source: Prescription, into: Prescription) -> list[PrescriptionLine]:
    return PrescriptionLine.objects.bulk_create(
        [
            PrescriptionLine(
                prescription=into, **{name: getattr(line, name) for name in LINE_FIELDS}
            )
            for line in source.lines.order_by("position", "pk")
        ]
    )


@transaction.atomic
def prescription_renew(
    *,
    prescription: Prescription,
    acting_user: User,
    exercise_context: ExerciseContext | None,
) -> Prescription:
    """A new draft of the acting prescriber with the same lines and the patient's choices. The
    caller has checked that the user may see ``prescription``."""
    practitioner = getattr(acting_user, "practitioner", None)
    if practitioner is None:
        raise PermissionDenied
    if prescription.status not in RENEWABLE:
        raise PrescriptionError(
            _("Seule une ordonnance signée peut être renouvelée.")
            if prescription.is_draft
            else _("Une ordonnance annulée ne se renouvelle pas : rédigez-en une nouvelle.")
        )
    if exercise_context is not None and exercise_context.practitioner_id != practitioner.pk:
        exercise_context = None
    new = prescription_create_draft(
        patient=prescription.patient,
        prescriber=practitioner,
        acting_user=acting_user,
        exercise_context=exercise_context,
    )
    new.dispensing_follow_up_objection = prescription.dispensing_follow_up_objection
    new.share_with_dmp = prescription.share_with_dmp
    new.renews = prescription
    new.save(
        update_fields=["dispensing_follow_up_objection", "share_with_dmp", "renews", "updated_at"]
    )
    lines = lines_copy(source=prescription, into=new)
    audit_record(
        actor=acting_user,
        action=AuditAction.RENEWED,
        prescription=new,
        details={"renews": prescription.pk, "lines": len(lines), "version": new.version},
    )
    return new
