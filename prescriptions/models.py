"""Prescriptions: drafts and their lines, analyses and alerts, the prescriber's decisions, the
submission outbox and the audit trail.

Three status layers are kept apart (DESIGN.md): business, transmission and dispensing. Decisions,
submission attempts and audit events are append-only; a trigger in the database refuses any
UPDATE or DELETE on them (migration 0002).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class BusinessStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SIGNED = "signed", _("Signée")
    CANCELLED = "cancelled", _("Annulée")
    REPLACED = "replaced", _("Remplacée")


class TransmissionStatus(models.TextChoices):
    NONE = "none", _("Non envoyée")
    QUEUED = "queued", _("En attente d'envoi")
    SENDING = "sending", _("Envoi en cours")
    REGISTERED = "registered", _("Enregistrée")
    REJECTED = "rejected", _("Refusée par Ordoclic")
    HELD = "held", _("En attente de votre décision")


class DispensingStatus(models.TextChoices):
    NONE = "none", _("Non délivrée")
    PARTIAL = "partial", _("Délivrée partiellement")
    FULL = "full", _("Délivrée")


class LineDispensingStatus(models.TextChoices):
    NONE = "none", _("Non délivrée")
    PARTIAL = "partial", _("Délivrée partiellement")
    FULL = "full", _("Délivrée")
    SUBSTITUTED = "substituted", _("Délivrée (substituée)")
    NOT_DELIVERED = "not_delivered", _("Non délivrable")


class CodeSystem(models.TextChoices):
    CIS = "cis", "CIS"
    CIP13 = "cip13", "CIP13"
    UCD = "ucd", "UCD"
    DCI = "dci", "DCI"  # a line prescribed by common name: substance + dosage + form


class FrequencyPeriod(models.TextChoices):
    DAY = "day", _("par jour")
    HOURS_24 = "24h", _("par 24 heures")
    WEEK = "week", _("par semaine")


class DurationUnit(models.TextChoices):
    DAY = "day", _("jours")
    WEEK = "week", _("semaines")
    MONTH = "month", _("mois")


class NonSubstitutableReason(models.TextChoices):
    MTE = "MTE", _("MTE : marge thérapeutique étroite, patient stabilisé")
    EFG = "EFG", _("EFG : enfant de moins de 6 ans, pas de générique à la forme adaptée")
    CIF = "CIF", _("CIF : contre-indication formelle à un excipient de tous les génériques")


class AlertLevel(models.TextChoices):
    CI = "CI", _("Contre-indication")
    ASDEC = "ASDEC", _("Association déconseillée")
    PE = "PE", _("Précaution d'emploi")
    APEC = "APEC", _("À prendre en compte")
    INFO = "INFO", _("Information")


class AnalysisOutcome(models.TextChoices):
    DONE = "done", _("Analyse effectuée")
    UNAVAILABLE = "unavailable", _("Analyse non effectuée : Ordoclic indisponible")
    REJECTED = "rejected", _("Analyse non effectuée : requête refusée")


class Decision(models.TextChoices):
    MODIFY = "modify", _("Modifier la prescription")
    MAINTAIN = "maintain", _("Maintenir")


class SubmissionStatus(models.TextChoices):
    QUEUED = "queued", _("En attente d'envoi")
    SENDING = "sending", _("Envoi en cours")
    REGISTERED = "registered", _("Enregistrée")
    REJECTED = "rejected", _("Refusée")
    HELD = "held", _("En attente de décision")


class AttemptOutcome(models.TextChoices):
    REGISTERED = "registered", _("Enregistrée")
    FOUND = "found", _("Retrouvée par l'identifiant externe")
    REJECTED = "rejected", _("Refusée")
    UNAVAILABLE = "unavailable", _("Ordoclic indisponible")
    HELD = "held", _("Mise en attente de décision")
    FAILED = "failed", _("Erreur de l'application")


class Prescription(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="prescriptions"
    )
    prescriber = models.ForeignKey(
        "practitioners.Practitioner", on_delete=models.PROTECT, related_name="prescriptions"
    )
    exercise_context = models.ForeignKey(
        "practitioners.ExerciseContext",
        on_delete=models.PROTECT,
        related_name="prescriptions",
        null=True,
        blank=True,
    )
    status = models.CharField(
        _("statut"), max_length=16, choices=BusinessStatus.choices, default=BusinessStatus.DRAFT
    )
    transmission_status = models.CharField(
        _("transmission"),
        max_length=16,
        choices=TransmissionStatus.choices,
        default=TransmissionStatus.NONE,
    )
    dispensing_status = models.CharField(
        _("délivrance"),
        max_length=16,
        choices=DispensingStatus.choices,
        default=DispensingStatus.NONE,
    )
    # Bumped by every change of the draft: analyses, alerts and decisions refer to it, and a
    # form sent with an older version is refused instead of overwriting a newer draft.
    version = models.PositiveIntegerField(_("version du brouillon"), default=1)
    # The version whose missing analysis the prescriber acknowledged ("analyse non effectuée").
    analysis_waived_version = models.PositiveIntegerField(null=True, blank=True)
    software_version = models.CharField(_("version du logiciel"), max_length=32, blank=True)
    external_id = models.UUIDField(_("identifiant externe"), default=uuid.uuid4, unique=True)
    ordoclic_id = models.CharField(_("identifiant Ordoclic"), max_length=64, blank=True)
    number = models.CharField(_("numéro unique"), max_length=64, null=True, blank=True, unique=True)
    qr_payload = models.TextField(_("contenu du QR code"), blank=True)
    transmission_error = models.TextField(_("dernier motif de refus"), blank=True)
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("remplace"),
    )
    # The past prescription this one renews (drafting/renewal.py): it goes on, it does not
    # replace it; its lines still running are not current treatments beside this one's.
    renews = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewed_by",
        verbose_name=_("renouvelle"),
    )
    dispensing_follow_up_objection = models.BooleanField(
        _("le patient s'oppose au suivi de la délivrance"), default=False
    )
    share_with_dmp = models.BooleanField(_("envoi vers Mon espace santé"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    consolidated_at = models.DateTimeField(null=True, blank=True)
    # Follow-up (followup.dispensing): the time and id of the last dispensing state applied
    # (events older than it are ignored, so the state never goes back), and the last poll.
    dispensing_updated_at = models.DateTimeField(null=True, blank=True)
    dispensing_event_id = models.CharField(max_length=64, blank=True)
    dispensing_checked_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ordonnance")
        verbose_name_plural = _("ordonnances")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["prescriber", "status", "-created_at"]),
            models.Index(fields=["patient", "-created_at"]),
            # webhook events name the prescription by Ordoclic's id
            models.Index(fields=["ordoclic_id"], name="prescription_ordoclic_id"),
            # the alert insight reads the prescriptions signed in a period
            models.Index(fields=["signed_at"], name="prescription_signed_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BusinessStatus.values), name="prescription_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(transmission_status__in=TransmissionStatus.values),
                name="prescription_transmission_valid",
            ),
            models.CheckConstraint(
                condition=Q(dispensing_status__in=DispensingStatus.values),
                name="prescription_dispensing_valid",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__regex=r"^[A-Z0-9]+$"),
                name="prescription_number_format",
            ),
            models.CheckConstraint(
                condition=Q(status=BusinessStatus.DRAFT, transmission_status="none")
                | (
                    ~Q(status=BusinessStatus.DRAFT)
                    & Q(signed_at__isnull=False, exercise_context__isnull=False)
                    & ~Q(software_version="")
                ),
                name="prescription_signed_is_frozen",
            ),
            models.CheckConstraint(
                condition=~Q(transmission_status=TransmissionStatus.REGISTERED)
                | Q(number__isnull=False, registered_at__isnull=False),
                name="prescription_registered_has_number",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="prescription_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Ordonnance {self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == BusinessStatus.DRAFT


class PrescriptionLine(models.Model):
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    drug_code_system = models.CharField(
        max_length=8, choices=CodeSystem.choices, default=CodeSystem.CIS
    )
    # a CIS / CIP13 / UCD, or for a DCI line its substances ("amoxicilline + acide clavulanique")
    drug_code = models.CharField(_("code du médicament"), max_length=255)
    label = models.CharField(_("médicament"), max_length=255)
    substance = models.CharField(_("DCI"), max_length=255, blank=True)
    # a DCI line's strength, one per substance joined by " + " ("1 g", "500 mg + 62,5 mg")
    dosage = models.CharField(_("dosage"), max_length=120, blank=True)
    form = models.CharField(_("forme"), max_length=120, blank=True)
    route = models.CharField(_("voie"), max_length=64, blank=True)
    # The product's prescription conditions as Ordoclic gave them when the line was written
    # (the wire form of ordoclic_client.contract.PrescriptionConditions): the badges, the rules
    # and the paper copy read them here, so a signed line keeps the conditions it was signed
    # under. Empty: none known.
    conditions = models.JSONField(_("conditions de prescription"), default=dict, blank=True)
    # structured posology (HAS model)
    dose = models.DecimalField(_("dose par prise"), max_digits=10, decimal_places=3)
    unit = models.CharField(_("unité"), max_length=32)
    moments = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    frequency_count = models.PositiveSmallIntegerField(_("prises"), default=1)
    frequency_period = models.CharField(
        max_length=8, choices=FrequencyPeriod.choices, default=FrequencyPeriod.DAY
    )
    as_needed = models.BooleanField(_("si besoin"), default=False)
    max_per_24h = models.DecimalField(
        _("maximum par 24 h"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    duration_value = models.PositiveSmallIntegerField(_("durée"), null=True, blank=True)
    duration_unit = models.CharField(
        max_length=8, choices=DurationUnit.choices, default=DurationUnit.DAY
    )
    posology_text = models.CharField(_("posologie"), max_length=500)
    quantity = models.CharField(_("quantité"), max_length=64, blank=True)
    renewals = models.PositiveSmallIntegerField(_("renouvellements"), default=0)
    non_substitutable = models.BooleanField(_("non substituable"), default=False)
    non_substitutable_reason = models.CharField(
        _("motif de non-substitution"),
        max_length=3,
        choices=NonSubstitutableReason.choices,
        blank=True,
    )
    ald = models.BooleanField(_("en rapport avec l'ALD"), default=False)
    non_reimbursable = models.BooleanField(_("non remboursable (NR)"), default=False)
    # The prescriber confirmed the product's conditions are met (initial hospital prescription,
    # specialist-only): traced in the line's audit event.
    conditions_confirmed = models.BooleanField(
        _("conditions de prescription remplies"), default=False
    )
    # "Chevauchement" expressly allowed by the prescriber (a narcotic overlapping the period of
    # an earlier prescription of it), printed on the paper copy.
    overlap_allowed = models.BooleanField(_("chevauchement autorisé"), default=False)
    instructions = models.CharField(_("instructions"), max_length=500, blank=True)
    # Whether the drug is reimbursed (a presentation with a rate), as the drug database said
    # when the line was written; printed "NR" on the paper copy when not. None: not known.
    reimbursable = models.BooleanField(_("remboursable"), null=True, blank=True)
    dispensing_status = models.CharField(
        _("délivrance"), max_length=16, choices=LineDispensingStatus.choices, default="none"
    )
    dispensed_at = models.DateTimeField(null=True, blank=True)
    # False: the drug was picked from origami's drug memory while Ordoclic did not answer; the
    # consolidation checks it against Ordoclic before the analysis and the sending.
    drug_verified = models.BooleanField(_("médicament vérifié auprès d'Ordoclic"), default=True)
    # What that check found when it holds the prescription (the held page names the line).
    drug_check_error = models.CharField(_("vérification du médicament"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("ligne")
        verbose_name_plural = _("lignes")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(dose__gt=0), name="line_dose_positive"),
            models.CheckConstraint(
                condition=Q(frequency_count__gte=1), name="line_frequency_positive"
            ),
            models.CheckConstraint(
                condition=Q(duration_value__isnull=True) | Q(duration_value__gt=0),
                name="line_duration_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_per_24h__isnull=True)
                | Q(as_needed=True, max_per_24h__gte=F("dose")),
                name="line_max_per_24h_as_needed",
            ),
            models.CheckConstraint(condition=Q(renewals__lte=12), name="line_renewals_at_most_12"),
            models.CheckConstraint(
                condition=Q(non_substitutable=False, non_substitutable_reason="")
                | Q(non_substitutable=True, non_substitutable_reason__in=["MTE", "EFG", "CIF"]),
                name="line_non_substitutable_has_reason",
            ),
            models.CheckConstraint(condition=~Q(drug_code=""), name="line_drug_code_present"),
            models.CheckConstraint(
                condition=~Q(drug_code_system="dci", dosage=""), name="line_dci_has_dosage"
            ),
            models.CheckConstraint(condition=~Q(posology_text=""), name="line_posology_present"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def line_ref(self) -> str:
        """The id the analysis echoes back in its alerts."""
        return str(self.pk)


class AnalysisRun(models.Model):
    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, related_name="analysis_runs"
    )
    version = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=AnalysisOutcome.choices)
    reason = models.TextField(blank=True)
    ordoclic_analysis_id = models.CharField(max_length=64, blank=True)
    # SHA-256 of the analysis request: the patient's data and treatments the analysis saw
    # besides the lines of this version. When the record changes (a treatment, an allergy, a
    # weight, another prescription signed), the analysis no longer stands. Empty: not known.
    context = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version", "-pk"]
        indexes = [models.Index(fields=["prescription", "-version"])]

    def __str__(self) -> str:
        return f"{self.prescription_id} v{self.version}: {self.outcome}"


class Alert(models.Model):
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="alerts")
    analysis_run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="alerts")
    version = models.PositiveIntegerField()
    ordoclic_alert_id = models.CharField(max_length=128)
    level = models.CharField(max_length=8, choices=AlertLevel.choices)
    type = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    message = models.TextField()
    action = models.TextField(blank=True)
    line_refs = ArrayField(models.CharField(max_length=32), default=list)
    raw = models.JSONField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["analysis_run", "ordoclic_alert_id"], name="alert_unique_per_run"
            ),
            models.CheckConstraint(condition=Q(level__in=AlertLevel.values), name="alert_level"),
        ]
        indexes = [models.Index(fields=["prescription", "version"])]

    def __str__(self) -> str:
        return f"{self.level} {self.title}"


class AlertDecision(models.Model):
    """The prescriber's call on one alert. Append-only (database trigger)."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="decisions")
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="decisions"
    )
    ordoclic_alert_id = models.CharField(max_length=128)
    level = models.CharField(max_length=8, choices=AlertLevel.choices)
    alert_payload = models.JSONField()
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.TextField(_("justification"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)
    exercise_context = models.ForeignKey(
        "practitioners.ExerciseContext", on_delete=models.PROTECT, null=True, related_name="+"
    )
    version = models.PositiveIntegerField()

    class Meta:
        ordering = ["decided_at", "pk"]
        # the alert insight reads decisions by period
        indexes = [models.Index(fields=["decided_at"], name="decision_decided_at")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision="maintain", level__in=["CI", "ASDEC"], reason=""),
                name="decision_justified_for_ci_asdec",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=Decision.values), name="decision_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.level}"


