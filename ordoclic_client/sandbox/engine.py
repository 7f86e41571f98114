"""The analysis engine: interactions, patient-context contraindications, doses, duplicates.

Pure functions over an :class:`AnalysisRequest` and the drugs it names (resolved by the caller
from the catalogue), so the rules are tested without HTTP. Levels follow the ANSM thesaurus
(CI > ASDEC > PE > APEC); other findings are mapped onto the same scale.
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
from ordoclic_client.sandbox.text import fold
from ordoclic_client.sandbox.thesaurus import (
    CLASSES,
    INTERACTIONS,
    Interaction,
    canonical_substance,
    classes_of,
    display_name,
    term_matches,
)

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
    cis: str
    label: str
    substances: tuple[Substance, ...]


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


def _number(text: str) -> float:
    return float(text.replace(" ", "").replace(",", "."))


def dosage_mg(dosage: str) -> tuple[float, str] | None:
    """ "1000 mg" -> (1000, ""), "5 mg/ml" -> (5, "ml"), "100 microgrammes" -> (0.1, "")."""
    match = _DOSAGE.match(dosage)
    if not match:
        return None
    unit = match.group(2).lower()
    if unit not in _MASS:
        return None
    per = fold(match.group(3) or "")
    per = re.sub(r"^[0-9 ]+", "", per).strip()
    return _number(match.group(1)) * _MASS[unit], per


def mg_per_intake(line: LineIn, substance: Substance, n_substances: int) -> float | None:
    unit = line.unit.strip().lower()
    dose = float(line.dose)
    if unit in _MASS:
        return dose * _MASS[unit] if n_substances == 1 else None
    strength = dosage_mg(substance.dosage)
    if strength is None:
        return None
    mg, per = strength
    if per and fold(unit) not in {per, per + "s"} and not (per == "ml" and unit in {"ml", "mL"}):
        return None if per in {"ml", "g"} else dose * mg
    return dose * mg


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


def _allergy_matches(allergy: str, key: str, classes: set[str]) -> bool:
    folded = fold(allergy)
    if not folded:
        return False
    if folded == key or canonical_substance(allergy) == key:
        return True
    for class_key in classes:
        label = fold(CLASSES[class_key].label)
        if (
            folded.rstrip("s") in {class_key.rstrip("s"), label.rstrip("s")}
            or folded == label.split(" (")[0]
        ):
            return True
    return False


def _context(facts: list[LineFacts], patient: PatientContext, today: date) -> list[Finding]:
    found = []
    for f in facts:
        if f.current:
            continue
        for s in f.drug.substances:
            classes = classes_of(s.key)
            for allergy in patient.allergies:
                if _allergy_matches(allergy, s.key, classes):
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


def _posology(facts: list[LineFacts]) -> list[Finding]:
    found = []
    for f in facts:
        if f.current:
            continue
        for s in f.drug.substances:
            if s.key == "methotrexate" and f.line.frequency_period != FrequencyPeriod.WEEK:
                found.append(
                    Finding(
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
                )
            limits = MAX_DOSES.get(s.key)
            if limits is None:
                continue
            per_intake, daily = _doses(f, s)
            too_much = []
            if per_intake is not None and not f.line.as_needed and per_intake > limits[0] + 1e-9:
                too_much.append(f"{per_intake:g} mg par prise (maximum {limits[0]:g} mg)")
            if daily is not None and daily > limits[1] + 1e-9:
                too_much.append(f"{daily:g} mg par 24 h (maximum {limits[1]:g} mg)")
            if too_much:
                found.append(
                    Finding(
                        type=AlertType.POSOLOGY_OVERDOSE,
                        level=ASDEC,
                        title=f"Dose de {display_name(s.key)} au-dessus du maximum",
                        message=f"{f.drug.label} : " + " ; ".join(too_much) + ".",
                        action="Réduire la dose ou l'espacer des prises.",
                        line_ids=[f.line_id],
                        substances=[display_name(s.key)],
                        triggers=[Trigger.DOSE],
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
        *_posology(facts),
        *_duplicates(facts),
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
