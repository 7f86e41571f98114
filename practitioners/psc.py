"""Pro Santé Connect (PSC): who a PSC identity is in origami.

PSC is the national OpenID Connect provider of health professionals (CPS card or e-CPS app).
Its userinfo carries `SubjectNameID`, the professional's national identifier (IdNat_PS): for a
professional registered in the RPPS, the digit "8" followed by the 11-digit RPPS. origami ties a
PSC login to the Practitioner with that RPPS; it never creates an account from a PSC login (an
admin opens accounts), and a deactivated account or practitioner is refused.

This module is the one place a PSC login plugs in (README, "Security", Pro Santé Connect): an
OIDC backend (mozilla-django-oidc's OIDCAuthenticationBackend) calls `psc_user_for_claims` from
its `filter_users_by_claims`, refuses account creation, and its callback ends in
origami.views.login_complete like the password login does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

from .identifiers import clean_rpps
from .models import Role, User

# IdNat_PS of a professional registered in the RPPS: "8" + RPPS.
RPPS_ID_NAT_PREFIX = "8"
SUBJECT_CLAIM = "SubjectNameID"


def psc_rpps(claims: Mapping[str, Any]) -> str | None:
    """The RPPS number in PSC's claims, or None (an ADELI-only professional, a malformed
    identifier, a missing claim)."""
    id_nat = claims.get(SUBJECT_CLAIM)
    if not isinstance(id_nat, str) or not id_nat.startswith(RPPS_ID_NAT_PREFIX):
        return None
    candidate = id_nat[len(RPPS_ID_NAT_PREFIX) :]
    if len(candidate) != 11 or not candidate.isdigit():
        return None
    try:
        return clean_rpps(candidate)
    except ValidationError:
        return None


def psc_user_for_claims(claims: Mapping[str, Any]) -> User | None:
    """The active prescriber account whose practitioner has the RPPS of this PSC identity."""
    rpps = psc_rpps(claims)
    if rpps is None:
        return None
    return (
        User.objects.filter(
            role=Role.PRESCRIBER,
            is_active=True,
            practitioner__rpps=rpps,
            practitioner__is_active=True,
        )
        .select_related("practitioner")
        .first()
    )
