"""The analysis engine: interactions, patient-context contraindications, doses, duplicates.

Pure functions over an :class:`AnalysisRequest` and the drugs it names (resolved by the caller
from the catalogue), so the rules are tested without HTTP. Levels follow the ANSM thesaurus
(CI > ASDEC > PE > APEC); other findings are mapped onto the same scale, and a check that could
not run is said as a ``not_checked`` notice at level INFO, never left out in silence.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ordoclic_client.contract import (
    LEVEL_RANK,
    AlertLevel,
    AlertType,
    AnalysisRequest,
    Breastfeeding,
    FrequencyPeriod,
    HepaticInsufficiency,
    LineIn,
    PatientContext,
    Trigger,
)
from ordoclic_client.sandbox.clinical import (
    ALLERGY_CLASS_NAMES,
    CHILD_AGE_LIMIT_YEARS,
    CHILD_DOSES,
    DUPLICATE_GROUPS,
    LOCAL_ROUTES,
    ORAL_ROUTES,
    ChildDose,
    child_dose,
)
from ordoclic_client.sandbox.thesaurus import (
    CLASSES,
    INTERACTIONS,
    Interaction,
    canonical_substance,
    classes_of,
    display_name,
    term_matches,
)
from ordoclic_client.text import fold

CI, ASDEC, PE, APEC = AlertLevel.CI, AlertLevel.ASDEC, AlertLevel.PE, AlertLevel.APEC
LEVEL_WORDS = {
    CI: "contre-indication",
    ASDEC: "association déconseillée",
    PE: "précaution d'emploi",
    APEC: "à prendre en compte",
    AlertLevel.INFO: "information",
}


@dataclass(frozen=True)
class Substance:
    key: str  # thesaurus key, or the folded name when the thesaurus does not know it
    name: str
    dosage: str  # "1000 mg", "0,30 mg/dose", "5 mg/ml"


@dataclass(frozen=True)
class ResolvedDrug:
    cis: str  # for a DCI line, a key of its own ("dci:amoxicilline|1 g|comprimé")
    label: str
    substances: tuple[Substance, ...]
    routes: tuple[str, ...] = ()  # BDPM routes of the product ("orale", "cutanée", ...)


class UnknownDrug(LookupError):
    def __init__(self, index: int, field_name: str, code: str) -> None:
        super().__init__(code)
        self.index = index
        self.field = field_name
        self.code = code


@dataclass
class LineFacts:
    line: LineIn
    drug: ResolvedDrug
    current: bool

    @property
    def line_id(self) -> str:
        return self.line.line_id

    @property
    def routes(self) -> set[str]:
        """The route the line gives, else the product's; folded."""
        if self.line.route.strip():
            return {fold(self.line.route)}
        return {fold(r) for r in self.drug.routes}

    @property
    def systemic(self) -> bool:
        """Unknown routes count as systemic: a rule is never dropped for want of a route."""
        routes = self.routes
        return not routes or bool(routes - LOCAL_ROUTES)

    @property
    def oral(self) -> bool:
        routes = self.routes
        return not routes or bool(routes & ORAL_ROUTES)

    def exposed(self, scope: str) -> bool:
        if scope == "any":
            return True
        return self.oral if scope == "oral" else self.systemic


@dataclass
class Finding:
    type: AlertType
    level: AlertLevel
    title: str
    message: str
    action: str
    line_ids: list[str]
    substances: list[str]
    triggers: list[Trigger] = field(default_factory=list)
    thesaurus_levels: list[AlertLevel] = field(default_factory=list)

    @property
    def id(self) -> str:
        basis = "|".join(
            [
                self.type.value,
                "+".join(sorted(self.substances)),
                "+".join(sorted(self.line_ids)),
                "+".join(sorted(t.value for t in self.triggers)),
            ]
        )
        return hashlib.sha256(basis.encode()).hexdigest()[:20]

    def as_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type.value,
            "level": self.level.value,
            "thesaurusLevels": [lv.value for lv in self.thesaurus_levels],
            "title": self.title,
            "message": self.message,
            "action": self.action,
            "lineIds": self.line_ids,
            "substances": self.substances,
            "triggers": [t.value for t in self.triggers],
        }


# --- doses -----------------------------------------------------------------------------------

_MASS = {
    "mg": 1.0,
    "g": 1000.0,
    "µg": 0.001,
    "ug": 0.001,
    "mcg": 0.001,
    "microgrammes": 0.001,
    "microgramme": 0.001,
    "microgrammes/dose": 0.001,
}
_DOSAGE = re.compile(r"^\s*([0-9][0-9 ]*(?:[.,][0-9]+)?)\s*([a-zA-Zµ]+)(?:\s*/\s*(.*))?$")
_PER_QUANTITY = re.compile(r"^([0-9]+(?:[.,][0-9]+)?)\s*")
# Units that count dose units of the form (a dosage "500 mg" is per unit of the form).
_VOLUME_UNITS = {"ml", "l", "g", "goutte", "gouttes"}


