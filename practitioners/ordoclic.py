"""The practitioner's link to Ordoclic: set when an admin links the account, re-verified before
each signing.

Ordoclic is called outside any database transaction (a slow API must not hold a row lock); the
outcome is then written in one short transaction.
"""

from __future__ import annotations

import logging
from typing import Any, assert_never

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ordoclic_client import Professional
from ordoclic_client.results import Ok, Rejected, Result, Unavailable, UnavailableKind
from origami.ordoclic import get_client

from .models import AccountEventKind, OrdoclicLinkStatus, Practitioner, User
from .services import account_event_record

logger = logging.getLogger(__name__)

# How long a successful re-verification is trusted before the next signing checks again.
CURRENT_CACHE_SECONDS = 5 * 60


class OrdoclicUnavailable(Exception):
    """Ordoclic could not be reached: the practitioner's link state was kept as it was, and the
    attempt recorded in ``ordoclic_last_error``. ``message`` says why, in French, for the person
    who asked (e.g. "Connexion impossible ; réessayez dans quelques minutes.")."""

    def __init__(self, practitioner: Practitioner, message: str) -> None:
        super().__init__(message)
        self.practitioner = practitioner
        self.message = message


def practitioner_link_ordoclic(*, practitioner: Practitioner, acting_user: Any) -> Practitioner:
    """Validate the practitioner's RPPS at Ordoclic and store what it says.

    * known and activated: ``linked``, with Ordoclic's professional id and the time verified;
    * known but deactivated: ``deactivated`` (cannot sign until Ordoclic reactivates them);
    * refused (unknown RPPS, credentials refused): ``error``, with a plain French reason;
    * Ordoclic unreachable: the state is kept, the attempt recorded, and
      :class:`OrdoclicUnavailable` raised so the caller can say so.
    """
    result = _validate(practitioner.rpps)
    now = timezone.now()
    previous = practitioner.ordoclic_link_status
    match result:
        case Ok(professional) if professional.rpps != practitioner.rpps:
            _store(
                practitioner,
                status=OrdoclicLinkStatus.ERROR,
                verified_at=now,
                error=_("Ordoclic a répondu pour un autre numéro RPPS : liaison refusée."),
            )
        case Ok(professional) if professional.activated:
            _store(
                practitioner,
                status=OrdoclicLinkStatus.LINKED,
                professional_id=professional.id,
                verified_at=now,
                error="",
            )
        case Ok(professional):
            _store(
                practitioner,
                status=OrdoclicLinkStatus.DEACTIVATED,
                professional_id=professional.id,
                verified_at=now,
                error=_("Ce praticien est désactivé chez Ordoclic : il ne peut pas signer."),
            )
        case Rejected() as rejected:
            _store(
                practitioner,
                status=OrdoclicLinkStatus.ERROR,
                verified_at=now,
                error=_refusal_message(rejected),
            )
        case Unavailable() as unavailable:
            cause = _unavailable_cause(unavailable)
            _store(
                practitioner,
                status=previous,
                error=_(
                    "Ordoclic injoignable lors de la dernière vérification (%(cause)s) : "
                    "état de la liaison inchangé."
                )
                % {"cause": cause},
            )
            _trace(practitioner, acting_user, previous, "unavailable")
            message = _("%(cause)s ; réessayez dans quelques minutes.") % {
                "cause": cause[:1].upper() + cause[1:]
            }
            raise OrdoclicUnavailable(practitioner, message)
        case _ as unreachable:
            assert_never(unreachable)
    _trace(practitioner, acting_user, previous, practitioner.ordoclic_link_status)
    return practitioner


def practitioner_ordoclic_recheck(*, practitioner: Practitioner, acting_user: Any) -> Practitioner:
    """At login: ask Ordoclic again about an account it knows (linked, or deactivated), so that
    a prescriber deactivated since (or reactivated) is told on the first page, before writing a
    prescription. Unreachable Ordoclic changes nothing (the sign-time check still runs)."""
    if practitioner.ordoclic_link_status not in (
        OrdoclicLinkStatus.LINKED,
        OrdoclicLinkStatus.DEACTIVATED,
    ):
        return practitioner
    try:
        return practitioner_link_ordoclic(practitioner=practitioner, acting_user=acting_user)
    except OrdoclicUnavailable:
        return practitioner


