"""Prescription conditions and reimbursement, typed from the texts of the BDPM files.

``CIS_CPD_bdpm.txt`` gives one text per condition ("liste I", "stupéfiants", "prescription
hospitalière", "prescription limitée à 4 semaines", ...); ``CIS_CIP_bdpm.txt`` gives each
presentation's reimbursement rate ("65 %", "65%") and price. The sandbox answers them as
:class:`ordoclic_client.contract.PrescriptionConditions` and ``reimbursementRatePercent``.
"""

from __future__ import annotations

import re
from typing import Any

from ordoclic_client.sandbox.text import fold

# Longest prescription of a narcotic, by substance and route, in days. Source: arrêté du
# 22 février 1990 modifié fixing the list of narcotics and their maximum prescription durations,
# as the ANSM and the Ordre des pharmaciens (Meddispar) summarise it: 28 days for most oral and
# transdermal forms, 14 days for methadone, 7 days for injectable morphine and oxycodone outside
# pumps. A certified database gives it per product; the sandbox keeps the common cases.
NARCOTIC_MAX_DAYS: dict[tuple[str, str], int] = {
    ("morphine", "oral"): 28,
    ("morphine", "injectable"): 7,
    ("oxycodone", "oral"): 28,
    ("oxycodone", "injectable"): 7,
    ("hydromorphone", "oral"): 28,
    ("fentanyl", "transdermal"): 28,
    ("fentanyl", "transmucosal"): 7,
    ("methadone", "oral"): 14,
    ("buprenorphine", "oral"): 28,  # assimilé (sublingual tablets)
    ("zolpidem", "oral"): 28,  # assimilé
}
_ROUTE_GROUPS = {
    "orale": "oral",
    "sublinguale": "oral",
    "intraveineuse": "injectable",
    "intramusculaire": "injectable",
    "sous cutanee": "injectable",
    "transdermique": "transdermal",
    "buccale": "transmucosal",
    "nasale": "transmucosal",
}
_LIMIT = re.compile(r"prescription limitee a (\d+) (jours?|semaines?|mois)")
_FRACTION = re.compile(r"delivrance fractionnee de (\d+) jours?")
_SPECIALTY = re.compile(r"sp[ée]cialistes(?: et services| en)? (.+)$", re.IGNORECASE)
_UNIT_DAYS = {"jour": 1, "jours": 1, "semaine": 7, "semaines": 7, "mois": 30}


def narcotic_max_days(substance_keys: list[str], routes: list[str]) -> int | None:
    groups = {_ROUTE_GROUPS.get(fold(r), "") for r in routes}
    caps = [
        NARCOTIC_MAX_DAYS[(k, g)]
        for k in substance_keys
        for g in groups
        if (k, g) in NARCOTIC_MAX_DAYS
    ]
    return min(caps) if caps else None


def typed_conditions(
    texts: list[str], *, substance_keys: list[str], routes: list[str]
) -> dict[str, Any]:
    """The wire form of :class:`~ordoclic_client.contract.PrescriptionConditions`."""
    folded = [fold(t) for t in texts]
    narcotic = any(t.startswith("stupefiant") for t in folded)
    drug_list = (
        "stupefiant"
        if narcotic
        else "liste_i"
        if "liste i" in folded
        else "liste_ii"
        if "liste ii" in folded
        else None
    )
    specialties, limits, fractions = [], [], []
    for original, text in zip(texts, folded, strict=True):
        if match := _LIMIT.search(text):
            limits.append(int(match.group(1)) * _UNIT_DAYS[match.group(2)])
        if match := _FRACTION.search(text):
            fractions.append(int(match.group(1)))
        if "prescription" in text and (match := _SPECIALTY.search(original)):
            specialty = match.group(1).strip()
            if specialty not in specialties:
                specialties.append(specialty)
    secure = narcotic or any("ordonnance securisee" in t for t in folded)
    cap = narcotic_max_days(substance_keys, routes) if secure else None
    durations = [d for d in (*limits, cap) if d is not None]
    return {
        "drugList": drug_list,
        "securePrescription": secure,
        "hospitalOnly": any(t.startswith("reserve a l usage hospitalier") for t in folded),
        "hospitalPrescription": any(t.startswith("prescription hospitaliere") for t in folded),
        "initialHospitalPrescription": any(
            t.startswith("prescription initiale hospitaliere") for t in folded
        ),
        "specialistOnly": any(
            t.startswith("prescription") and "reservee" in t and "specialistes" in t for t in folded
        ),
        "specialties": specialties,
        "specialMonitoring": any(
            "surveillance particuliere pendant le traitement" in t for t in folded
        ),
        "maxDurationDays": min(durations) if durations else None,
        "dispensingFractionDays": min(fractions) if fractions else None,
        "overlapForbidden": any(t.startswith("chevauchement interdit") for t in folded),
    }


def rate_percent(rate: str) -> int | None:
    """ "65 %" -> 65; "" -> None (not reimbursable)."""
    match = re.match(r"\s*(\d+)", rate or "")
    return int(match.group(1)) if match else None
