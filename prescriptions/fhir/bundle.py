"""A signed prescription as a FHIR R4 Bundle for the host record: a MedicationRequest per line,
the Patient (with the INS), the Practitioner (RPPS), the PractitionerRole and the Organization of
the exercise context. The identifier systems follow the French profiles where they are public
(FR Core, the ANS ePrescription guide); the others are documented local choices (docs/fhir.md).

Plain dictionaries in FHIR's JSON shape: the tests validate them with `fhir.resources`."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.conf import settings

from origami.patients.models import Patient
from practitioners.models import ExerciseContext, Practitioner

from ..models import (
    BusinessStatus,
    CodeSystem,
    DispensingStatus,
    Prescription,
    PrescriptionLine,
)

# FR Core identifier types (HL7 v2-0203, French extension).
FR_IDENTIFIER_TYPE = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
# National identifiers, by OID.
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
INS_SYSTEMS = {
    "1.2.250.1.213.1.4.8": ("urn:oid:1.2.250.1.213.1.4.8", "INS-NIR"),
    "1.2.250.1.213.1.4.9": ("urn:oid:1.2.250.1.213.1.4.9", "INS-NIA"),
    "1.2.250.1.213.1.4.10": ("urn:oid:1.2.250.1.213.1.4.10", "INS-NIR-TEST"),
    "1.2.250.1.213.1.4.11": ("urn:oid:1.2.250.1.213.1.4.11", "INS-NIR-DEMO"),
}
# Drug codes, as the ANS terminologies name them.
DRUG_SYSTEMS: dict[str, str] = {
    CodeSystem.CIS: "http://data.esante.gouv.fr/ansm/medicament/codeCIS",
    CodeSystem.CIP13: "http://data.esante.gouv.fr/ansm/medicament/codeCIP13",
    CodeSystem.UCD: "http://data.esante.gouv.fr/ansm/medicament/UCD",
}
SUBSTANCE_SYSTEM = "http://data.esante.gouv.fr/ansm/medicament/substance"
SUBSTITUTION_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PERIOD_UNITS = {"day": "d", "week": "wk", "month": "mo"}
UCUM = "http://unitsofmeasure.org"


def _local(path: str) -> str:
    """A URI of ours (the number system, the ALD extension): under ORIGAMI_FHIR_BASE_URL."""
    return f"{settings.ORIGAMI_FHIR_BASE_URL.rstrip('/')}/{path}"


def _id(kind: str, pk: object) -> str:
    return f"{kind}-{pk}"


def _coding_type(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": FR_IDENTIFIER_TYPE, "code": code, "display": display}]}


def patient_resource(patient: Patient) -> dict[str, Any]:
    identifiers = []
    if patient.identity_status == "qualified" and patient.nir and patient.ins_oid in INS_SYSTEMS:
        system, code = INS_SYSTEMS[patient.ins_oid]
        identifiers.append(
            {
                "use": "official",
                "type": _coding_type(code.split("-TEST")[0].split("-DEMO")[0], code),
                "system": system,
                "value": patient.nir,
            }
        )
    names = [{"use": "usual", "family": patient.last_name, "given": [patient.first_name]}]
    if patient.birth_name:
        given = (patient.birth_first_names or patient.first_name).split()
        names.insert(0, {"use": "official", "family": patient.birth_name, "given": given})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _id("patient", patient.pk),
        "name": names,
        "gender": {"F": "female", "M": "male"}.get(patient.sex, "unknown"),
        "birthDate": patient.birth_date.isoformat(),
    }
    if identifiers:
        resource["identifier"] = identifiers
    return resource


def practitioner_resource(practitioner: Practitioner) -> dict[str, Any]:
    user = practitioner.user
    return {
        "resourceType": "Practitioner",
        "id": _id("practitioner", practitioner.pk),
        "identifier": [
            {
                "use": "official",
                "type": _coding_type("IDNPS", "Identifiant National de Professionnel de Santé"),
                "system": IDNPS_SYSTEM,
                "value": f"8{practitioner.rpps}",
            },
            {
                "use": "official",
                "type": _coding_type("RPPS", "N° RPPS"),
                "system": RPPS_SYSTEM,
                "value": practitioner.rpps,
            },
        ],
        "name": [{"family": user.last_name, "given": [user.first_name], "prefix": ["Dr"]}],
    }


def organization_resource(context: ExerciseContext) -> dict[str, Any]:
    identifiers = []
    if context.finess:
        identifiers.append({"use": "official", "system": FINESS_SYSTEM, "value": context.finess})
    if context.am_number:
        identifiers.append({"system": _local("NamingSystem/numero-am"), "value": context.am_number})
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": _id("organization", context.pk),
        "name": context.name,
        "address": [
            {"line": [context.address], "postalCode": context.postcode, "city": context.city}
        ],
    }
    if identifiers:
        resource["identifier"] = identifiers
    if context.phone:
        resource["telecom"] = [{"system": "phone", "value": context.phone}]
    return resource


def practitioner_role_resource(prescription: Prescription) -> dict[str, Any]:
    role: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": _id("role", prescription.pk),
        "practitioner": {
            "reference": f"Practitioner/{_id('practitioner', prescription.prescriber_id)}"
        },
    }
    if prescription.exercise_context_id:
        role["organization"] = {
            "reference": f"Organization/{_id('organization', prescription.exercise_context_id)}"
        }
    return role


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _dosage(line: PrescriptionLine) -> dict[str, Any]:
    repeat: dict[str, Any] = {
        "frequency": line.frequency_count,
        "period": 1,
        "periodUnit": PERIOD_UNITS.get(line.frequency_period, "d"),
    }
    if line.duration_value:
        repeat["boundsDuration"] = {
            "value": line.duration_value,
            "unit": {"day": "jour(s)", "week": "semaine(s)", "month": "mois"}[line.duration_unit],
            "system": UCUM,
            "code": PERIOD_UNITS[line.duration_unit],
        }
    when = [_TIMING_EVENTS[moment] for moment in line.moments if moment in _TIMING_EVENTS]
    if when:
        repeat["when"] = when
    dosage: dict[str, Any] = {
        "text": line.posology_text,
        "timing": {"repeat": repeat},
        "asNeededBoolean": line.as_needed,
        "doseAndRate": [{"doseQuantity": {"value": _number(line.dose), "unit": line.unit}}],
    }
    if line.instructions:
        dosage["patientInstruction"] = line.instructions
    if line.route:
        dosage["route"] = {"text": line.route}
    if line.max_per_24h is not None:
        dosage["maxDosePerPeriod"] = {
            "numerator": {"value": _number(line.max_per_24h), "unit": line.unit},
            "denominator": {"value": 1, "unit": "jour", "system": UCUM, "code": "d"},
        }
    return dosage


# The posology grammar's moments of intake, as FHIR's EventTiming codes.
_TIMING_EVENTS = {"matin": "MORN", "midi": "NOON", "soir": "EVE", "coucher": "HS"}


def _medication(line: PrescriptionLine) -> dict[str, Any]:
    if line.drug_code_system == CodeSystem.DCI:
        # prescribed by its common name: no product code, the substance, strength and form
        return {"text": line.label}
    system = DRUG_SYSTEMS.get(line.drug_code_system, SUBSTANCE_SYSTEM)
    return {
        "coding": [{"system": system, "code": line.drug_code, "display": line.label}],
        "text": line.label,
    }


def _status(prescription: Prescription) -> str:
    if prescription.status in (BusinessStatus.CANCELLED, BusinessStatus.REPLACED):
        return "cancelled"
    if prescription.dispensing_status == DispensingStatus.FULL:
        return "completed"
    return "active"


# "2 boîtes", or a narcotic's "vingt-huit (28) gélules": the number, in figures
_QUANTITY = re.compile(r"^\s*(\d+)|\((\d+)\)")


def medication_request_resource(
    prescription: Prescription, line: PrescriptionLine
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": _id("line", line.pk),
        "identifier": [{"system": _local("NamingSystem/ligne"), "value": str(line.pk)}],
        "status": _status(prescription),
        "intent": "order",
        "medicationCodeableConcept": _medication(line),
        "subject": {"reference": f"Patient/{_id('patient', prescription.patient_id)}"},
        "authoredOn": prescription.signed_at.isoformat() if prescription.signed_at else None,
        "requester": {"reference": f"PractitionerRole/{_id('role', prescription.pk)}"},
        "dosageInstruction": [_dosage(line)],
        "substitution": {"allowedBoolean": not line.non_substitutable},
        "dispenseRequest": {"numberOfRepeatsAllowed": line.renewals},
    }
    if prescription.number:
        resource["groupIdentifier"] = {
            "system": settings.ORIGAMI_FHIR_NUMBER_SYSTEM,
            "value": prescription.number,
        }
    if line.non_substitutable:
        resource["substitution"]["reason"] = {
            "coding": [
                {"system": SUBSTITUTION_REASON, "code": "RR", "display": "regulatory requirement"}
            ],
            "text": line.non_substitutable_reason,
        }
    if line.duration_value:
        days = line.duration_value * {"day": 1, "week": 7, "month": 30}[line.duration_unit]
        resource["dispenseRequest"]["expectedSupplyDuration"] = {
            "value": days,
            "unit": "jours",
            "system": UCUM,
            "code": "d",
        }
    quantity = _QUANTITY.search(line.quantity or "")
    if quantity:
        resource["dispenseRequest"]["quantity"] = {
            "value": int(quantity.group(1) or quantity.group(2)),
            "unit": line.unit,
        }
    if line.ald:
        resource["extension"] = [{"url": _local("StructureDefinition/ald"), "valueBoolean": True}]
        resource["note"] = [{"text": "En rapport avec l'affection de longue durée (ALD)."}]
    return resource


def prescription_bundle(prescription: Prescription) -> dict[str, Any]:
    """The Bundle of a signed prescription (the caller has checked who may read it)."""
    entries: list[dict[str, Any]] = [
        patient_resource(prescription.patient),
        practitioner_resource(prescription.prescriber),
        practitioner_role_resource(prescription),
    ]
    if prescription.exercise_context is not None:
        entries.append(organization_resource(prescription.exercise_context))
    entries += [
        medication_request_resource(prescription, line)
        for line in prescription.lines.order_by("position", "pk")
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(prescription.external_id),
        "type": "collection",
        "timestamp": (prescription.registered_at or prescription.signed_at).isoformat()  # type: ignore[union-attr]
        if prescription.signed_at
        else None,
        "entry": [
            {"fullUrl": f"{_local('fhir')}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in entries
        ],
    }
    if prescription.number:
        bundle["identifier"] = {
            "system": settings.ORIGAMI_FHIR_NUMBER_SYSTEM,
            "value": prescription.number,
        }
    return bundle


def searchset(resources: list[dict[str, Any]], *, total: int) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "entry": [
            {
                "fullUrl": f"{_local('fhir')}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {
                    "mode": "match" if r["resourceType"] == "MedicationRequest" else "include"
                },
            }
            for r in resources
        ],
    }