def practitioner_ordoclic_current(
    *, practitioner: Practitioner, timeout: float | None = None
) -> bool:
    """Whether the practitioner may sign now: linked, and Ordoclic still gives a token for an
    activated professional with the same id. A positive check is trusted for a few minutes.

    When Ordoclic cannot be reached, the stored link decides: signing must keep working in
    degraded mode (the prescription is queued and consolidates later).
    """
    if practitioner.ordoclic_link_status != OrdoclicLinkStatus.LINKED:
        return False
    key = _current_key(practitioner)
    if _cache_get(key):
        return True
    try:
        client = get_client()
        if timeout is not None:  # a web request on a budget
            client = client.with_timeout(
                read=timeout, connect=min(timeout, settings.ORDOCLIC_CONNECT_TIMEOUT)
            )
        result = client.auth(rpps=practitioner.rpps)
    except ImproperlyConfigured:
        logger.error("Ordoclic client not configured: trusting the stored link")
        return True
    match result:
        case Ok(answer):
            professional = answer.identity.professional
            current = (
                professional.activated and professional.id == practitioner.ordoclic_professional_id
            )
            if current:
                _cache_set(key)
            return current
        case Rejected():
            return False
        case Unavailable():
            return True
        case _ as unreachable:
            assert_never(unreachable)


# --- helpers -----------------------------------------------------------------------------------


def _validate(rpps: str) -> Result[Professional]:
    try:
        client = get_client()
    except ImproperlyConfigured as exc:
        logger.error("Ordoclic client not configured: %s", exc)
        return Unavailable("Ordoclic client not configured", kind=UnavailableKind.CONFIGURATION)
    return client.professional_validate(rpps=rpps)


def _unavailable_cause(unavailable: Unavailable) -> str:
    """The client's technical cause, said in French."""
    match unavailable.kind:
        case UnavailableKind.BREAKER_OPEN:
            return _("trop d'échecs récents, les appels sont suspendus un moment")
        case UnavailableKind.CONNECT:
            return _("connexion impossible")
        case UnavailableKind.TIMEOUT:
            return _("pas de réponse dans le délai")
        case UnavailableKind.CONNECTION_LOST:
            return _("connexion interrompue")
        case UnavailableKind.SERVER_ERROR:
            return _("erreur du service Ordoclic")
        case UnavailableKind.RATE_LIMITED:
            return _("trop de requêtes envoyées")
        case UnavailableKind.CONFIGURATION:
            return _("client Ordoclic non configuré (identifiant ou clé du partenaire)")
        case UnavailableKind.BAD_RESPONSE | UnavailableKind.CLIENT_ERROR:
            return _("réponse inutilisable")
        case _ as unreachable:
            assert_never(unreachable)


def _refusal_message(rejected: Rejected) -> str:
    if rejected.status == 404:
        return _("Ce numéro RPPS est inconnu d'Ordoclic.")
    if rejected.status == 401:
        return _(
            "Ordoclic refuse l'authentification pour ce numéro RPPS (numéro inconnu ou "
            "identifiants partenaire refusés)."
        )
    if rejected.status == 403:
        return _("Ordoclic refuse l'accès pour ce praticien.")
    return _("Ordoclic a refusé la vérification (HTTP %(status)s) : %(detail)s") % {
        "status": rejected.status,
        "detail": rejected.message,
    }


def _store(
    practitioner: Practitioner,
    *,
    status: str,
    error: str,
    verified_at: Any = None,
    professional_id: Any = None,
) -> None:
    practitioner.ordoclic_link_status = status
    practitioner.ordoclic_last_error = error
    fields = ["ordoclic_link_status", "ordoclic_last_error", "updated_at"]
    if verified_at is not None:
        practitioner.ordoclic_verified_at = verified_at
        fields.append("ordoclic_verified_at")
    if professional_id is not None:
        practitioner.ordoclic_professional_id = professional_id
        fields.append("ordoclic_professional_id")
    with transaction.atomic():
        practitioner.save(update_fields=fields)
    _cache_delete(_current_key(practitioner))


def _trace(practitioner: Practitioner, acting_user: Any, previous: str, outcome: str) -> None:
    """An account event (who checked, the state before and after) and a log line with ids."""
    if isinstance(acting_user, User) and acting_user.pk is not None:
        account_event_record(
            user=practitioner.user,
            acting_user=acting_user,
            kind=AccountEventKind.ORDOCLIC_LINK_CHECKED,
            detail={"previous": previous, "outcome": outcome},
        )
    logger.info(
        "ordoclic link checked practitioner=%s acting_user=%s previous=%s outcome=%s",
        practitioner.pk,
        getattr(acting_user, "pk", None),
        previous,
        outcome,
    )


def _current_key(practitioner: Practitioner) -> str:
    return f"ordoclic:current:{practitioner.pk}:{practitioner.ordoclic_professional_id}"


def _cache_get(key: str) -> bool:
    try:
        return bool(cache.get(key))
    except redis.RedisError:
        return False


def _cache_set(key: str) -> None:
    try:
        cache.set(key, True, CURRENT_CACHE_SECONDS)
    except redis.RedisError:
        logger.warning("cache unreachable: Ordoclic currency not remembered")


def _cache_delete(key: str) -> None:
    try:
        cache.delete(key)
    except redis.RedisError:
        logger.warning("cache unreachable: Ordoclic currency not forgotten")
