"""Writes on the patient record's clinical context by a prescriber: measures, pregnancy and
breastfeeding, allergies, current treatments. Each change tells the apps built on the record
(`patient_record_changed`, in the same transaction: the prescriptions trace it and analyse an
open draft again)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from practitioners.models import User

from .models import Allergy, CurrentTreatment, Patient
from .signals import patient_record_changed

CLINICAL_FIELDS = (
    "weight_kg",
    "height_cm",
    "creatinine_clearance",
    "creatinine_clearance_measured_on",
    "pregnancy_weeks",
    "breastfeeding",
)


def _changed(*, patient: Patient, acting_user: User, what: list[str]) -> None:
    patient_record_changed.send(sender=Patient, patient=patient, user=acting_user, fields=what)


@transaction.atomic
def patient_clinical_context_update(
    *, patient: Patient, acting_user: User, values: dict[str, Any]
) -> list[str]:
    """Apply the values (already validated by the form) and return the fields that changed."""
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    changed = [
        name for name in CLINICAL_FIELDS if name in values and getattr(locked, name) != values[name]
    ]
    if not changed:
        return []
    for name in changed:
        setattr(locked, name, values[name])
    locked.save(update_fields=[*changed, "updated_at"])
    _changed(patient=locked, acting_user=acting_user, what=changed)
    return changed


@transaction.atomic
def patient_allergy_add(*, patient: Patient, acting_user: User, allergy: Allergy) -> Allergy:
    allergy.patient = patient
    allergy.save()
    _changed(patient=patient, acting_user=acting_user, what=["allergies"])
    return allergy


@transaction.atomic
def patient_allergy_remove(*, allergy: Allergy, acting_user: User) -> None:
    patient = allergy.patient
    allergy.delete()
    _changed(patient=patient, acting_user=acting_user, what=["allergies"])


@transaction.atomic
def patient_treatment_add(
    *, patient: Patient, acting_user: User, treatment: CurrentTreatment
) -> CurrentTreatment:
    treatment.patient = patient
    treatment.save()
    _changed(patient=patient, acting_user=acting_user, what=["current_treatments"])
    return treatment


@transaction.atomic
def patient_treatment_remove(*, treatment: CurrentTreatment, acting_user: User) -> None:
    patient = treatment.patient
    treatment.delete()
    _changed(patient=patient, acting_user=acting_user, what=["current_treatments"])
