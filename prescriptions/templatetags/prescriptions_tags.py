"""Template helpers of the prescription screens, and the patient page's prescription slot."""

from __future__ import annotations

from typing import Any

from django import template

from ..selectors import prescription_history_for_patient

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    if not mapping:
        return None
    return mapping.get(key)


@register.inclusion_tag("prescriptions/_patient_history.html", takes_context=True)
def patient_prescriptions(context: template.Context, patient: Any) -> dict[str, Any]:
    """The patient's prescriptions this user may see, for the patient page."""
    request = context["request"]
    return {
        "patient": patient,
        "prescriptions": list(
            prescription_history_for_patient(user=request.user, patient_id=patient.pk)[:50]
        ),
        "csrf_token": context.get("csrf_token"),
        "user": request.user,
    }
