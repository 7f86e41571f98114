from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from .identifiers import clean_am_number, clean_finess, clean_rpps
from .models import ExerciseContext, Practitioner, Profession, User
from .usernames import username_normalize

PASSWORD_MAX_LENGTH = 256


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Identifiant"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    # Bounded like every text field: a pasted megabyte is refused before anything hashes it.
    password = forms.CharField(
        label=_("Mot de passe"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TotpForm(forms.Form):
    code = forms.RegexField(
        label=_("Code à 6 chiffres"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={"invalid": _("Le code comporte 6 chiffres.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "maxlength": 7,
            }
        ),
    )


class PractitionerForm(forms.ModelForm):
    """Admin form of a practitioner: the RPPS is normalised and checked before saving."""

    rpps = forms.CharField(
        label=_("RPPS"),
        max_length=20,
        help_text=_("11 chiffres, le dernier étant la clé de contrôle."),
    )

    class Meta:
        model = Practitioner
        fields = ["user", "rpps", "profession", "specialty", "is_active"]

    def clean_rpps(self) -> str:
        return clean_rpps(self.cleaned_data["rpps"])


def finess_field(help_text: StrOrPromise) -> forms.CharField:
    return forms.CharField(label=_("FINESS"), max_length=12, required=False, help_text=help_text)


def am_number_field() -> forms.CharField:
    return forms.CharField(
        label=_("Numéro Assurance Maladie"),
        max_length=12,
        required=False,
        help_text=_("Cabinet : 9 chiffres."),
    )


class FinessOrAmNumberMixin:
    """The place's identifiers, as typed (spaces, lower case) and checked: a FINESS or a
    number Assurance Maladie, at least one of the two."""

    cleaned_data: dict[str, Any]
    errors: Any

    def clean_finess(self) -> str:
        value = self.cleaned_data.get("finess") or ""
        return clean_finess(value) if value.strip() else ""

    def clean_am_number(self) -> str:
        value = self.cleaned_data.get("am_number") or ""
        return clean_am_number(value) if value.strip() else ""

    def finess_or_am_number_error(self, data: dict[str, Any]) -> str:
        """The message when neither was given (and neither was refused on its own)."""
        if "finess" in self.errors or "am_number" in self.errors:
            return ""
        if data.get("finess") or data.get("am_number"):
            return ""
        return str(_("Renseignez un numéro FINESS ou un numéro Assurance Maladie."))


class ExerciseContextForm(FinessOrAmNumberMixin, forms.ModelForm):
    finess = finess_field(_("Établissement : 9 caractères (2A / 2B en Corse)."))
    am_number = am_number_field()

    class Meta:
        model = ExerciseContext
        fields = [
            "name",
            "kind",
            "finess",
            "am_number",
            "address",
            "postcode",
            "city",
            "phone",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if message := self.finess_or_am_number_error(data):
            raise forms.ValidationError(message)
        return data


class PractitionerAccountCreateForm(FinessOrAmNumberMixin, forms.Form):
    """Everything needed to open a prescriber account in one go."""

    username = forms.CharField(label=_("Identifiant de connexion"), max_length=150)
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    email = forms.EmailField(label=_("Adresse électronique"), required=False)
    password = forms.CharField(
        label=_("Mot de passe initial"),
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput,
    )
    rpps = forms.CharField(
        label=_("RPPS"),
        max_length=20,
        help_text=_("11 chiffres, le dernier étant la clé de contrôle."),
    )
    profession = forms.ChoiceField(label=_("Profession"), choices=Profession.choices)
    specialty = forms.CharField(label=_("Spécialité"), max_length=120, required=False)
    context_name = forms.CharField(label=_("Structure d'exercice"), max_length=200)
    finess = finess_field(
        _("Établissement : 9 caractères (2A / 2B en Corse). FINESS ou n° AM requis.")
    )
    am_number = am_number_field()
    address = forms.CharField(label=_("Adresse"), max_length=255)
    postcode = forms.RegexField(
        label=_("Code postal"),
        regex=r"^\d{5}$",
        error_messages={"invalid": _("Le code postal comporte 5 chiffres.")},
    )
    city = forms.CharField(label=_("Ville"), max_length=120)
    phone = forms.CharField(label=_("Téléphone"), max_length=20, required=False)

    def clean_username(self) -> str:
        username = username_normalize(self.cleaned_data["username"])
        # iexact is PostgreSQL's UPPER() match, the one the database's unique constraint uses.
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("Cet identifiant est déjà utilisé."))
        return username

    def clean_rpps(self) -> str:
        rpps = clean_rpps(self.cleaned_data["rpps"])
        if Practitioner.objects.filter(rpps=rpps).exists():
            raise forms.ValidationError(_("Un praticien avec ce numéro RPPS existe déjà."))
        return rpps

    def clean_password(self) -> str:
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["password"]
        validate_password(password, User(username=self.data.get("username", "")))
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if message := self.finess_or_am_number_error(data):
            self.add_error("finess", message)
        return data
