"""Clinical reference data of the sandbox's engine besides the interaction thesaurus: children's
doses per kilogram, routes, same-class duplicates, allergy class names.

A certified drug database gives these per product; the sandbox keeps the usual values of the
French summaries of product characteristics (SmPC / RCP, as published in the BDPM) for the
substances of its catalogue. They are reference data for a stand-in, not dosing advice.
"""

from __future__ import annotations

from dataclasses import dataclass

from ordoclic_client.contract import AlertLevel
from ordoclic_client.text import fold

# --- children's doses ------------------------------------------------------------------------

# Below this age a dose is checked per kilogram (French paediatric SmPCs reason per kg up to
# 15 years; beyond, the adult maxima apply).
CHILD_AGE_LIMIT_YEARS = 15


@dataclass(frozen=True)
class ChildDose:
    """Usual maxima for a child, per kg of body weight, and the ceilings whatever the weight
    (a heavy child never gets more than the adult dose)."""

    per_intake_mg_kg: float
    per_day_mg_kg: float
    max_day_mg: float
    max_intake_mg: float | None = None
    # above this, the dose is toxic (hepatotoxicity of paracetamol): a contraindication
    toxic_day_mg_kg: float | None = None
    # the rule of this substance when the product also holds that one (amoxicilline with
    # acide clavulanique follows the combination's SmPC)
    combined_with: str = ""


CHILD_DOSES: dict[str, tuple[ChildDose, ...]] = {
    # RCP DOLIPRANE suspension buvable: 60 mg/kg/day in 4 intakes (15 mg/kg every 6 h, or
    # 10 mg/kg every 4 h), never above 80 mg/kg/day; from 50 kg the adult 1 g per intake, 4 g/day.
    "paracetamol": (
        ChildDose(
            per_intake_mg_kg=15,
            per_day_mg_kg=60,
            max_day_mg=4000,
            max_intake_mg=1000,
            toxic_day_mg_kg=80,
        ),
    ),
    # RCP ADVILMED enfants et nourrissons: 20 to 30 mg/kg/day in 3 to 4 intakes, at most
    # 10 mg/kg per intake; ceiling of non-prescription use in children 1200 mg/day.
    "ibuprofene": (
        ChildDose(per_intake_mg_kg=10, per_day_mg_kg=30, max_day_mg=1200, max_intake_mg=400),
    ),
    # RCP CLAMOXYL suspension: 50 to 100 mg/kg/day in 2 to 3 intakes, usual maximum 3 g/day.
    # RCP AUGMENTIN enfants: 80 mg/kg/day of amoxicilline in 3 intakes, at most 3 g/day.
    "amoxicilline": (
        ChildDose(per_intake_mg_kg=50, per_day_mg_kg=100, max_day_mg=3000),
        ChildDose(
            per_intake_mg_kg=80 / 3,
            per_day_mg_kg=80,
            max_day_mg=3000,
            combined_with="acide clavulanique",
        ),
    ),
    # RCP JOSACINE suspension: 50 mg/kg/day in 2 intakes (adult maximum 2 g/day).
    "josamycine": (ChildDose(per_intake_mg_kg=25, per_day_mg_kg=50, max_day_mg=2000),),
    # RCP SOLUPRED: 1 to 2 mg/kg/day, at most 60 mg/day, in one intake.
    "prednisolone": (ChildDose(per_intake_mg_kg=2, per_day_mg_kg=2, max_day_mg=60),),
    "prednisone": (ChildDose(per_intake_mg_kg=2, per_day_mg_kg=2, max_day_mg=60),),
    # RCP ZITHROMAX suspension: 20 mg/kg/day in one intake, at most 500 mg/day.
    "azithromycine": (ChildDose(per_intake_mg_kg=20, per_day_mg_kg=20, max_day_mg=500),),
    # RCP ZECLAR suspension: 15 mg/kg/day in 2 intakes, at most 1 g/day.
    "clarithromycine": (ChildDose(per_intake_mg_kg=7.5, per_day_mg_kg=15, max_day_mg=1000),),
}


def child_dose(substance: str, others: set[str]) -> ChildDose | None:
    rules = CHILD_DOSES.get(substance, ())
    combined = [r for r in rules if r.combined_with and r.combined_with in others]
    if combined:
        return combined[0]
    plain = [r for r in rules if not r.combined_with]
    return plain[0] if plain else None


# --- routes ----------------------------------------------------------------------------------

# BDPM routes (folded) through which a substance acts where it is put: the thesaurus rules,
# which concern systemic exposure, do not apply to them unless a rule says so. Inhaled forms
# count as local (the rules about corticosteroids concern the systemic route).
LOCAL_ROUTES = frozenset(
    fold(r)
    for r in [
        "cutanée",
        "transcutanée",
        "ophtalmique",
        "auriculaire",
        "nasale",
        "vaginale",
        "gingivale",
        "dentaire",
        "voie buccale autre",
        "buccale",
        "inhalée",
        "endotrachéobronchique",
    ]
)
ORAL_ROUTES = frozenset({"orale"})

