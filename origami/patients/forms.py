"""Forms of the patient record's clinical context, edited by the prescriber."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Allergy, CurrentTreatment, Patient


class ClinicalContextForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "weight_kg",
            "height_cm",
            "creatinine_clearance",
            "creatinine_clearance_measured_on",
            "pregnancy_weeks",
            "breastfeeding",
        ]
        # A date field takes and gives ISO dates only, whatever the page's language: in the
        # French format the browser shows the recorded date as empty, and the next save of the
        # form is refused for a clearance "without its date".
        widgets = {
            "creatinine_clearance_measured_on": forms.DateInput(
                format="%Y-%m-%d", attrs={"type": "date"}
            )
        }
        labels = {
            "pregnancy_weeks": _("Grossesse (SA)"),
            "creatinine_clearance": _("Clairance (ml/min)"),
            "creatinine_clearance_measured_on": _("Mesurée le"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The figures as the prescriber wrote them: "20", not the column's "20.00".
        for name in ("weight_kg", "creatinine_clearance"):
            value = self.initial.get(name)
            if isinstance(value, Decimal):
                self.initial[name] = format(value.normalize(), "f")


class AllergyForm(forms.ModelForm):
    prefix = "allergy"

    class Meta:
        model = Allergy
        fields = ["substance", "reaction"]


class TreatmentForm(forms.ModelForm):
    prefix = "treatment"

    class Meta:
        model = CurrentTreatment
        fields = ["label", "cis", "posology"]
        labels = {"cis": _("Code CIS (facultatif)")}