class AuditAction(models.TextChoices):
    """Every kind of event of the audit trail; the label is what the journal shows."""

    DRAFT_CREATED = "draft_created", _("Brouillon créé")
    LINE_ADDED = "line_added", _("Ligne ajoutée")
    LINE_UPDATED = "line_updated", _("Ligne modifiée")
    LINE_REMOVED = "line_removed", _("Ligne supprimée")
    OPTIONS_UPDATED = "options_updated", _("Options modifiées")
    ANALYSED = "analysed", _("Analyse")
    ALERT_DECIDED = "alert_decided", _("Décision sur une alerte")
    ANALYSIS_WAIVED = "analysis_waived", _("Signature sans analyse acceptée")
    SIGNED = "signed", _("Signée")
    REGISTERED = "registered", _("Enregistrée chez Ordoclic")
    SUBMISSION_HELD = "submission_held", _("Envoi mis en attente")
    SUBMISSION_REQUEUED = "submission_requeued", _("Envoi relancé")
    SUBMISSION_RESTORED = (
        "submission_restored",
        _("Envoi repris après une restauration (recherche avant tout renvoi)"),
    )
    DISPENSING_UPDATED = "dispensing_updated", _("Délivrance mise à jour")
    DISPENSING_EVENT_IGNORED = (
        "dispensing_event_ignored",
        _("Événement de délivrance ignoré (plus ancien)"),
    )
    CANCEL_REQUESTED = "cancel_requested", _("Annulation demandée")
    CANCEL_REFUSED = "cancel_refused", _("Annulation refusée")
    CANCELLED = "cancelled", _("Annulée")
    REPLACED = "replaced", _("Annulée et remplacée")
    REISSUED = "reissued", _("Remplacement créé")
    REPLACEMENT_KEPT_BOTH = (
        "replacement_kept_both",
        _("Remplacement : les deux ordonnances conservées"),
    )
    STAFF_LOOKUP = "staff_lookup", _("Consultation par l'assistance")
    PATIENT_NAME_REVEALED = "patient_name_revealed", _("Nom du patient révélé à l'assistance")
    AUDIT_EXPORTED = "audit_exported", _("Export du journal")
    PATIENT_VIEWED = "patient_viewed", _("Dossier patient consulté")
    INSIGHT_VIEWED = "insight_viewed", _("Indicateurs des alertes consultés")
    INSIGHT_EXPORTED = "insight_exported", _("Indicateurs des alertes exportés")
    FHIR_READ = "fhir_read", _("Lecture FHIR par l'application hôte")
    FHIR_DOWNLOADED = "fhir_downloaded", _("Export FHIR téléchargé")
    PATIENT_RECORD_UPDATED = "patient_record_updated", _("Dossier patient mis à jour")
    PROTOCOL_INSERTED = "protocol_inserted", _("Protocole inséré")
    RENEWED = "renewed", _("Renouvellement créé")
    DRUGS_VERIFIED = (
        "drugs_verified",
        _("Médicaments choisis hors ligne vérifiés auprès d'Ordoclic"),
    )


