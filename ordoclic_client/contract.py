"""The assumed part of Ordoclic's integrator API, in one place.

What is known (published by Ordoclic: sample clients and CLI README):
  * ``POST /v1/auth``: a signed assertion gives a JWT acting for one professional (see ``auth.py``);
  * ``/v1/professionals`` (validate an RPPS, get, activate, deactivate) and ``/v1/entities``;
  * conventions: paths under ``/v1/``, UUID ids, camelCase keys, RFC 3339 timestamps with
    microseconds, list envelope ``{page, per_page, page_count, total_count, items}``.

What is assumed (nothing public exists): drug search and details, prescription analysis (alerts),
prescription registration, lookup by our external id, status with per-line dispensing,
cancellation, idempotency and the dispensing webhook. Their shapes below follow Ordoclic's
conventions and the drug database model behind Ordoclic (drug levels CIS / CIP13 / UCD, an analysis
request made of a patient context and lines, one alert per finding with a type, a level and the
lines involved).

Also assumed, in the same drug database model: what we send is parsed strictly (an unknown field
is a 422 naming it, :class:`RequestModel`); a line may be prescribed in DCI (substance, dosage and
form instead of a product code, :class:`DrugRef`); a drug carries its prescription conditions
typed (:class:`PrescriptionConditions`) and each presentation its price and reimbursement rate;
an alert's ``type`` says what it is about (an overdose, a missing weight, a class duplicate, a
check that could not run at level INFO), its ``level`` how grave it is.

A team holding the real contract changes this module (paths and models) and the sandbox's
handlers; nothing else in origami depends on these shapes except through the client's methods.

Error bodies (any 4xx / 5xx): ``{"errors": [{"code": str, "message": str, "field": str}]}``.
Idempotency: ``POST /v1/prescriptions`` takes an ``Idempotency-Key`` header; a replay with the same
key and body returns the first answer; the same key with another body is refused with 409.
Webhook: Ordoclic POSTs :class:`WebhookEvent` to the partner's callback URL with the headers
``X-Ordoclic-Timestamp`` (Unix seconds) and ``X-Ordoclic-Signature: sha256=<hex>``, the HMAC-SHA256
of ``"<timestamp>." + raw body`` with the shared secret.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# --- paths -----------------------------------------------------------------------------------

AUTH = "/v1/auth"
PROFESSIONAL_VALIDATE = "/v1/professionals/validate"
PROFESSIONAL = "/v1/professionals/{ref}"  # ref: UUID or RPPS
PROFESSIONAL_ACTIVATE = "/v1/professionals/{id}/activate"
PROFESSIONAL_DEACTIVATE = "/v1/professionals/{id}/deactivate"
ENTITIES = "/v1/entities"
ENTITY_PROFESSIONALS = "/v1/entities/{id}/professionals"

# assumed
DRUGS = "/drugbase/v1/drugs"  # GET ?q=text&page=&per_page=  or  ?code=<CIS|CIP13|UCD13>
DRUG = "/drugbase/v1/drugs/{cis}"
ANALYSIS = "/v1/prescriptions/analysis"  # POST AnalysisRequest -> AnalysisResult
PRESCRIPTIONS = "/v1/prescriptions"  # POST PrescriptionCreate; GET ?externalId=
PRESCRIPTION = "/v1/prescriptions/{id}"
PRESCRIPTION_STATUS = "/v1/prescriptions/{id}/status"
PRESCRIPTION_CANCEL = "/v1/prescriptions/{id}/cancel"

IDEMPOTENCY_HEADER = "Idempotency-Key"
WEBHOOK_TIMESTAMP_HEADER = "X-Ordoclic-Timestamp"
WEBHOOK_SIGNATURE_HEADER = "X-Ordoclic-Signature"


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields ignored, used fields strict.

    For what Ordoclic answers: a new field on its side must not break us."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class RequestModel(ApiModel):
    """What we send (and what the sandbox receives): an unknown field is refused (422 naming
    it), since a misspelt key (``maxPer24h`` for ``maxPer24H``) would otherwise drop a check in
    silence. Assumed of the real API, as the rest of this module."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """Ordoclic's list envelope (snake_case keys, as Ordoclic's public API has them)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    page: int
    per_page: int
    page_count: int
    total_count: int
    items: list[T]


