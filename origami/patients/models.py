"""The host application's patient record, as far as prescribing needs it.

Identity follows the INS référentiel (traits, NIR / NIA with its OID, the identity status);
the physiological state is what a prescription analysis reads (DOMAIN.md §2).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from origami.scrubbing import patient_names_add

from .identifiers import format_nir, validate_cis, validate_nir
from .posology import PosologyError, posology_parse


class Sex(models.TextChoices):
    FEMALE = "F", _("Féminin")
    MALE = "M", _("Masculin")
    UNKNOWN = "U", _("Indéterminé")


class InsOid(models.TextChoices):
    """OID of the authority that assigned the INS (référentiel INS)."""

    NIR = "1.2.250.1.213.1.4.8", _("NIR")
    NIA = "1.2.250.1.213.1.4.9", _("NIA")
    TEST = "1.2.250.1.213.1.4.10", _("NIR / NIA de test")
    DEMO = "1.2.250.1.213.1.4.11", _("NIR / NIA de démonstration")


class IdentityStatus(models.TextChoices):
    """The four identity statuses of the INS référentiel."""

    PROVISIONAL = "provisional", _("Identité provisoire")
    RECOVERED = "recovered", _("Identité récupérée")
    VALIDATED = "validated", _("Identité validée")
    QUALIFIED = "qualified", _("Identité qualifiée")


class Breastfeeding(models.TextChoices):
    NONE = "none", _("Non")
    UNDER_ONE_MONTH = "under_1_month", _("Oui, enfant de moins d'un mois")
    OVER_ONE_MONTH = "over_1_month", _("Oui, enfant de plus d'un mois")


class HepaticInsufficiency(models.TextChoices):
    NONE = "none", _("Aucune")
    MODERATE = "moderate", _("Modérée")
    SEVERE = "severe", _("Sévère")


class Patient(models.Model):
    last_name = models.CharField(_("nom d'usage"), max_length=100)
    first_name = models.CharField(_("prénom"), max_length=100)
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    birth_first_names = models.CharField(
        _("prénoms de naissance"), max_length=200, help_text=_("Dans l'ordre de l'état civil.")
    )
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date de naissance"))
    birthplace_cog = models.CharField(
        _("lieu de naissance (code COG)"),
        max_length=5,
        blank=True,
        help_text=_("Code officiel géographique INSEE de la commune ou du pays de naissance."),
    )
    nir = models.CharField(
        _("NIR / NIA"),
        max_length=15,
        blank=True,
        validators=[validate_nir],
        help_text=_("15 caractères clé comprise, sans espaces. 2A / 2B pour la Corse."),
        error_messages={"unique": _("Un patient avec ce NIR existe déjà.")},
    )
    ins_oid = models.CharField(_("OID de l'INS"), max_length=32, choices=InsOid.choices, blank=True)
    identity_status = models.CharField(
        _("statut de l'identité"),
        max_length=16,
        choices=IdentityStatus.choices,
        default=IdentityStatus.PROVISIONAL,
    )

    weight_kg = models.DecimalField(
        _("poids (kg)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    height_cm = models.PositiveSmallIntegerField(_("taille (cm)"), null=True, blank=True)
    creatinine_clearance = models.DecimalField(
        _("clairance de la créatinine (ml/min)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
    )
    creatinine_clearance_measured_on = models.DateField(
        _("clairance mesurée le"), null=True, blank=True
    )
    pregnancy_weeks = models.PositiveSmallIntegerField(
        _("grossesse (semaines d'aménorrhée)"),
        null=True,
        blank=True,
        help_text=_("Vide si la patiente n'est pas enceinte."),
    )
    breastfeeding = models.CharField(
        _("allaitement"), max_length=16, choices=Breastfeeding.choices, default=Breastfeeding.NONE
    )
    hepatic_insufficiency = models.CharField(
        _("insuffisance hépatique"),
        max_length=16,
        choices=HepaticInsufficiency.choices,
        default=HepaticInsufficiency.NONE,
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["last_name", "first_name", "birth_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["nir"],
                condition=~Q(nir=""),
                name="patient_nir_unique",
                violation_error_message=_("Un patient avec ce NIR existe déjà."),
            ),
            models.CheckConstraint(
                condition=Q(nir="") | Q(nir__regex=r"^[0-9]{5}([0-9]{2}|2A|2B)[0-9]{8}$"),
                name="patient_nir_format",
            ),
            models.CheckConstraint(
                condition=Q(nir="", ins_oid="") | (~Q(nir="") & ~Q(ins_oid="")),
                name="patient_nir_has_oid",
                violation_error_message=_("Un NIR doit être accompagné de l'OID de l'INS."),
            ),
            models.CheckConstraint(
                condition=Q(sex__in=[s.value for s in Sex]), name="patient_sex_valid"
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0, weight_kg__lte=400),
                name="patient_weight_range",
                violation_error_message=_(
                    "Le poids doit être supérieur à 0 kg et au plus de 400 kg."
                ),
            ),
            models.CheckConstraint(
                condition=Q(height_cm__isnull=True) | Q(height_cm__gte=20, height_cm__lte=260),
                name="patient_height_range",
                violation_error_message=_("La taille doit être comprise entre 20 et 260 cm."),
            ),
            models.CheckConstraint(
                condition=Q(creatinine_clearance__isnull=True)
                | Q(creatinine_clearance__gte=0, creatinine_clearance__lte=300),
                name="patient_clearance_range",
                violation_error_message=_(
                    "La clairance de la créatinine doit être comprise entre 0 et 300 ml/min."
                ),
            ),
            models.CheckConstraint(
                condition=Q(creatinine_clearance__isnull=True)
                | Q(creatinine_clearance_measured_on__isnull=False),
                name="patient_clearance_dated",
                violation_error_message=_("Indiquez la date de mesure de la clairance."),
            ),
            models.CheckConstraint(
                condition=Q(pregnancy_weeks__isnull=True)
                | Q(pregnancy_weeks__gte=0, pregnancy_weeks__lte=45),
                name="patient_pregnancy_range",
                violation_error_message=_(
                    "La grossesse s'exprime en semaines d'aménorrhée, de 0 à 45."
                ),
            ),
            models.CheckConstraint(
                condition=Q(pregnancy_weeks__isnull=True) | ~Q(sex=Sex.MALE),
                name="patient_pregnancy_not_male",
                violation_error_message=_("Une grossesse ne peut pas être indiquée ici."),
            ),
            models.CheckConstraint(
                condition=Q(breastfeeding__in=[b.value for b in Breastfeeding]),
                name="patient_breastfeeding_valid",
            ),
            models.CheckConstraint(
                condition=Q(hepatic_insufficiency__in=[h.value for h in HepaticInsufficiency]),
                name="patient_hepatic_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.last_name.upper()} {self.first_name}"

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Patient:  # type: ignore[override]
        instance = super().from_db(db, field_names, values)
        # Every patient read in a request or task is "in scope": its names are scrubbed from
        # the logs and Sentry events of that request (origami/scrubbing.py), even when some
        # code wrote them into a message.
        patient_names_add(
            v
            for f in ("last_name", "first_name", "birth_name", "birth_first_names")
            if isinstance(v := instance.__dict__.get(f), str)
        )
        return instance

    @property
    def display_name(self) -> str:
        return str(self)

    @property
    def nir_display(self) -> str:
        return format_nir(self.nir)

    def age_on(self, day: datetime.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())


class Allergy(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="allergies")
    substance = models.CharField(
        _("substance ou classe"),
        max_length=200,
        help_text=_("Par exemple : pénicillines, AINS, amoxicilline."),
    )
    reaction = models.CharField(_("réaction"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("allergie")
        verbose_name_plural = _("allergies")
        ordering = ["substance"]

    def __str__(self) -> str:
        return self.substance


class Pathology(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="pathologies")
    cim10_code = models.CharField(_("code CIM-10"), max_length=8)
    label = models.CharField(_("libellé"), max_length=200)

    class Meta:
        verbose_name = _("pathologie")
        verbose_name_plural = _("pathologies")
        ordering = ["cim10_code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cim10_code__regex=r"^[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?$"),
                name="pathology_cim10_format",
            )
        ]

    def __str__(self) -> str:
        return f"{self.cim10_code} {self.label}"


class LongTermCondition(models.Model):
    """An ALD (affection de longue durée): lines related to it are printed apart (bizone)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="alds")
    label = models.CharField(_("libellé"), max_length=200)
    cim10_code = models.CharField(_("code CIM-10"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("ALD")
        verbose_name_plural = _("ALD")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class CurrentTreatment(models.Model):
    """A treatment the patient takes, as recorded in the host record (free label, optional CIS).
    Treatments from registered prescriptions are derived by the prescription app."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="current_treatments"
    )
    label = models.CharField(_("traitement"), max_length=200)
    cis = models.CharField(_("code CIS"), max_length=8, blank=True, validators=[validate_cis])
    posology = models.CharField(
        _("posologie"),
        max_length=200,
        blank=True,
        help_text=_(
            "Facultative, en saisie rapide : « 1 cp le soir », « 4 cp 1 fois par semaine ». "
            "Sans posologie, l'analyse compte une unité par jour."
        ),
    )

    class Meta:
        verbose_name = _("traitement en cours")
        verbose_name_plural = _("traitements en cours")
        ordering = ["label"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cis="") | Q(cis__regex=r"^[0-9]{8}$"), name="treatment_cis_format"
            )
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.posology.strip():
            try:
                posology_parse(self.posology)
            except PosologyError as error:
                raise ValidationError({"posology": str(error)}) from error
