"""Checks of the patient's national identifiers (NIR / NIA), DOMAIN.md §4."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as _E
from stdnum.fr import nir as stdnum_nir

_SEPARATORS = re.compile(r"[\s.\-]")


def compact_nir(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def clean_nir(value: str) -> str:
    """Validate a NIR or NIA (15 characters with its 2-digit key; 2A / 2B for Corsica) and
    return it normalised: no spaces, upper case."""
    number = compact_nir(value)
    try:
        return str(stdnum_nir.validate(number))
    except InvalidLength:
        raise ValidationError(
            _("Le NIR doit comporter 15 caractères, clé comprise (%(count)s saisis).")
            % {"count": len(number)},
            code="nir_length",
        ) from None
    except InvalidFormat:
        raise ValidationError(
            _(
                "Le NIR ne doit contenir que des chiffres (2A ou 2B pour un département de "
                "naissance en Corse)."
            ),
            code="nir_format",
        ) from None
    except InvalidChecksum:
        raise ValidationError(
            _("La clé du NIR ne correspond pas : vérifiez le numéro saisi."),
            code="nir_checksum",
        ) from None
    except _E:
        raise ValidationError(_("Ce NIR est invalide."), code="nir_invalid") from None


def format_nir(value: str) -> str:
    """Display form: `2 95 10 99 126 111 93`."""
    if len(value) != 15:
        return value
    parts = (value[0], value[1:3], value[3:5], value[5:7], value[7:10], value[10:13], value[13:])
    return " ".join(parts)


def validate_nir(value: str) -> None:
    """Model field validator: the stored value must be valid and already normalised."""
    if clean_nir(value) != value:
        raise ValidationError(
            _("Saisissez le numéro sans espaces ni séparateurs."), code="nir_compact"
        )