class ApiError(ApiModel):
    code: str = ""
    message: str
    field: str = ""


class ErrorBody(ApiModel):
    errors: list[ApiError] = Field(default_factory=list)


# --- drugs -----------------------------------------------------------------------------------


class DrugSubstance(ApiModel):
    code: str = ""
    name: str  # DCI, e.g. "PARACÉTAMOL"
    dosage: str = ""  # e.g. "1000 mg"


class Presentation(ApiModel):
    cip13: str
    label: str
    reimbursement_rate: str = ""  # as BDPM prints it, e.g. "65 %"; "" when not reimbursed
    reimbursement_rate_percent: int | None = None  # 100, 65, 30, 15; None: not reimbursable
    price_eur: Decimal | None = None  # public price incl. VAT; None when BDPM gives none


class GenericType(StrEnum):
    PRINCEPS = "princeps"
    GENERIC = "generic"


class GenericGroup(ApiModel):
    id: str
    label: str
    type: GenericType


class DrugList(StrEnum):
    """Listes des substances vénéneuses (CSP art. L5132-1)."""

    LIST_I = "liste_i"  # renewable only when the prescriber writes so
    LIST_II = "liste_ii"  # renewable unless the prescriber writes otherwise, up to 12 months
    NARCOTIC = "stupefiant"  # secure prescription, never renewed


class PrescriptionConditions(ApiModel):
    """The prescription and dispensing conditions of a product, typed (assumed: the sandbox
    reads them from the BDPM file ``CIS_CPD_bdpm.txt``; a certified database gives the same
    facts). ``Drug.prescription_conditions`` keeps the texts as published."""

    drug_list: DrugList | None = None
    # stupéfiant, or "assimilé" (zolpidem, ...): secure prescription, quantities in full letters
    secure_prescription: bool = False
    hospital_only: bool = False  # "réservé à l'usage hospitalier": never in a city context
    hospital_prescription: bool = False  # "prescription hospitalière"
    initial_hospital_prescription: bool = False  # "prescription initiale hospitalière ..."
    specialist_only: bool = False  # "prescription (initiale) réservée aux spécialistes ..."
    specialties: list[str] = Field(default_factory=list)  # "NEUROLOGIE", ...
    special_monitoring: bool = False  # "... surveillance particulière pendant le traitement"
    # longest prescription allowed, in days ("prescription limitée à 4 semaines" -> 28); for a
    # narcotic, the per-substance cap (7, 14 or 28 days) when it is shorter
    max_duration_days: int | None = None
    dispensing_fraction_days: int | None = None  # "délivrance fractionnée de 7 jours"
    overlap_forbidden: bool = False  # "chevauchement interdit sauf mention expresse"


class Drug(ApiModel):
    cis: str
    label: str  # the name to print, e.g. "DOLIPRANE 1000 mg, comprimé"
    form: str = ""  # "comprimé", "gélule", ...
    routes: list[str] = Field(default_factory=list)  # "orale", ...
    atc: str = ""
    substances: list[DrugSubstance] = Field(default_factory=list)
    common_name: str = ""  # DCI-level label, e.g. "paracétamol 1000 mg comprimé"
    presentations: list[Presentation] = Field(default_factory=list)
    generic_group: GenericGroup | None = None
    marketed: bool = True
    holder: str = ""
    prescription_conditions: list[str] = Field(default_factory=list)  # "liste I", ... as published
    conditions: PrescriptionConditions = Field(default_factory=PrescriptionConditions)


# --- analysis --------------------------------------------------------------------------------


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class Breastfeeding(StrEnum):
    NONE = "none"
    UNDER_ONE_MONTH = "under_one_month"
    OVER_ONE_MONTH = "over_one_month"


class HepaticInsufficiency(StrEnum):
    NONE = "none"
    MODERATE = "moderate"
    SEVERE = "severe"


class PatientContext(RequestModel):
    birth_date: date
    sex: Sex = Sex.UNKNOWN
    weight_kg: Decimal | None = None  # read for children's doses (per kg)
    height_cm: Decimal | None = None
    pregnancy_weeks: int | None = None  # weeks of amenorrhoea; None when not pregnant
    breastfeeding: Breastfeeding = Breastfeeding.NONE
    creatinine_clearance: Decimal | None = None  # ml/min
    hepatic_insufficiency: HepaticInsufficiency = HepaticInsufficiency.NONE
    allergies: list[str] = Field(default_factory=list)  # substance or class names
    pathologies: list[str] = Field(default_factory=list)  # CIM-10 codes