class AuditEvent(models.Model):
    """Who did what on which prescription. Append-only (database trigger). `details` never
    carries patient identity: ids, versions, levels, outcomes."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=64, choices=AuditAction.choices)
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, null=True, related_name="audit_events"
    )
    exercise_context = models.ForeignKey(
        "practitioners.ExerciseContext", on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["prescription", "at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.prescription_id}"


class Submission(models.Model):
    """The outbox row: created in the signing transaction; Postgres is the record of what must
    be sent. The same idempotency key is reused on every attempt."""

    prescription = models.OneToOneField(
        Prescription, on_delete=models.PROTECT, related_name="submission"
    )
    status = models.CharField(
        max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set and committed before an attempt calls Ordoclic, cleared with its outcome: still set,
    # the attempt died with its calls in flight (prescriptions.outbox).
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True)
    external_id = models.UUIDField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SubmissionStatus.values), name="submission_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"submission {self.pk} ({self.status})"


class SubmissionAttempt(models.Model):
    """One try to register a submission. Append-only (database trigger); no patient data."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="attempt_log")
    at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    latency_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.outcome}"


# --- follow-up: cancellations and webhook receipts (followup.cancellation, .webhooks) -------------


class CancellationReason(models.TextChoices):
    ENTRY_ERROR = "entry_error", _("Erreur de saisie")
    TREATMENT_CHANGED = "treatment_changed", _("Traitement modifié ou arrêté")
    WRONG_PATIENT = "wrong_patient", _("Mauvais patient")
    DUPLICATE = "duplicate", _("Ordonnance en double")
    PATIENT_REFUSED = "patient_refused", _("Refus du patient")
    REPLACED = "replaced", _("Remplacée par une nouvelle ordonnance")
    OTHER = "other", _("Autre motif")