def _number(text: str) -> float:
    return float(text.replace(" ", "").replace(",", "."))


def dosage_mg(dosage: str) -> tuple[float, str] | None:
    """mg per one unit of what the dosage is given per: "1000 mg" -> (1000, ""),
    "5 mg/ml" -> (5, "ml"), "2,40 g/100 ml" -> (24, "ml"), "100 microgrammes" -> (0.1, "")."""
    match = _DOSAGE.match(dosage)
    if not match:
        return None
    unit = match.group(2).lower()
    if unit not in _MASS:
        return None
    raw = (match.group(3) or "").strip()
    number = _PER_QUANTITY.match(raw)
    quantity = (_number(number.group(1)) or 1.0) if number else 1.0
    per = fold(raw[number.end() :] if number else raw)
    return _number(match.group(1)) * _MASS[unit] / quantity, per


def mg_per_intake(line: LineIn, substance: Substance, n_substances: int) -> float | None:
    """The mg of one substance in one intake, or None when the unit does not tell it (a
    volume of a per-unit dosage, drops, a mass of a combination)."""
    unit = fold(line.unit.strip().replace("µ", "u"))  # "µg" -> "ug"
    dose = float(line.dose)
    if unit in _MASS:
        return dose * _MASS[unit] if n_substances == 1 else None
    strength = dosage_mg(substance.dosage)
    if strength is None:
        return None
    mg, per = strength
    if per in {"ml", "g"}:
        return dose * mg if unit in {per, per + "s"} else None
    if unit in _VOLUME_UNITS:
        return None  # a per-unit dosage ("20 mg" per ampoule) says nothing of one ml
    return dose * mg  # per unit of the form, or per dose / per actuation


def mg_per_day(line: LineIn, substance: Substance, n_substances: int) -> float | None:
    if line.as_needed and line.max_per_24h is not None:
        capped = line.model_copy(update={"dose": line.max_per_24h})
        return mg_per_intake(capped, substance, n_substances)
    per_intake = mg_per_intake(line, substance, n_substances)
    if per_intake is None:
        return None
    daily = per_intake * line.frequency_count
    return daily / 7 if line.frequency_period == FrequencyPeriod.WEEK else daily


def mg_per_week(line: LineIn, substance: Substance, n_substances: int) -> float | None:
    daily = mg_per_day(line, substance, n_substances)
    return None if daily is None else daily * 7


def _doses(facts: LineFacts, substance: Substance) -> tuple[float | None, float | None]:
    n = len(facts.drug.substances)
    return mg_per_intake(facts.line, substance, n), mg_per_day(facts.line, substance, n)


# --- mixed levels ----------------------------------------------------------------------------

ULCER_CODES = ("K25", "K26", "K27", "K28")
HYPOKALAEMIA_CODES = ("E87.6", "E876")

Side = tuple[LineFacts, Substance]
Resolution = tuple[AlertLevel, list[Trigger], str] | None


def _has_pathology(patient: PatientContext, prefixes: tuple[str, ...]) -> bool:
    return any(code.strip().upper().startswith(prefixes) for code in patient.pathologies)


def _side(sides: tuple[Side, Side], key: str) -> Side:
    return sides[0] if sides[0][1].key == key else sides[1]


def _methotrexate_aspirin(sides: tuple[Side, Side], patient: PatientContext) -> Resolution:
    mtx_facts, mtx = _side(sides, "methotrexate")
    asp_facts, asp = _side(sides, "acide acetylsalicylique")
    weekly = mg_per_week(mtx_facts.line, mtx, len(mtx_facts.drug.substances))
    per_intake, daily = _doses(asp_facts, asp)
    if weekly is None or per_intake is None:
        return CI, [Trigger.DOSE], "Doses non calculables : le niveau le plus élevé s'applique."
    analgesic = per_intake >= 500 or (daily or 0) >= 3000
    if analgesic and weekly > 20:
        return (
            CI,
            [Trigger.DOSE],
            (
                f"Méthotrexate {weekly:g} mg par semaine (> 20 mg) avec de l'aspirine à dose "
                "antalgique ou anti-inflammatoire."
            ),
        )
    return (
        PE,
        [Trigger.DOSE],
        (
            f"Méthotrexate {weekly:g} mg par semaine avec de l'aspirine à {per_intake:g} mg "
            "par prise."
        ),
    )


def _aspirin_anticoagulant(sides: tuple[Side, Side], patient: PatientContext) -> Resolution:
    asp_facts, asp = _side(sides, "acide acetylsalicylique")
    per_intake, daily = _doses(asp_facts, asp)
    ulcer = _has_pathology(patient, ULCER_CODES)
    triggers = [Trigger.DOSE] + ([Trigger.PATHOLOGY] if ulcer else [])
    antiplatelet = (
        per_intake is not None and daily is not None and per_intake < 500 and daily <= 375
    )
    if antiplatelet:
        return APEC, triggers, "Aspirine à dose antiagrégante (50 à 375 mg par jour)."
    if ulcer:
        return (
            CI,
            triggers,
            (
                "Aspirine à dose antalgique ou anti-inflammatoire et antécédent d'ulcère "
                "gastro-duodénal."
            ),
        )
    return (
        ASDEC,
        triggers,
        (
            "Aspirine à dose antalgique ou anti-inflammatoire, sans antécédent d'ulcère "
            "gastro-duodénal connu."
        ),
    )