class CodeSystem(StrEnum):
    CIS = "cis"
    CIP13 = "cip13"
    UCD = "ucd"
    DCI = "dci"  # a line prescribed by common name, see DrugRef


class DrugRef(RequestModel):
    """A product (CIS, CIP13, UCD) or, with ``code_system = "dci"``, a line prescribed in DCI:
    ``code`` is the substance (``"amoxicilline"``; a combination joins its substances with
    ``" + "``, ``"amoxicilline + acide clavulanique"``), ``dosage`` its strength (``"1 g"``,
    ``"250 mg/5 ml"``; a combination gives one per substance, in the same order, joined with
    ``" + "``) and ``form`` the pharmaceutical form (``"comprimé"``). Ordoclic analyses such a line
    through its substances (the route follows from the form unless the line gives one) and
    registers it as it is: the pharmacist dispenses a product of that common name. Assumed."""

    code_system: CodeSystem = CodeSystem.CIS
    code: str
    # DCI lines only; left out of a product reference's JSON
    dosage: str = Field(default="", exclude_if=lambda value: not value)
    form: str = Field(default="", exclude_if=lambda value: not value)


class FrequencyPeriod(StrEnum):
    DAY = "day"
    HOURS_24 = "24h"
    WEEK = "week"


class DurationUnit(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class LineIn(RequestModel):
    """One line as the analysis and the registration receive it."""

    line_id: str  # ours, echoed back in alerts
    drug: DrugRef
    dose: Decimal  # per intake
    unit: str  # "comprimé", "mg", "ml", "goutte", ...
    frequency_count: int = 1  # intakes per period
    frequency_period: FrequencyPeriod = FrequencyPeriod.DAY
    as_needed: bool = False
    max_per_24h: Decimal | None = None  # in `unit`, for "si besoin"
    duration_value: int | None = None
    duration_unit: DurationUnit = DurationUnit.DAY
    route: str = ""  # as BDPM names routes ("orale", "cutanée"); "" : the product's routes


class AnalysisRequest(RequestModel):
    patient: PatientContext
    lines: list[LineIn]
    # what the patient already takes (for interactions), same shape; alerts may name them too
    current_treatments: list[LineIn] = Field(default_factory=list)


class AlertLevel(StrEnum):
    """The four ANSM levels, highest first, then information. Non-interaction findings (allergy,
    pregnancy, renal, dose, duplicate) are mapped onto the same scale; INFO is for notices that
    ask no decision, such as a check that could not run (``AlertType.NOT_CHECKED``)."""

    CI = "CI"  # contre-indication
    ASDEC = "ASDEC"  # association déconseillée
    PE = "PE"  # précaution d'emploi
    APEC = "APEC"  # à prendre en compte
    INFO = "INFO"


LEVEL_RANK = {
    AlertLevel.CI: 4,
    AlertLevel.ASDEC: 3,
    AlertLevel.PE: 2,
    AlertLevel.APEC: 1,
    AlertLevel.INFO: 0,
}


class AlertType(StrEnum):
    """What an alert is about. A screen labels an alert by its type; the level word
    ("contre-indication", ...) is the label of drug interactions only."""

    DRUG_INTERACTION = "drug_interaction"
    CONTRAINDICATION = "contraindication"  # patient context: pregnancy, age, renal, ...
    ALLERGY = "allergy"
    PRECAUTION = "precaution"
    POSOLOGY_OVERDOSE = "posology_overdose"  # adult maximum, or per kg for a child
    POSOLOGY_UNDERDOSE = "posology_underdose"
    WEIGHT_REQUIRED = "weight_required"  # a child's dose is per kg and no weight was given
    REDUNDANT_ACTIVE_INGREDIENT = "redundant_active_ingredient"
    SAME_DRUG = "same_drug"
    CLASS_DUPLICATE = "class_duplicate"  # two substances of one class (two NSAIDs, ...)
    NOT_CHECKED = "not_checked"  # level INFO: a check that could not run, and why


class Trigger(StrEnum):
    AGE = "age"
    WEIGHT = "weight"
    PREGNANCY = "pregnancy"
    BREASTFEEDING = "breastfeeding"
    RENAL_FAILURE = "renal_failure"
    HEPATIC_FAILURE = "hepatic_failure"
    PATHOLOGY = "pathology"
    ALLERGY = "allergy"
    DOSE = "dose"


class AnalysisAlert(ApiModel):
    id: str  # stable for the same finding on the same lines: decisions refer to it
    type: AlertType
    level: AlertLevel
    # for a mixed thesaurus level ("CI - ASDEC - APEC") the candidate levels; `level` is the one
    # that applies to the doses and context given
    thesaurus_levels: list[AlertLevel] = Field(default_factory=list)
    title: str
    message: str
    action: str = ""  # what to do
    line_ids: list[str]
    substances: list[str] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)