class CancellationStatus(models.TextChoices):
    QUEUED = "queued", _("En attente d'envoi")
    DONE = "done", _("Annulée chez Ordoclic")
    REFUSED = "refused", _("Refusée")


class Cancellation(models.Model):
    """The cancellation outbox: created with the prescriber's request, sent at once and retried
    until Ordoclic answers (Postgres is the record of what must be cancelled)."""

    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, related_name="cancellations"
    )
    reason = models.CharField(_("motif"), max_length=32, choices=CancellationReason.choices)
    comment = models.TextField(_("précision"), blank=True)
    # The replacement whose registration asked for this cancellation (reissue), if any.
    replacement = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=CancellationStatus.choices, default=CancellationStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set and committed before an attempt calls Ordoclic, cleared with its outcome.
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Set when a refusal was shown to the prescriber and they made their call (reissue).
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CancellationStatus.values), name="cancellation_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=CancellationReason.values), name="cancellation_reason_valid"
            ),
            models.CheckConstraint(
                condition=~Q(reason=CancellationReason.OTHER, comment=""),
                name="cancellation_other_has_comment",
            ),
            models.UniqueConstraint(
                fields=["prescription"],
                condition=Q(status__in=["queued", "done"]),
                name="cancellation_one_live_per_prescription",
            ),
        ]

    def __str__(self) -> str:
        return f"cancellation {self.pk} ({self.status})"