def _avk_paracetamol(sides: tuple[Side, Side], patient: PatientContext) -> Resolution:
    para_facts, para = _side(sides, "paracetamol")
    _, daily = _doses(para_facts, para)
    if daily is not None and daily < 4000:
        return None  # only at maximal doses
    return PE, [Trigger.DOSE], "Paracétamol à la dose maximale de 4 g par jour."


def _k_sparing_potassium(sides: tuple[Side, Side], patient: PatientContext) -> Resolution:
    if _has_pathology(patient, HYPOKALAEMIA_CODES):
        return ASDEC, [Trigger.PATHOLOGY], "Hypokaliémie connue : association déconseillée."
    return CI, [], ""


MIXED_RESOLVERS: dict[str, Callable[[tuple[Side, Side], PatientContext], Resolution]] = {
    "methotrexate_aspirin": _methotrexate_aspirin,
    "aspirin_anticoagulant": _aspirin_anticoagulant,
    "avk_paracetamol": _avk_paracetamol,
    "k_sparing_potassium": _k_sparing_potassium,
}


# --- patient context -------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextRule:
    term: str  # "s:<substance>" or "c:<class>"
    level: AlertLevel
    message: str
    action: str
    applies: Callable[[PatientContext, date], bool]


def _pregnant(from_week: int = 0, to_week: int = 99) -> Callable[[PatientContext, date], bool]:
    def check(patient: PatientContext, today: date) -> bool:
        weeks = patient.pregnancy_weeks
        return weeks is not None and from_week <= weeks < to_week

    return check


def _breastfeeding(patient: PatientContext, today: date) -> bool:
    return patient.breastfeeding != Breastfeeding.NONE


def _clearance_below(limit: float) -> Callable[[PatientContext, date], bool]:
    def check(patient: PatientContext, today: date) -> bool:
        clearance = patient.creatinine_clearance
        return clearance is not None and float(clearance) < limit

    return check