class LineSummary(ApiModel):
    line_id: str
    highest: dict[str, AlertLevel] = Field(default_factory=dict)  # by AlertType value


class AnalysisResult(ApiModel):
    analysis_id: str
    analysed_at: datetime
    alerts: list[AnalysisAlert]
    line_summaries: list[LineSummary] = Field(default_factory=list)


# --- prescriptions ---------------------------------------------------------------------------


class PatientIdentity(PatientContext):
    last_name: str
    first_name: str
    ins: str = ""  # NIR/NIA when qualified
    ins_oid: str = ""


class NonSubstitutableReason(StrEnum):
    MTE = "MTE"
    EFG = "EFG"
    CIF = "CIF"


class PrescriptionLineIn(LineIn):
    """A line as registered. A DCI line (``drug.code_system = "dci"``) carries its DCI label
    (``"amoxicilline 1 g, comprimé"``), which the paper copy prints."""

    label: str
    posology_text: str  # the sentence printed on the paper copy
    quantity: str = ""
    renewals: int = 0
    non_substitutable: bool = False
    non_substitutable_reason: NonSubstitutableReason | None = None
    ald: bool = False
    instructions: str = ""
    # "NR": prescribed outside the conditions of reimbursement (printed "NR"; assumed field)
    non_reimbursable: bool = False


class AcknowledgedAlert(RequestModel):
    alert_id: str
    level: AlertLevel
    reason: str = ""


class PrescriptionCreate(RequestModel):
    external_id: str  # ours (UUID); search key after an ambiguous failure
    entity_id: str | None = None
    patient: PatientIdentity
    lines: list[PrescriptionLineIn]
    acknowledged_alerts: list[AcknowledgedAlert] = Field(default_factory=list)
    software_name: str = "origami"
    software_version: str
    issued_at: datetime
    dispensing_follow_up_objection: bool = False
    share_with_dmp: bool = True


class PrescriptionState(StrEnum):
    REGISTERED = "registered"
    CANCELLED = "cancelled"


class DispensingState(StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


class LineDispensingState(StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"
    SUBSTITUTED = "substituted"
    NOT_DELIVERED = "not_delivered"


class LineDispensing(ApiModel):
    line_id: str
    status: LineDispensingState
    dispensed_at: datetime | None = None


class Dispensing(ApiModel):
    status: DispensingState = DispensingState.NONE
    lines: list[LineDispensing] = Field(default_factory=list)
    updated_at: datetime | None = None


class RegisteredPrescription(ApiModel):
    id: str  # Ordoclic's UUID
    number: str  # the unique prescription number: opaque upper-case alphanumeric
    external_id: str
    qr_payload: str  # what the QR code of the paper copy carries
    status: PrescriptionState
    created_at: datetime
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    dispensing: Dispensing = Field(default_factory=Dispensing)


class PrescriptionCancel(RequestModel):
    reason: str  # a code from our short list
    comment: str = ""


class PrescriptionStatus(ApiModel):
    id: str
    number: str
    status: PrescriptionState
    dispensing: Dispensing
    updated_at: datetime


class WebhookEventType(StrEnum):
    DISPENSING_UPDATED = "prescription.dispensing_updated"
    CANCELLED = "prescription.cancelled"


class WebhookEvent(ApiModel):
    event_id: str
    type: WebhookEventType
    occurred_at: datetime
    prescription: PrescriptionStatus
    external_id: str = ""
