"""The follow-up block of a sent prescription's page: dispensing (unless the patient objected),
cancellation and reissue, and the link between a prescription and the one it replaces."""

from __future__ import annotations

from typing import Any

from django import template

from ..cancellation import cancellation_pending, cancellation_refusal_reason
from ..models import CancellationStatus, Prescription, TransmissionStatus
from ..reissue import reissue_pending_decision, replacement_of

register = template.Library()


@register.inclusion_tag("prescriptions/followup/_followup.html", takes_context=True)
def prescription_followup(context: template.Context, prescription: Prescription) -> dict[str, Any]:
    registered = prescription.transmission_status == TransmissionStatus.REGISTERED
    pending = cancellation_pending(prescription=prescription)
    latest = prescription.cancellations.order_by("-pk").first()
    replacement = replacement_of(prescription)
    open_to_change = registered and not pending and not cancellation_refusal_reason(prescription)
    return {
        "prescription": prescription,
        "csrf_token": context.get("csrf_token"),
        "registered": registered,
        "show_dispensing": registered and not prescription.dispensing_follow_up_objection,
        "lines": list(prescription.lines.order_by("position", "pk")),
        "pending": pending,
        "done": prescription.cancellations.filter(status=CancellationStatus.DONE).first(),
        "refused": latest
        if latest is not None and latest.status == CancellationStatus.REFUSED
        else None,
        "can_cancel": open_to_change,
        "can_reissue": open_to_change and replacement is None,
        "replacement": replacement,
        "replaces": prescription.replaces,
        "decision": reissue_pending_decision(prescription=prescription),
    }


@register.inclusion_tag("prescriptions/followup/_replaces.html")
def prescription_replaces(prescription: Prescription) -> dict[str, Any]:
    """One line saying which prescription this one replaces (for the draft screen too)."""
    return {"replaces": prescription.replaces}


@register.filter
def number_groups(number: str) -> str:
    """A unique number in groups of four, easier to read out on the phone."""
    return " ".join(number[i : i + 4] for i in range(0, len(number or ""), 4))
