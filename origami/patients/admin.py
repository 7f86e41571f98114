from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .identifiers import clean_nir
from .models import Allergy, CurrentTreatment, LongTermCondition, Pathology, Patient


class PatientAdminForm(forms.ModelForm):
    # Accepts the NIR as people type it (with spaces); stored compact.
    nir = forms.CharField(
        label=_("NIR / NIA"),
        max_length=25,
        required=False,
        help_text=_("15 caractères clé comprise. 2A / 2B pour une naissance en Corse."),
    )

    class Meta:
        model = Patient
        fields = [
            "last_name",
            "first_name",
            "birth_name",
            "birth_first_names",
            "sex",
            "birth_date",
            "birthplace_cog",
            "nir",
            "ins_oid",
            "identity_status",
            "weight_kg",
            "height_cm",
            "creatinine_clearance",
            "creatinine_clearance_measured_on",
            "pregnancy_weeks",
            "breastfeeding",
            "hepatic_insufficiency",
        ]

    def clean_nir(self) -> str:
        value = self.cleaned_data.get("nir") or ""
        return clean_nir(value) if value.strip() else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("nir") and not data.get("ins_oid"):
            self.add_error("ins_oid", _("Indiquez l'OID de l'INS qui accompagne ce NIR."))
        if not data.get("nir") and data.get("ins_oid"):
            self.add_error("nir", _("Un OID d'INS est indiqué : saisissez le NIR correspondant."))
        return data


class AllergyInline(admin.TabularInline):
    model = Allergy
    extra = 0


class PathologyInline(admin.TabularInline):
    model = Pathology
    extra = 0


class LongTermConditionInline(admin.TabularInline):
    model = LongTermCondition
    extra = 0


class CurrentTreatmentInline(admin.TabularInline):
    model = CurrentTreatment
    extra = 0


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    form = PatientAdminForm
    list_display = ["__str__", "birth_date", "sex", "nir", "identity_status"]
    list_filter = ["sex", "identity_status"]
    search_fields = ["last_name", "birth_name", "first_name", "nir"]
    inlines = [AllergyInline, PathologyInline, LongTermConditionInline, CurrentTreatmentInline]
    fieldsets = [
        (
            _("Identité (traits INS)"),
            {
                "fields": [
                    ("last_name", "first_name"),
                    ("birth_name", "birth_first_names"),
                    ("sex", "birth_date", "birthplace_cog"),
                    ("nir", "ins_oid"),
                    "identity_status",
                ]
            },
        ),
        (
            _("État physiologique"),
            {
                "fields": [
                    ("weight_kg", "height_cm"),
                    ("creatinine_clearance", "creatinine_clearance_measured_on"),
                    ("pregnancy_weeks", "breastfeeding"),
                    "hepatic_insufficiency",
                ]
            },
        ),
    ]