# A DCI line gives a form, not a route: the route follows from the form's words (folded, whole
# words: "gel" is not "gélule").
FORM_ROUTES: tuple[tuple[str, str], ...] = (
    ("collyre", "ophtalmique"),
    ("ophtalmique", "ophtalmique"),
    ("auriculaire", "auriculaire"),
    ("nasal", "nasale"),
    ("nasale", "nasale"),
    ("inhalation", "inhalée"),
    ("vaginal", "vaginale"),
    ("vaginale", "vaginale"),
    ("ovule", "vaginale"),
    ("suppositoire", "rectale"),
    ("rectale", "rectale"),
    ("injectable", "intraveineuse"),
    ("perfusion", "intraveineuse"),
    ("transdermique", "transdermique"),
    ("gel", "cutanée"),
    ("creme", "cutanée"),
    ("pommade", "cutanée"),
    ("lotion", "cutanée"),
    ("cutanee", "cutanée"),
)


def route_of_form(form: str) -> str:
    words = set(fold(form).split())
    if "buvable" in words or "buccal" in words:
        return "orale"
    for word, route in FORM_ROUTES:
        if word in words:
            return route
    return "orale"


# --- same-class duplicates -------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateGroup:
    key: str
    label: str
    classes: tuple[str, ...]  # thesaurus class keys
    level: AlertLevel
    risk: str
    action: str


# Levels: the thesaurus's own where it has the pair (AINS + autres AINS: association
# déconseillée; IEC + ARA II, double blockade of the renin-angiotensin system: association
# déconseillée; benzodiazépines + other sedatives: à prendre en compte); a therapeutic
# duplicate without a thesaurus entry asks for attention (précaution d'emploi).
DUPLICATE_GROUPS: tuple[DuplicateGroup, ...] = (
    DuplicateGroup(
        "ains",
        "deux anti-inflammatoires non stéroïdiens",
        ("ains",),
        AlertLevel.ASDEC,
        "Majoration du risque ulcérogène et hémorragique digestif.",
        "Ne garder qu'un seul AINS.",
    ),
    DuplicateGroup(
        "bloqueurs_sra",
        "deux bloqueurs du système rénine-angiotensine (IEC / ARA II)",
        ("iec", "ara2"),
        AlertLevel.ASDEC,
        "Double blocage du système rénine-angiotensine : risque d'hyperkaliémie, d'hypotension "
        "et d'insuffisance rénale aiguë.",
        "Ne garder qu'un seul IEC ou ARA II, sauf avis spécialisé.",
    ),
    DuplicateGroup(
        "benzodiazepines",
        "deux benzodiazépines ou apparentés",
        ("benzodiazepines",),
        AlertLevel.APEC,
        "Majoration de la sédation et du risque de dépression respiratoire, de chute et de "
        "dépendance.",
        "Éviter d'associer deux benzodiazépines ; une seule molécule, la durée la plus courte.",
    ),
    DuplicateGroup(
        "ipp",
        "deux inhibiteurs de la pompe à protons",
        ("ipp",),
        AlertLevel.PE,
        "Doublon thérapeutique sans bénéfice attendu.",
        "Ne garder qu'un seul inhibiteur de la pompe à protons.",
    ),
    DuplicateGroup(
        "isrs",
        "deux inhibiteurs sélectifs de la recapture de la sérotonine",
        ("isrs",),
        AlertLevel.PE,
        "Doublon thérapeutique : risque de syndrome sérotoninergique.",
        "Ne garder qu'un seul antidépresseur ISRS.",
    ),
    DuplicateGroup(
        "statines",
        "deux statines",
        ("statines",),
        AlertLevel.PE,
        "Doublon thérapeutique : risque majoré de rhabdomyolyse.",
        "Ne garder qu'une seule statine.",
    ),
    DuplicateGroup(
        "anticoagulants_oraux",
        "deux anticoagulants oraux",
        ("anticoagulants_oraux",),
        AlertLevel.ASDEC,
        "Risque hémorragique majeur (sauf relais organisé entre deux anticoagulants).",
        "Vérifier qu'il s'agit d'un relais ; sinon ne garder qu'un anticoagulant.",
    ),
    DuplicateGroup(
        "beta_bloquants",
        "deux bêta-bloquants",
        ("beta_bloquants",),
        AlertLevel.PE,
        "Doublon thérapeutique : bradycardie, hypotension.",
        "Ne garder qu'un seul bêta-bloquant.",
    ),
)


# --- allergies -------------------------------------------------------------------------------

# Class names a prescriber writes for an allergy (folded), and the thesaurus classes they mean.
ALLERGY_CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "betalactamines": ("betalactamines",),
    "betalactamine": ("betalactamines",),
    "beta lactamines": ("betalactamines",),
    "beta lactamine": ("betalactamines",),
    "penicilline": ("penicillines",),
    "penicillines": ("penicillines",),
    "cephalosporine": ("cephalosporines",),
    "cephalosporines": ("cephalosporines",),
    "ains": ("ains",),
    "anti inflammatoires": ("ains",),
    "anti inflammatoires non steroidiens": ("ains",),
    "sulfamides": ("sulfamides",),
    "sulfamide": ("sulfamides",),
    "macrolides": ("macrolides",),
    "macrolide": ("macrolides",),
    "quinolones": ("fluoroquinolones",),
    "fluoroquinolones": ("fluoroquinolones",),
    "cyclines": ("cyclines",),
    "tetracyclines": ("cyclines",),
    "morphiniques": ("morphiniques",),
    "opiaces": ("morphiniques",),
    "opioides": ("morphiniques",),
    "iode": ("contraste_iode",),
    "produits de contraste iodes": ("contraste_iode",),
    "benzodiazepines": ("benzodiazepines",),
    "statines": ("statines",),
    "iec": ("iec",),
}
