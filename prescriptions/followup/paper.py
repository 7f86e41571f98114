"""The paper copy of a signed prescription: what it prints and its QR code."""

from __future__ import annotations

from dataclasses import dataclass

import segno

from origami.patients.models import Patient

from ..models import Prescription, PrescriptionLine


def qr_data_uri(prescription: Prescription) -> str:
    """The QR code of the paper copy as an SVG data URI (no inline style: strict CSP)."""
    if not prescription.qr_payload:
        return ""
    return str(segno.make(prescription.qr_payload, error="m").svg_data_uri(scale=4, border=2))


@dataclass(frozen=True)
class PaperCopy:
    prescription: Prescription
    patient: Patient
    ald_lines: list[PrescriptionLine]
    other_lines: list[PrescriptionLine]
    has_ald: bool
    qr: str
    renewal_max: int


def paper_copy_for(*, prescription: Prescription) -> PaperCopy:
    patient = Patient.objects.prefetch_related("alds").get(pk=prescription.patient_id)
    lines = list(prescription.lines.all())
    return PaperCopy(
        prescription=prescription,
        patient=patient,
        ald_lines=[line for line in lines if line.ald],
        other_lines=[line for line in lines if not line.ald],
        has_ald=bool(patient.alds.all()) or any(line.ald for line in lines),
        qr=qr_data_uri(prescription),
        renewal_max=max((line.renewals for line in lines), default=0),
    )