def age_years(birth_date: date, today: date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def _younger_than(years: int) -> Callable[[PatientContext, date], bool]:
    return lambda patient, today: age_years(patient.birth_date, today) < years


def _at_least(years: int) -> Callable[[PatientContext, date], bool]:
    return lambda patient, today: age_years(patient.birth_date, today) >= years


def _severe_hepatic(patient: PatientContext, today: date) -> bool:
    return patient.hepatic_insufficiency == HepaticInsufficiency.SEVERE


def _s(name: str) -> str:
    return "s:" + fold(name)


PREGNANCY_RULES = [
    ContextRule(
        "c:retinoides",
        CI,
        "Rétinoïde : tératogène majeur.",
        "Ne pas prescrire pendant la grossesse.",
        _pregnant(),
    ),
    ContextRule(
        _s("méthotrexate"),
        CI,
        "Méthotrexate : tératogène et abortif.",
        "Ne pas prescrire pendant la grossesse.",
        _pregnant(),
    ),
    ContextRule(
        _s("valproate"),
        CI,
        "Valproate : risque malformatif et neurodéveloppemental.",
        "Ne pas prescrire sauf absence d'alternative, avis spécialisé.",
        _pregnant(),
    ),
    ContextRule(
        "c:avk", CI, "Antivitamine K : risque embryo-fœtal.", "Relais par héparine.", _pregnant()
    ),
    ContextRule(
        "c:statines",
        CI,
        "Statine : contre-indiquée pendant la grossesse.",
        "Interrompre la statine.",
        _pregnant(),
    ),
    ContextRule(
        "c:iec",
        ASDEC,
        "IEC au premier trimestre : déconseillé.",
        "Préférer un autre antihypertenseur.",
        _pregnant(0, 14),
    ),
    ContextRule(
        "c:iec",
        CI,
        "IEC aux 2e et 3e trimestres : fœtotoxicité.",
        "Ne pas prescrire ; autre antihypertenseur.",
        _pregnant(14),
    ),
    ContextRule(
        "c:ara2",
        ASDEC,
        "ARA II au premier trimestre : déconseillé.",
        "Préférer un autre antihypertenseur.",
        _pregnant(0, 14),
    ),
    ContextRule(
        "c:ara2",
        CI,
        "ARA II aux 2e et 3e trimestres : fœtotoxicité.",
        "Ne pas prescrire ; autre antihypertenseur.",
        _pregnant(14),
    ),
    ContextRule(
        "c:ains",
        ASDEC,
        "AINS avant 24 semaines d'aménorrhée : déconseillé.",
        "Préférer le paracétamol.",
        _pregnant(0, 24),
    ),
    ContextRule(
        "c:ains",
        CI,
        "AINS à partir de 24 semaines d'aménorrhée : toxicité fœtale (rénale, cardio-pulmonaire).",
        "Ne pas prescrire ; préférer le paracétamol.",
        _pregnant(24),
    ),
    ContextRule(
        "c:cyclines",
        CI,
        "Cycline à partir du 2e trimestre : coloration des dents de l'enfant.",
        "Choisir un autre antibiotique.",
        _pregnant(14),
    ),
    ContextRule(
        "c:fluoroquinolones",
        ASDEC,
        "Fluoroquinolone pendant la grossesse : déconseillée.",
        "Choisir un autre antibiotique si possible.",
        _pregnant(),
    ),
    ContextRule(
        _s("lithium"),
        ASDEC,
        "Lithium pendant la grossesse : risque malformatif cardiaque.",
        "Avis spécialisé, surveillance de la lithémie.",
        _pregnant(),
    ),
]
BREASTFEEDING_RULES = [
    ContextRule(
        _s("lithium"),
        CI,
        "Lithium : passe dans le lait maternel.",
        "Ne pas allaiter ou ne pas prescrire.",
        _breastfeeding,
    ),
    ContextRule(
        _s("méthotrexate"),
        CI,
        "Méthotrexate : contre-indiqué pendant l'allaitement.",
        "Ne pas allaiter ou ne pas prescrire.",
        _breastfeeding,
    ),
    ContextRule(
        _s("amiodarone"),
        CI,
        "Amiodarone : passe dans le lait (iode).",
        "Ne pas allaiter ou ne pas prescrire.",
        _breastfeeding,
    ),
    ContextRule(
        "c:retinoides",
        CI,
        "Rétinoïde : contre-indiqué pendant l'allaitement.",
        "Ne pas prescrire.",
        _breastfeeding,
    ),
    ContextRule(
        _s("codéine"),
        CI,
        "Codéine : risque de toxicité morphinique chez le nourrisson.",
        "Choisir un autre antalgique.",
        _breastfeeding,
    ),
    ContextRule(
        "c:cyclines",
        ASDEC,
        "Cycline pendant l'allaitement : déconseillée.",
        "Choisir un autre antibiotique.",
        _breastfeeding,
    ),
    ContextRule(
        "c:fluoroquinolones",
        ASDEC,
        "Fluoroquinolone pendant l'allaitement : déconseillée.",
        "Choisir un autre antibiotique.",
        _breastfeeding,
    ),
]
RENAL_RULES = [
    ContextRule(
        _s("metformine"),
        CI,
        "Metformine et clairance de la créatinine < 30 ml/min : risque d'acidose lactique.",
        "Arrêter la metformine.",
        _clearance_below(30),
    ),
    ContextRule(
        _s("nitrofurantoïne"),
        CI,
        "Nitrofurantoïne et clairance < 45 ml/min : inefficace et toxique.",
        "Choisir un autre antibiotique.",
        _clearance_below(45),
    ),
    ContextRule(
        "c:epargneurs_k",
        CI,
        "Diurétique épargneur de potassium et clairance < 30 ml/min : hyperkaliémie.",
        "Ne pas prescrire.",
        _clearance_below(30),
    ),
    ContextRule(
        _s("apixaban"),
        CI,
        "Apixaban et clairance < 15 ml/min.",
        "Ne pas prescrire.",
        _clearance_below(15),
    ),
    ContextRule(
        _s("rivaroxaban"),
        CI,
        "Rivaroxaban et clairance < 15 ml/min.",
        "Ne pas prescrire.",
        _clearance_below(15),
    ),
    ContextRule(
        _s("dabigatran"),
        CI,
        "Dabigatran et clairance < 30 ml/min.",
        "Ne pas prescrire.",
        _clearance_below(30),
    ),
    ContextRule(
        _s("méthotrexate"),
        CI,
        "Méthotrexate et clairance < 30 ml/min.",
        "Ne pas prescrire.",
        _clearance_below(30),
    ),
    ContextRule(
        "c:ains",
        CI,
        "AINS et insuffisance rénale sévère (clairance < 30 ml/min).",
        "Ne pas prescrire ; préférer le paracétamol.",
        _clearance_below(30),
    ),
    ContextRule(
        _s("lithium"),
        CI,
        "Lithium et clairance < 30 ml/min.",
        "Ne pas prescrire.",
        _clearance_below(30),
    ),
    ContextRule(
        _s("colchicine"),
        CI,
        "Colchicine et insuffisance rénale sévère.",
        "Ne pas prescrire.",
        _clearance_below(30),
    ),
    ContextRule(
        _s("énoxaparine"),
        PE,
        "Énoxaparine et clairance < 30 ml/min : accumulation.",
        "Adapter la posologie, surveiller l'activité anti-Xa.",
        _clearance_below(30),
    ),
]
AGE_RULES = [
    ContextRule(
        _s("codéine"),
        CI,
        "Codéine chez l'enfant de moins de 12 ans.",
        "Choisir un autre antalgique.",
        _younger_than(12),
    ),
    ContextRule(
        _s("tramadol"),
        CI,
        "Tramadol chez l'enfant de moins de 12 ans.",
        "Choisir un autre antalgique.",
        _younger_than(12),
    ),
    ContextRule(
        "c:cyclines",
        CI,
        "Cycline chez l'enfant de moins de 8 ans : coloration dentaire.",
        "Choisir un autre antibiotique.",
        _younger_than(8),
    ),
    ContextRule(
        _s("lopéramide"),
        CI,
        "Lopéramide chez l'enfant de moins de 2 ans.",
        "Ne pas prescrire.",
        _younger_than(2),
    ),
    ContextRule(
        _s("métoclopramide"),
        CI,
        "Métoclopramide chez l'enfant de moins d'un an.",
        "Ne pas prescrire.",
        _younger_than(1),
    ),
    ContextRule(
        "c:fluoroquinolones",
        ASDEC,
        "Fluoroquinolone chez l'enfant ou l'adolescent en croissance.",
        "Réserver aux situations sans alternative.",
        _younger_than(18),
    ),
    ContextRule(
        "c:benzodiazepines",
        PE,
        "Benzodiazépine chez le sujet de 75 ans ou plus : chutes, confusion.",
        "Réduire la dose de moitié, durée courte.",
        _at_least(75),
    ),
]
HEPATIC_RULES = [
    ContextRule(
        _s("paracétamol"),
        CI,
        "Paracétamol et insuffisance hépatocellulaire sévère.",
        "Ne pas prescrire.",
        _severe_hepatic,
    ),
    ContextRule(
        _s("méthotrexate"),
        CI,
        "Méthotrexate et insuffisance hépatique sévère.",
        "Ne pas prescrire.",
        _severe_hepatic,
    ),
]
CONTEXT_RULES: list[tuple[Trigger, list[ContextRule]]] = [
    (Trigger.PREGNANCY, PREGNANCY_RULES),
    (Trigger.BREASTFEEDING, BREASTFEEDING_RULES),
    (Trigger.RENAL_FAILURE, RENAL_RULES),
    (Trigger.AGE, AGE_RULES),
    (Trigger.HEPATIC_FAILURE, HEPATIC_RULES),
]

CHILD_DOSES_KEYS = frozenset(CHILD_DOSES)

# Maximum doses for adults: (per intake, per 24 h) in mg.
MAX_DOSES: dict[str, tuple[float, float]] = {
    "paracetamol": (1000, 4000),
    "ibuprofene": (800, 2400),
    "ketoprofene": (100, 300),
    "tramadol": (100, 400),
    "codeine": (60, 240),
    "acide acetylsalicylique": (1000, 4000),
    "colchicine": (1, 3),
    "metformine": (1000, 3000),
    "zolpidem": (10, 10),
    "sildenafil": (100, 100),
    "tadalafil": (20, 20),
    "domperidone": (10, 30),
    "metoclopramide": (10, 30),
    "loperamide": (4, 16),
    "ciprofloxacine": (750, 1500),
}


# --- the analysis ----------------------------------------------------------------------------


def _pair_title(a: str, b: str, level: AlertLevel) -> str:
    return f"{display_name(a).capitalize()} + {display_name(b)} : {LEVEL_WORDS[level]}"


def _interactions(facts: list[LineFacts], patient: PatientContext) -> list[Finding]:
    best: dict[tuple[str, ...], Finding] = {}
    for i, left in enumerate(facts):
        for right in facts[i + 1 :]:
            if left.current and right.current:
                continue
            for sa in left.drug.substances:
                for sb in right.drug.substances:
                    if sa.key == sb.key:
                        continue
                    for rule in INTERACTIONS:
                        finding = _apply_rule(rule, (left, sa), (right, sb), patient)
                        if finding is None:
                            continue
                        key = (*sorted([left.line_id, right.line_id]), *sorted([sa.key, sb.key]))
                        kept = best.get(key)
                        if kept is None or LEVEL_RANK[finding.level] > LEVEL_RANK[kept.level]:
                            best[key] = finding
    return list(best.values())


def _apply_rule(rule: Interaction, a: Side, b: Side, patient: PatientContext) -> Finding | None:
    classes_a, classes_b = classes_of(a[1].key), classes_of(b[1].key)
    if term_matches(rule.left, a[1].key, classes_a) and term_matches(
        rule.right, b[1].key, classes_b
    ):
        sides = (a, b)
    elif term_matches(rule.left, b[1].key, classes_b) and term_matches(
        rule.right, a[1].key, classes_a
    ):
        sides = (b, a)
    else:
        return None
    if not (sides[0][0].exposed(rule.scope) and sides[1][0].exposed(rule.scope)):
        return None  # e.g. a lotion does not carry the oral rules of its substance
    level, triggers, detail = rule.levels[0], list[Trigger](), ""
    if rule.mixed:
        resolved = MIXED_RESOLVERS[rule.mixed](sides, patient)
        if resolved is None:
            return None
        level, triggers, detail = resolved
    (fa, sa), (fb, sb) = sides
    where = [f.line.line_id for f in (fa, fb)]
    current = [f.drug.label for f in (fa, fb) if f.current]
    message = rule.risk
    if detail:
        message = f"{message} {detail}"
    if current:
        message = f"{message} (traitement en cours : {', '.join(current)})"
    return Finding(
        type=AlertType.DRUG_INTERACTION,
        level=level,
        title=_pair_title(sa.key, sb.key, level),
        message=message,
        action=rule.action,
        line_ids=where,
        substances=[display_name(sa.key), display_name(sb.key)],
        triggers=triggers,
        thesaurus_levels=list(rule.levels),
    )


def _duplicates(facts: list[LineFacts]) -> list[Finding]:
    found = []
    for i, left in enumerate(facts):
        for right in facts[i + 1 :]:
            if left.current and right.current:
                continue
            shared = sorted(
                {s.key for s in left.drug.substances} & {s.key for s in right.drug.substances}
            )
            if not shared:
                continue
            same = left.drug.cis == right.drug.cis
            names = ", ".join(display_name(k) for k in shared)
            found.append(
                Finding(
                    type=AlertType.SAME_DRUG if same else AlertType.REDUNDANT_ACTIVE_INGREDIENT,
                    level=ASDEC,
                    title=(
                        f"Même médicament prescrit deux fois : {left.drug.label}"
                        if same
                        else f"Substance active en double : {names}"
                    ),
                    message=f"{left.drug.label} et {right.drug.label} contiennent {names} : "
                    "risque de surdosage.",
                    action="Supprimer l'une des deux lignes ou vérifier la dose totale.",
                    line_ids=[left.line_id, right.line_id],
                    substances=[display_name(k) for k in shared],
                )
            )
    return found


def _class_duplicates(facts: list[LineFacts]) -> list[Finding]:
    """Two different substances of one class on two lines (the same substance twice is
    a redundant active ingredient, above). Local forms do not count (a gel beside a tablet)."""
    found = []
    for i, left in enumerate(facts):
        for right in facts[i + 1 :]:
            if (left.current and right.current) or not (left.systemic and right.systemic):
                continue
            for group in DUPLICATE_GROUPS:
                members = [
                    {s.key for s in f.drug.substances if classes_of(s.key) & set(group.classes)}
                    for f in (left, right)
                ]
                pairs = sorted({(a, b) for a in members[0] for b in members[1] if a != b})
                if not pairs or members[0] & members[1]:
                    continue
                a, b = pairs[0]
                current = [f.drug.label for f in (left, right) if f.current]
                message = f"{left.drug.label} et {right.drug.label} : {group.risk}"
                if current:
                    message += f" (traitement en cours : {', '.join(current)})"
                found.append(
                    Finding(
                        type=AlertType.CLASS_DUPLICATE,
                        level=group.level,
                        title=f"Doublon de classe : {group.label} ({display_name(a)} + "
                        f"{display_name(b)})",
                        message=message,
                        action=group.action,
                        line_ids=[left.line_id, right.line_id],
                        substances=[display_name(a), display_name(b)],
                    )
                )
    return found


def allergy_terms(allergy: str) -> set[str]:
    """The thesaurus terms ("s:<substance>", "c:<class>") an allergy names; empty when the
    engine does not recognise it (then it says so rather than ignore it)."""
    folded = fold(allergy)
    if not folded:
        return set()
    terms = {f"c:{key}" for key in ALLERGY_CLASS_NAMES.get(folded, ())}
    substance = canonical_substance(allergy)
    if substance:
        terms.add(f"s:{substance}")
    for class_key, drug_class in CLASSES.items():
        label = fold(drug_class.label)
        if folded.rstrip("s") in {class_key.rstrip("s"), label.rstrip("s")} or (
            folded == label.split(" (")[0]
        ):
            terms.add(f"c:{class_key}")
    return terms


def _unrecognised_allergies(facts: list[LineFacts], patient: PatientContext) -> list[Finding]:
    new_lines = [f.line_id for f in facts if not f.current]
    if not new_lines:
        return []
    return [
        Finding(
            type=AlertType.NOT_CHECKED,
            level=AlertLevel.INFO,
            title=f"Allergie non vérifiée : « {allergy} »",
            message=f"L'allergie « {allergy} » ne correspond à aucune substance ni classe connue "
            "de la base : la prescription n'a pas été vérifiée contre elle.",
            action="Saisir l'allergie par sa substance (DCI) ou sa classe (ex. : pénicillines, "
            "bêtalactamines, AINS) et vérifier la prescription vous-même.",
            line_ids=new_lines,
            substances=[],
            triggers=[Trigger.ALLERGY],
        )
        for allergy in patient.allergies
        if allergy.strip() and not allergy_terms(allergy)
    ]


def _context(facts: list[LineFacts], patient: PatientContext, today: date) -> list[Finding]:
    found = _unrecognised_allergies(facts, patient)
    for f in facts:
        if f.current:
            continue
        for s in f.drug.substances:
            classes = classes_of(s.key)
            for allergy in patient.allergies:
                if any(term_matches(t, s.key, classes) for t in allergy_terms(allergy)):
                    found.append(
                        Finding(
                            type=AlertType.ALLERGY,
                            level=CI,
                            title=f"Allergie connue : {allergy}",
                            message=f"{f.drug.label} contient {display_name(s.key)} ; le patient "
                            f"est allergique à : {allergy}.",
                            action="Ne pas prescrire ; choisir une autre classe.",
                            line_ids=[f.line_id],
                            substances=[display_name(s.key)],
                            triggers=[Trigger.ALLERGY],
                        )
                    )
            for trigger, rules in CONTEXT_RULES:
                for rule in rules:
                    if term_matches(rule.term, s.key, classes) and rule.applies(patient, today):
                        found.append(
                            Finding(
                                type=AlertType.CONTRAINDICATION
                                if rule.level in (CI, ASDEC)
                                else AlertType.PRECAUTION,
                                level=rule.level,
                                title=f"{f.drug.label} : {LEVEL_WORDS[rule.level]}",
                                message=rule.message,
                                action=rule.action,
                                line_ids=[f.line_id],
                                substances=[display_name(s.key)],
                                triggers=[trigger],
                            )
                        )
    return found


def _fr(value: float) -> str:
    """A figure as a French reader writes it: 47,6 ; 1260."""
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def _not_checked(f: LineFacts, s: Substance, why: str, triggers: list[Trigger]) -> Finding:
    return Finding(
        type=AlertType.NOT_CHECKED,
        level=AlertLevel.INFO,
        title=f"Dose de {display_name(s.key)} non vérifiée",
        message=f"{f.drug.label} : {why}",
        action="Vérifier la dose vous-même.",
        line_ids=[f.line_id],
        substances=[display_name(s.key)],
        triggers=triggers,
    )


def _methotrexate_daily(f: LineFacts, s: Substance) -> Finding | None:
    if s.key != "methotrexate" or f.line.frequency_period == FrequencyPeriod.WEEK:
        return None
    return Finding(
        type=AlertType.POSOLOGY_OVERDOSE,
        level=ASDEC,
        title="Méthotrexate en prise quotidienne",
        message="Le méthotrexate oral se prend une fois par semaine ; une prise "
        "quotidienne expose à un surdosage grave.",
        action="Vérifier le rythme : une prise par semaine, jour fixe.",
        line_ids=[f.line_id],
        substances=[display_name(s.key)],
        triggers=[Trigger.DOSE],
    )


def _uncomputable(f: LineFacts, s: Substance) -> str:
    return (
        f"la dose prescrite ({_fr(float(f.line.dose))} {f.line.unit}) ne se convertit pas en mg "
        f"de {display_name(s.key)} (dosage du produit : {s.dosage or 'inconnu'})."
    )


def _adult_dose(f: LineFacts, s: Substance, limits: tuple[float, float]) -> list[Finding]:
    per_intake, daily = _doses(f, s)
    if per_intake is None or daily is None:
        return [_not_checked(f, s, _uncomputable(f, s), [Trigger.DOSE])]
    too_much = []
    if not f.line.as_needed and per_intake > limits[0] + 1e-9:
        too_much.append(f"{per_intake:g} mg par prise (maximum {limits[0]:g} mg)")
    if daily > limits[1] + 1e-9:
        too_much.append(f"{daily:g} mg par 24 h (maximum {limits[1]:g} mg)")
    if not too_much:
        return []
    return [
        Finding(
            type=AlertType.POSOLOGY_OVERDOSE,
            level=ASDEC,
            title=f"Dose de {display_name(s.key)} au-dessus du maximum",
            message=f"{f.drug.label} : " + " ; ".join(too_much) + ".",
            action="Réduire la dose ou espacer les prises.",
            line_ids=[f.line_id],
            substances=[display_name(s.key)],
            triggers=[Trigger.DOSE],
        )
    ]


def _child_dose(f: LineFacts, s: Substance, rule: ChildDose, weight: float) -> list[Finding]:
    """Per kg of the child's weight, capped by the ceiling whatever the weight."""
    per_intake, daily = _doses(f, s)
    triggers = [Trigger.AGE, Trigger.DOSE, Trigger.WEIGHT]
    if per_intake is None or daily is None:
        return [_not_checked(f, s, _uncomputable(f, s), triggers)]
    intake_limit = rule.per_intake_mg_kg * weight
    if rule.max_intake_mg is not None:
        intake_limit = min(intake_limit, rule.max_intake_mg)
    day_limit = min(rule.per_day_mg_kg * weight, rule.max_day_mg)
    too_much = []
    if not f.line.as_needed and per_intake > intake_limit + 1e-9:
        too_much.append(
            f"{_fr(per_intake)} mg par prise, soit {_fr(per_intake / weight)} mg/kg "
            f"(maximum {_fr(rule.per_intake_mg_kg)} mg/kg, {_fr(intake_limit)} mg)"
        )
    if daily > day_limit + 1e-9:
        too_much.append(
            f"{_fr(daily)} mg par 24 h, soit {_fr(daily / weight)} mg/kg/jour "
            f"(maximum {_fr(rule.per_day_mg_kg)} mg/kg/jour, {_fr(day_limit)} mg)"
        )
    if not too_much:
        return []
    toxic = rule.toxic_day_mg_kg is not None and daily / weight > rule.toxic_day_mg_kg + 1e-9
    return [
        Finding(
            type=AlertType.POSOLOGY_OVERDOSE,
            level=CI if toxic else ASDEC,
            title=f"Dose pédiatrique de {display_name(s.key)} au-dessus du maximum",
            message=f"{f.drug.label}, enfant de {_fr(weight)} kg : "
            + " ; ".join(too_much)
            + (
                f". Au-delà de {_fr(rule.toxic_day_mg_kg or 0)} mg/kg/jour, la dose est toxique."
                if toxic
                else "."
            ),
            action="Calculer la dose sur le poids de l'enfant.",
            line_ids=[f.line_id],
            substances=[display_name(s.key)],
            triggers=triggers,
        )
    ]


def _posology(facts: list[LineFacts], patient: PatientContext, today: date) -> list[Finding]:
    found: list[Finding] = []
    child = age_years(patient.birth_date, today) < CHILD_AGE_LIMIT_YEARS
    weight = float(patient.weight_kg) if patient.weight_kg else None
    needs_weight: list[LineFacts] = []
    for f in facts:
        if f.current:
            continue
        keys = {s.key for s in f.drug.substances}
        for s in f.drug.substances:
            if (daily_mtx := _methotrexate_daily(f, s)) is not None:
                found.append(daily_mtx)
            rule = child_dose(s.key, keys - {s.key}) if child else None
            limits = MAX_DOSES.get(s.key)
            if rule is not None and weight is not None:
                found += _child_dose(f, s, rule, weight)
            elif rule is not None:
                if f not in needs_weight:
                    needs_weight.append(f)
            elif limits is not None:
                found += _adult_dose(f, s, limits)
                if child:
                    found.append(
                        _not_checked(
                            f,
                            s,
                            "la base n'a pas de dose pédiatrique de référence pour "
                            f"{display_name(s.key)} : seul le maximum adulte a été vérifié.",
                            [Trigger.AGE, Trigger.DOSE],
                        )
                    )
    if needs_weight:
        labels = ", ".join(f.drug.label for f in needs_weight)
        found.append(
            Finding(
                type=AlertType.WEIGHT_REQUIRED,
                level=PE,
                title="Poids nécessaire : dose de l'enfant non vérifiée",
                message=f"Chez l'enfant, la dose se calcule par kilogramme ; sans poids "
                f"renseigné, la dose de {labels} n'a pas été vérifiée.",
                action="Peser l'enfant et saisir son poids, puis relancer l'analyse.",
                line_ids=[f.line_id for f in needs_weight],
                substances=sorted(
                    {
                        display_name(s.key)
                        for f in needs_weight
                        for s in f.drug.substances
                        if s.key in CHILD_DOSES_KEYS
                    }
                ),
                triggers=[Trigger.AGE, Trigger.WEIGHT],
            )
        )
    return found


def analyse(
    request: AnalysisRequest,
    resolve: Callable[[int, str, LineIn], ResolvedDrug],
    *,
    now: datetime,
) -> dict[str, Any]:
    """The wire :class:`AnalysisResult` for a request; ``resolve`` raises :class:`UnknownDrug`."""
    facts = [
        LineFacts(line, resolve(i, "lines", line), False) for i, line in enumerate(request.lines)
    ]
    facts += [
        LineFacts(line, resolve(i, "currentTreatments", line), True)
        for i, line in enumerate(request.current_treatments)
    ]
    findings = find_all(facts, request.patient, now.date())
    return {
        "analysisId": str(uuid.uuid4()),
        "analysedAt": rfc3339(now),
        "alerts": [f.as_wire() for f in findings],
        "lineSummaries": line_summaries(request.lines, findings),
    }


def find_all(facts: list[LineFacts], patient: PatientContext, today: date) -> list[Finding]:
    findings: dict[str, Finding] = {}
    for finding in [
        *_interactions(facts, patient),
        *_context(facts, patient, today),
        *_posology(facts, patient, today),
        *_duplicates(facts),
        *_class_duplicates(facts),
    ]:
        kept = findings.get(finding.id)
        if kept is None or LEVEL_RANK[finding.level] > LEVEL_RANK[kept.level]:
            findings[finding.id] = finding
    return sorted(findings.values(), key=lambda f: (-LEVEL_RANK[f.level], f.title))


def line_summaries(lines: Iterable[LineIn], findings: list[Finding]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        highest: dict[str, AlertLevel] = {}
        for f in findings:
            if line.line_id in f.line_ids:
                kept = highest.get(f.type.value)
                if kept is None or LEVEL_RANK[f.level] > LEVEL_RANK[kept]:
                    highest[f.type.value] = f.level
        out.append({"lineId": line.line_id, "highest": {k: v.value for k, v in highest.items()}})
    return out


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
