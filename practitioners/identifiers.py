"""Checks of the identifiers of health professionals and structures (DOMAIN.md §4).

Each validator raises a Django ``ValidationError`` with a French message the user can act on,
and returns the normalised value (spaces removed, upper case) so callers store one form only.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import luhn

_SEPARATORS = re.compile(r"[\s.\-]")


def compact(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def clean_rpps(value: str) -> str:
    """RPPS: 11 digits, not all zeros, the last one a Luhn key. Test numbers listed in the setting
    ORDOCLIC_ALLOWED_TEST_RPPS (Ordoclic staging's, which fail Luhn) are accepted as they are."""
    number = compact(value)
    if not number.isdigit():
        raise ValidationError(
            _("Le numéro RPPS ne doit contenir que des chiffres (11 chiffres)."), code="rpps_format"
        )
    if len(number) != 11:
        raise ValidationError(
            _("Le numéro RPPS doit comporter 11 chiffres (%(count)s saisis).")
            % {"count": len(number)},
            code="rpps_length",
        )
    if number in getattr(settings, "ORDOCLIC_ALLOWED_TEST_RPPS", []):
        return number
    if set(number) == {"0"}:  # eleven zeros pass Luhn but are nobody's number
        raise ValidationError(
            _("Le numéro RPPS ne peut pas être composé uniquement de zéros."), code="rpps_zeros"
        )
    if not luhn.is_valid(number):
        raise ValidationError(
            _("Le numéro RPPS %(number)s est invalide : sa clé de contrôle ne correspond pas.")
            % {"number": number},
            code="rpps_checksum",
        )
    return number


def clean_finess(value: str) -> str:
    """FINESS: 9 characters, the first two the département (2A / 2B in Corsica).

    Continental numbers carry a Luhn key over the 9 digits. How the key is computed for Corsican
    numbers is not documented publicly, so for 2A / 2B we only check the shape.
    """
    number = compact(value)
    if len(number) != 9:
        raise ValidationError(
            _("Le numéro FINESS doit comporter 9 caractères (%(count)s saisis).")
            % {"count": len(number)},
            code="finess_length",
        )
    if number[:2] in ("2A", "2B"):
        if not number[2:].isdigit():
            raise ValidationError(
                _("Le numéro FINESS ne doit contenir que des chiffres après le département."),
                code="finess_format",
            )
        return number
    if not number.isdigit():
        raise ValidationError(
            _("Le numéro FINESS ne doit contenir que des chiffres (2A ou 2B permis en Corse)."),
            code="finess_format",
        )
    if not luhn.is_valid(number):
        raise ValidationError(
            _("Le numéro FINESS %(number)s est invalide : sa clé de contrôle ne correspond pas.")
            % {"number": number},
            code="finess_checksum",
        )
    return number


def clean_am_number(value: str) -> str:
    """Assurance Maladie number of a practice: 9 digits (its inner structure is not public)."""
    number = compact(value)
    if not number.isdigit() or len(number) != 9:
        raise ValidationError(
            _("Le numéro Assurance Maladie doit comporter exactement 9 chiffres."),
            code="am_number_format",
        )
    return number


def validate_rpps(value: str) -> None:
    """Model field validator: the stored value must be valid and already normalised."""
    if clean_rpps(value) != value:
        raise ValidationError(
            _("Saisissez le numéro sans espaces ni séparateurs."), code="rpps_compact"
        )


def validate_finess(value: str) -> None:
    """Model field validator: the stored value must be valid and already normalised."""
    if clean_finess(value) != value:
        raise ValidationError(
            _("Saisissez le numéro sans espaces ni séparateurs."), code="finess_compact"
        )


def validate_am_number(value: str) -> None:
    """Model field validator: the stored value must be valid and already normalised."""
    if clean_am_number(value) != value:
        raise ValidationError(
            _("Saisissez le numéro sans espaces ni séparateurs."), code="am_number_compact"
        )
