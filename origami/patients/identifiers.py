"""Checks of the patient's national identifiers (NIR / NIA), DOMAIN.md §4."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ordoclic_client import codes

_SEPARATORS = re.compile(r"[\s.\-]")


def compact_nir(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


_NIR_MESSAGES = {
    "nir_format": _(
        "Le NIR ne doit contenir que des chiffres (2A ou 2B pour un département de naissance en "
        "Corse)."
    ),
    "nir_checksum": _("La clé du NIR ne correspond pas : vérifiez le numéro saisi."),
    "nir_sex": _(
        "Le premier chiffre du NIR indique le sexe : 1 ou 2 (7 ou 8 pour un numéro provisoire)."
    ),
    "nir_month": _(
        "Le mois de naissance du NIR (4e et 5e caractères) est impossible : 01 à 12, ou 20 à 42 "
        "et 50 et plus quand le mois est inconnu."
    ),
    "nir_department": _(
        "Le lieu de naissance du NIR (département, commune ou pays) est impossible."
    ),
}


def clean_nir(value: str) -> str:
    """Validate a NIR or NIA (15 characters with its 2-digit key; 2A / 2B for Corsica; sex digit,
    month and place of birth possible) and return it normalised: no spaces, upper case."""
    number = compact_nir(value)
    try:
        return codes.check_nir(number)
    except codes.InvalidCode as exc:
        if exc.reason == "nir_length":
            raise ValidationError(
                _("Le NIR doit comporter 15 caractères, clé comprise (%(count)s saisis).")
                % {"count": len(number)},
                code="nir_length",
            ) from None
        raise ValidationError(
            _NIR_MESSAGES.get(exc.reason, _("Ce NIR est invalide.")), code=exc.reason
        ) from None


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


def validate_cis(value: str) -> None:
    """A drug recorded by its CIS (the BDPM product code): 8 digits. A CIP13 (the box's
    barcode, 13 digits from 34009) is not a CIS: the record asks for the product's code."""
    if not value:
        return
    try:
        codes.check_cis(value)
    except codes.InvalidCode:
        if len(codes.compact(value)) == 13:
            raise ValidationError(
                _(
                    "C'est un code CIP13 (celui de la boîte) : saisissez le code CIS du "
                    "médicament, à 8 chiffres."
                ),
                code="cis_is_cip13",
            ) from None
        raise ValidationError(
            _("Un code CIS a 8 chiffres (code du médicament dans la base publique)."),
            code="cis_format",
        ) from None
    if codes.compact(value) != value:
        raise ValidationError(_("Saisissez le code CIS sans espaces."), code="cis_compact")
