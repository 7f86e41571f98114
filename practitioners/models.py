"""Accounts of origami: users with a role, practitioners tied to an RPPS, exercise contexts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from .identifiers import validate_am_number, validate_finess, validate_rpps
from .usernames import username_normalize


class Role(models.TextChoices):
    PRESCRIBER = "prescriber", _("Prescripteur")
    STAFF = "staff", _("Assistance (consultation du statut)")
    ADMIN = "admin", _("Administrateur")


class OrigamiUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # Django's own authentication paths (ModelBackend) find the account by the same form
        # as origami's login.
        return super().get_by_natural_key(username_normalize(username or ""))

    def create_superuser(  # type: ignore[override]
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """An account of origami. `is_staff` (access to the Django admin) is reserved to the admin
    role, which the database enforces."""

    role = models.CharField(_("rôle"), max_length=16, choices=Role.choices, default=Role.STAFF)
    # Bumped by "Se déconnecter partout": sessions opened under an older value are closed.
    session_generation = models.PositiveIntegerField(_("génération de session"), default=0)

    objects = OrigamiUserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_staff=False) | Q(role=Role.ADMIN), name="user_admin_site_admin_only"
            ),
            # Usernames are stored normalised (NFKC + casefold, see usernames.py); PostgreSQL's
            # case-insensitive match (UPPER) folds a few more letters (ı → I): two accounts it
            # would confuse cannot both exist.
            models.UniqueConstraint(
                Upper("username"),
                name="user_username_upper_unique",
                violation_error_message=_("Cet identifiant est déjà utilisé."),
            ),
        ]

    @classmethod
    def normalize_username(cls, username: str) -> str:
        # Called by Django at creation (create_user, forms' full_clean): one stored form.
        return username_normalize(username) if isinstance(username, str) else username

    @property
    def is_prescriber(self) -> bool:
        return self.role == Role.PRESCRIBER

    @property
    def is_staff_role(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN


class Profession(models.TextChoices):
    PHYSICIAN = "medecin", _("Médecin")
    DENTIST = "chirurgien_dentiste", _("Chirurgien-dentiste")
    MIDWIFE = "sage_femme", _("Sage-femme")
    NURSE = "infirmier", _("Infirmier")
    PHYSIOTHERAPIST = "masseur_kinesitherapeute", _("Masseur-kinésithérapeute")
    PHARMACIST = "pharmacien", _("Pharmacien")
    PEDICURE = "pedicure_podologue", _("Pédicure-podologue")


class OrdoclicLinkStatus(models.TextChoices):
    UNLINKED = "unlinked", _("Non lié")
    LINKED = "linked", _("Lié")
    DEACTIVATED = "deactivated", _("Désactivé chez Ordoclic")
    ERROR = "error", _("Erreur")


class Practitioner(models.Model):
    """A prescriber's professional identity (one per prescriber account)."""

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="practitioner", verbose_name=_("compte")
    )
    rpps = models.CharField(
        _("RPPS"),
        max_length=11,
        unique=True,
        validators=[validate_rpps],
        help_text=_("11 chiffres, le dernier étant la clé de contrôle."),
        error_messages={"unique": _("Un praticien avec ce numéro RPPS existe déjà.")},
    )
    profession = models.CharField(
        _("profession"), max_length=32, choices=Profession.choices, default=Profession.PHYSICIAN
    )
    specialty = models.CharField(_("spécialité"), max_length=120, blank=True)
    is_active = models.BooleanField(
        _("actif"),
        default=True,
        help_text=_("Un praticien désactivé ne peut plus se connecter ni prescrire."),
    )
    last_exercise_context = models.ForeignKey(
        "ExerciseContext",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dernier lieu d'exercice utilisé"),
    )
    ordoclic_link_status = models.CharField(
        _("liaison Ordoclic"),
        max_length=16,
        choices=OrdoclicLinkStatus.choices,
        default=OrdoclicLinkStatus.UNLINKED,
    )
    ordoclic_professional_id = models.UUIDField(
        _("identifiant professionnel Ordoclic"), null=True, blank=True
    )
    ordoclic_verified_at = models.DateTimeField(_("dernière vérification"), null=True, blank=True)
    ordoclic_last_error = models.TextField(_("dernière erreur Ordoclic"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("praticien")
        verbose_name_plural = _("praticiens")
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(condition=Q(rpps__regex=r"^[0-9]{11}$"), name="rpps_11_digits"),
            models.CheckConstraint(
                condition=Q(ordoclic_link_status__in=[s.value for s in OrdoclicLinkStatus]),
                name="practitioner_link_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(ordoclic_link_status=OrdoclicLinkStatus.LINKED)
                | Q(ordoclic_professional_id__isnull=False),
                name="practitioner_linked_has_professional_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.rpps})"

    @property
    def display_name(self) -> str:
        name = f"{self.user.first_name} {self.user.last_name.upper()}".strip()
        if self.profession == Profession.PHYSICIAN:
            return f"Dr {name}"
        return name or self.user.username


class ExerciseContextKind(models.TextChoices):
    """Where the practitioner exercises, for the products whose prescription is reserved to
    hospitals ("réservé à l'usage hospitalier", "prescription hospitalière")."""

    CITY = "city", _("Ville (cabinet, centre de santé)")
    HOSPITAL = "hospital", _("Établissement de santé")


class ExerciseContext(models.Model):
    """Where a practitioner prescribes from: a structure identified by FINESS (establishment)
    or by an Assurance Maladie number (practice). Printed on every prescription."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        related_name="exercise_contexts",
        verbose_name=_("praticien"),
    )
    name = models.CharField(_("structure"), max_length=200)
    kind = models.CharField(
        _("type d'exercice"),
        max_length=16,
        choices=ExerciseContextKind.choices,
        default=ExerciseContextKind.CITY,
        help_text=_(
            "Un établissement de santé peut prescrire les médicaments réservés à l'usage "
            "hospitalier et ceux de prescription hospitalière."
        ),
    )
    finess = models.CharField(
        _("FINESS"),
        max_length=9,
        blank=True,
        validators=[validate_finess],
        help_text=_("9 caractères (établissement). 2A / 2B en Corse."),
    )
    am_number = models.CharField(
        _("numéro Assurance Maladie"),
        max_length=9,
        blank=True,
        validators=[validate_am_number],
        help_text=_("9 chiffres (cabinet)."),
    )
    address = models.CharField(_("adresse"), max_length=255)
    postcode = models.CharField(_("code postal"), max_length=5)
    city = models.CharField(_("ville"), max_length=120)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("lieu d'exercice")
        verbose_name_plural = _("lieux d'exercice")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(finess="") | ~Q(am_number=""),
                name="exercise_context_finess_or_am_number",
                violation_error_message=_(
                    "Renseignez un numéro FINESS ou un numéro Assurance Maladie."
                ),
            ),
            models.CheckConstraint(
                condition=Q(finess="") | Q(finess__regex=r"^([0-9]{2}|2A|2B)[0-9]{7}$"),
                name="exercise_context_finess_format",
            ),
            models.CheckConstraint(
                condition=Q(am_number="") | Q(am_number__regex=r"^[0-9]{9}$"),
                name="exercise_context_am_number_format",
            ),
            models.CheckConstraint(
                condition=Q(postcode__regex=r"^[0-9]{5}$"), name="exercise_context_postcode"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["city", "hospital"]), name="exercise_context_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} — {self.city}"

    @property
    def is_hospital(self) -> bool:
        return self.kind == ExerciseContextKind.HOSPITAL

    @property
    def structure_identifier(self) -> tuple[str, str]:
        """The identifier printed on the prescription: FINESS first, else the AM number."""
        if self.finess:
            return ("FINESS", self.finess)
        return ("AM", self.am_number)


class AccountEventKind(models.TextChoices):
    LOGIN = "login", _("Connexion")
    LOGOUT_EVERYWHERE = "logout_everywhere", _("Déconnexion de toutes les sessions")
    EXERCISE_CONTEXT_CHOSEN = "exercise_context_chosen", _("Choix du lieu d'exercice")
    ACCOUNT_CREATED = "account_created", _("Création du compte")
    ORDOCLIC_LINK_CHECKED = "ordoclic_link_checked", _("Vérification de la liaison Ordoclic")
    TOTP_RESET = "totp_reset", _("Réinitialisation du second facteur")


class AccountEvent(models.Model):
    """Append-only trace of what happened to an account and who did it (the database refuses
    updates and deletes of these rows)."""

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="account_events", verbose_name=_("compte")
    )
    acting_user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("auteur")
    )
    kind = models.CharField(_("événement"), max_length=32, choices=AccountEventKind.choices)
    detail = models.JSONField(_("détail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("événement de compte")
        verbose_name_plural = _("événements de compte")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.user}"
