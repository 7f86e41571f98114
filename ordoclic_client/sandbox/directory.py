"""The sandbox's directory of professionals: the demo RPPS numbers of the project."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# Fixed namespace so that a professional keeps the same Ordoclic id across resets and restarts.
_NAMESPACE = uuid.UUID("6f1c2a52-3b0e-4d0c-9a51-0c3f5b7e2d11")


@dataclass(frozen=True)
class Professional:
    rpps: str
    first_name: str
    last_name: str
    profession: str
    activated: bool
    deactivation_reason: str = ""

    @property
    def id(self) -> str:
        return professional_id(self.rpps)


def professional_id(rpps: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, rpps))


# 10100009991 is a valid RPPS deliberately absent: Ordoclic does not know it.
DEMO_PROFESSIONALS = (
    Professional("10100001238", "Claire", "MARTIN", "Médecin - urgentiste", True),
    Professional("10100004562", "Karim", "BENALI", "Médecin - médecine générale", True),
    Professional(
        "10100007896", "Sophie", "DURAND", "Médecin", False, "Compte désactivé par l'éditeur"
    ),
    # Ordoclic's staging test number (fails the Luhn check on purpose).
    Professional("99700092640", "Test", "ORDOCLIC", "Médecin", True),
)