class WebhookReceipt(models.Model):
    """One webhook event received and checked; its id is unique, so a replay is refused."""

    event_id = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    prescription = models.ForeignKey(
        Prescription, on_delete=models.PROTECT, null=True, related_name="+"
    )
    outcome = models.CharField(max_length=16)

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class FhirClient(models.Model):
    """An application allowed to read prescriptions in FHIR (the host record), by a bearer token
    an administrator creates. Only the token's SHA-256 is kept: it is shown once, at creation."""

    name = models.CharField(_("application"), max_length=120)
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("début du jeton"), max_length=8, editable=False)
    scope = models.CharField(_("portée"), max_length=16, default="read", editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière lecture"), null=True, blank=True)

    class Meta:
        verbose_name = _("application FHIR")
        verbose_name_plural = _("applications FHIR")
        constraints = [
            models.CheckConstraint(condition=Q(scope="read"), name="fhir_client_read_only")
        ]

    def __str__(self) -> str:
        return self.name


# --- what a prescriber keeps to write faster: favourites and protocols -------------------------


class LineTemplate(models.Model):
    """A line as a prescriber keeps it to write it again: the drug as the catalogue gave it and
    the usual posology (the printed sentence, which parses back to the same posology), duration
    included, and the line's options. Dates and dispensing belong to prescriptions only."""

    drug_code_system = models.CharField(
        max_length=8, choices=CodeSystem.choices, default=CodeSystem.CIS
    )
    drug_code = models.CharField(_("code du médicament"), max_length=13)
    label = models.CharField(_("médicament"), max_length=255)
    substance = models.CharField(_("DCI"), max_length=255, blank=True)
    dosage = models.CharField(_("dosage"), max_length=120, blank=True)
    form = models.CharField(_("forme"), max_length=120, blank=True)
    route = models.CharField(_("voie"), max_length=64, blank=True)
    # the product's prescription conditions when the line was kept (narcotic, hospital-only…)
    conditions = models.JSONField(default=dict, blank=True)
    posology_text = models.CharField(_("posologie"), max_length=500)
    quantity = models.CharField(_("quantité"), max_length=64, blank=True)
    renewals = models.PositiveSmallIntegerField(_("renouvellements"), default=0)
    non_substitutable = models.BooleanField(_("non substituable"), default=False)
    non_substitutable_reason = models.CharField(
        _("motif de non-substitution"),
        max_length=3,
        choices=NonSubstitutableReason.choices,
        blank=True,
    )
    ald = models.BooleanField(_("en rapport avec l'ALD"), default=False)
    instructions = models.CharField(_("instructions"), max_length=500, blank=True)
    non_reimbursable = models.BooleanField(_("non remboursable"), default=False)

    class Meta:
        abstract = True


class Favourite(LineTemplate):
    """One line a prescriber writes often, found first in their drug search."""

    practitioner = models.ForeignKey(
        "practitioners.Practitioner", on_delete=models.CASCADE, related_name="favourites"
    )
    name = models.CharField(_("nom"), max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("favori")
        verbose_name_plural = _("favoris")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="favourite_named"),
            models.CheckConstraint(condition=~Q(drug_code=""), name="favourite_drug_code"),
            models.CheckConstraint(
                condition=~Q(posology_text=""), name="favourite_posology_present"
            ),
            models.CheckConstraint(
                condition=Q(renewals__lte=12), name="favourite_renewals_at_most_12"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Protocol(models.Model):
    """A named set of lines ("Angine adulte"). Personal, or shared with the prescribers of a
    structure (the FINESS or Assurance Maladie number of the author's exercise context): they
    see and insert it, only its author changes it."""

    practitioner = models.ForeignKey(
        "practitioners.Practitioner",
        on_delete=models.CASCADE,
        related_name="protocols",
        verbose_name=_("auteur"),
    )
    name = models.CharField(_("nom"), max_length=120)
    # The exercise context it is shared in (None: personal) and that context's structure
    # identifier at the time ("FINESS:750100208"), which the other prescribers' contexts match.
    shared_context = models.ForeignKey(
        "practitioners.ExerciseContext",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("partagé dans"),
    )
    shared_structure = models.CharField(max_length=24, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("protocole")
        verbose_name_plural = _("protocoles")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="protocol_named"),
            models.UniqueConstraint(
                fields=["practitioner", "name"], name="protocol_name_unique_per_author"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return bool(self.shared_structure)


class ProtocolLine(LineTemplate):
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("ligne de protocole")
        verbose_name_plural = _("lignes de protocole")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(drug_code=""), name="protocol_line_drug_code"),
            models.CheckConstraint(
                condition=~Q(posology_text=""), name="protocol_line_posology_present"
            ),
            models.CheckConstraint(
                condition=Q(renewals__lte=12), name="protocol_line_renewals_at_most_12"
            ),
        ]

    def __str__(self) -> str:
        return self.label


# --- the local drug memory (drugs.memory) ------------------------------------------------------


class DrugSource(models.TextChoices):
    ORDOCLIC = "ordoclic", _("Ordoclic")
    BDPM = "bdpm", _("Import BDPM")
    LINE = "line", _("Ligne d'ordonnance")


class KnownDrug(models.Model):
    """A product as origami last knew it: from Ordoclic's answers (search results, lookups), from
    an import of the public BDPM files, or from a line written before the memory existed. The
    drug search answers from here when Ordoclic does not answer; what it finds is checked
    against Ordoclic before sending. Not health data: the public drug database."""

    cis = models.CharField(_("CIS"), max_length=8, primary_key=True)
    label = models.CharField(_("dénomination"), max_length=255)
    common_name = models.CharField(_("nom commun"), max_length=500, blank=True)
    substance = models.CharField(_("DCI"), max_length=255, blank=True)  # as a line keeps it
    dosage = models.CharField(_("dosage"), max_length=255, blank=True)
    form = models.CharField(_("forme"), max_length=120, blank=True)
    routes = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    default_unit = models.CharField(_("unité par défaut"), max_length=32, blank=True)
    atc = models.CharField(_("ATC"), max_length=16, blank=True)
    marketed = models.BooleanField(_("commercialisé"), default=True)
    holder = models.CharField(_("titulaire"), max_length=255, blank=True)
    # [{"code", "name", "dosage"}], [{"cip13", "label", "reimbursementRate",
    # "reimbursementRatePercent", "priceEur"}], {"id", "label", "type"}: the contract's shapes
    substances = models.JSONField(default=list, blank=True)
    presentations = models.JSONField(default=list, blank=True)
    cip13s = ArrayField(models.CharField(max_length=13), default=list, blank=True)
    generic_group = models.JSONField(null=True, blank=True)
    prescription_conditions = ArrayField(models.TextField(), default=list, blank=True)
    conditions = models.JSONField(default=dict, blank=True)  # contract.PrescriptionConditions
    # Folded words (no accents, lower case) of the label, common name and substances; the
    # generated vector is what the search from memory matches word prefixes against.
    search_text = models.TextField(blank=True)
    # The folded label's beginning: a product whose name starts with the first word typed ranks
    # first, found through a prefix index (a two-letter query matches thousands of products).
    name_key = models.CharField(max_length=64, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("search_text", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    # Digest of the product's facts: an unchanged product is never written again.
    fingerprint = models.CharField(max_length=32)
    source = models.CharField(max_length=8, choices=DrugSource.choices)
    last_seen_at = models.DateTimeField(_("vu chez Ordoclic le"), null=True, blank=True)
    updated_at = models.DateTimeField(_("mis à jour le"))

    class Meta:
        verbose_name = _("médicament connu")
        verbose_name_plural = _("médicaments connus")
        ordering = ["label"]
        indexes = [
            GinIndex(fields=["search_vector"], name="known_drug_search"),
            models.Index(
                fields=["name_key"], opclasses=["varchar_pattern_ops"], name="known_drug_name"
            ),
            GinIndex(fields=["cip13s"], name="known_drug_cip13s"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(cis__regex=r"^[0-9]{8}$"), name="known_drug_cis"),
            models.CheckConstraint(
                condition=Q(source__in=DrugSource.values), name="known_drug_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label
