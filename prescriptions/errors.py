"""The one error hierarchy of the prescriptions package. Every refusal carries a French message
the user reads as is, and the form field it concerns; views catch :class:`PrescriptionError`
and show the message where the user was looking."""

from __future__ import annotations

from django.utils.translation import gettext as _


class PrescriptionError(Exception):
    """A refusal the user reads as is (French), with the form field it concerns."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleVersion(PrescriptionError):
    """The form was sent for an older version of the draft (another tab, another device)."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Cette ordonnance a été modifiée entre-temps (autre onglet ou autre poste). "
                "Votre saisie est conservée : vérifiez l'ordonnance à jour puis validez à nouveau."
            )
        )


class OrdoclicUnavailable(PrescriptionError):
    """Ordoclic could not answer now (network, timeout, 5xx, 429, open breaker): try later."""


class LookupRefused(PrescriptionError):
    """A staff lookup refused (malformed number, nothing found, rate limit, missing reason)."""

    def __init__(self, message: str, *, rate_limited: bool = False, field: str = "") -> None:
        super().__init__(message, field=field)
        self.rate_limited = rate_limited
