"""The sandbox's interaction thesaurus: substances, classes and pairs (DOMAIN.md §5).

Substances are keyed by their folded DCI (``fold("Acide acétylsalicylique")``). A drug's
substance name from BDPM ("CHLORHYDRATE DE TRAMADOL", "DL-LYSINE (ACÉTYLSALICYLATE DE)") is
matched to these keys by word patterns, so the engine works for imported drugs too.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from functools import cache

from ordoclic_client.contract import AlertLevel
from ordoclic_client.text import fold

# Display names (French, with accents) of the substances the engine reasons about.
SUBSTANCES: dict[str, str] = {
    fold(name): name
    for name in [
        "paracétamol",
        "ibuprofène",
        "kétoprofène",
        "diclofénac",
        "naproxène",
        "célécoxib",
        "acéclofénac",
        "dexkétoprofène",
        "étoricoxib",
        "flurbiprofène",
        "indométacine",
        "méloxicam",
        "piroxicam",
        "sulindac",
        "ténoxicam",
        "néfopam",
        "codéine",
        "tramadol",
        "morphine",
        "oxycodone",
        "buprénorphine",
        "fentanyl",
        "hydromorphone",
        "méthadone",
        "nalbuphine",
        "amoxicilline",
        "acide clavulanique",
        "céfalexine",
        "céfaclor",
        "céfuroxime",
        "céfixime",
        "cefpodoxime",
        "ceftriaxone",
        "pristinamycine",
        "azithromycine",
        "clarithromycine",
        "érythromycine",
        "josamycine",
        "midécamycine",
        "roxithromycine",
        "télithromycine",
        "spiramycine",
        "ciprofloxacine",
        "lévofloxacine",
        "moxifloxacine",
        "norfloxacine",
        "ofloxacine",
        "triméthoprime",
        "sulfaméthoxazole",
        "nitrofurantoïne",
        "fosfomycine",
        "doxycycline",
        "lymécycline",
        "minocycline",
        "tétracycline",
        "métronidazole",
        "fluconazole",
        "itraconazole",
        "kétoconazole",
        "posaconazole",
        "voriconazole",
        "miconazole",
        "ritonavir",
        "cobicistat",
        "prednisolone",
        "prednisone",
        "méthylprednisolone",
        "bétaméthasone",
        "budésonide",
        "cortisone",
        "dexaméthasone",
        "triamcinolone",
        "hydrocortisone",
        "salbutamol",
        "ipratropium",
        "oméprazole",
        "ésoméprazole",
        "pantoprazole",
        "lansoprazole",
        "rabéprazole",
        "métoclopramide",
        "dompéridone",
        "ondansétron",
        "lopéramide",
        "phloroglucinol",
        "macrogol",
        "énoxaparine",
        "apixaban",
        "rivaroxaban",
        "dabigatran",
        "warfarine",
        "fluindione",
        "acénocoumarol",
        "acide acétylsalicylique",
        "clopidogrel",
        "atorvastatine",
        "simvastatine",
        "rosuvastatine",
        "fluvastatine",
        "pitavastatine",
        "pravastatine",
        "amlodipine",
        "ramipril",
        "périndopril",
        "bénazépril",
        "captopril",
        "cilazapril",
        "énalapril",
        "fosinopril",
        "lisinopril",
        "moexipril",
        "quinapril",
        "trandolapril",
        "zofénopril",
        "losartan",
        "valsartan",
        "irbésartan",
        "azilsartan",
        "candésartan",
        "éprosartan",
        "olmésartan",
        "telmisartan",
        "bisoprolol",
        "aténolol",
        "propranolol",
        "acébutolol",
        "bétaxolol",
        "cartéolol",
        "céliprolol",
        "labétalol",
        "métoprolol",
        "nadolol",
        "nébivolol",
        "pindolol",
        "sotalol",
        "timolol",
        "esmolol",
        "vérapamil",
        "furosémide",
        "bumétanide",
        "pirétanide",
        "hydrochlorothiazide",
        "altizide",
        "bendrofluméthiazide",
        "chlortalidone",
        "ciclétanine",
        "clopamide",
        "indapamide",
        "méthyclothiazide",
        "spironolactone",
        "amiloride",
        "éplérénone",
        "triamtérène",
        "canrénoate de potassium",
        "chlorure de potassium",
        "gluconate de potassium",
        "metformine",
        "gliclazide",
        "lévothyroxine",
        "sertraline",
        "escitalopram",
        "citalopram",
        "paroxétine",
        "fluoxétine",
        "fluvoxamine",
        "vortioxétine",
        "alprazolam",
        "bromazépam",
        "clobazam",
        "clonazépam",
        "clorazépate",
        "diazépam",
        "lorazépam",
        "lormétazépam",
        "midazolam",
        "nordazépam",
        "oxazépam",
        "prazépam",
        "zolpidem",
        "zopiclone",
        "hydroxyzine",
        "cétirizine",
        "desloratadine",
        "amiodarone",
        "digoxine",
        "lithium",
        "colchicine",
        "allopurinol",
        "méthotrexate",
        "sildénafil",
        "tadalafil",
        "vardénafil",
        "avanafil",
        "trinitrine",
        "isosorbide",
        "molsidomine",
        "nicorandil",
        "théophylline",
        "fer",
        "isotrétinoïne",
        "acitrétine",
        "alitrétinoïne",
        "trétinoïne",
        "lévonorgestrel",
        "éthinylestradiol",
        "estradiol",
        "diénogest",
        "lamotrigine",
        "lévétiracétam",
        "valproate",
        "prégabaline",
        "linézolide",
        "bleu de méthylène",
        "moclobémide",
        "iproniazide",
        "disulfirame",
        "millepertuis",
        "iobitridol",
        "iodixanol",
        "iohexol",
        "iomeprol",
        "iopamidol",
        "iopromide",
        "ioversol",
        "carbamazépine",
        "oxcarbazépine",
        "phénobarbital",
        "phénytoïne",
        "primidone",
        "rifampicine",
        "rifabutine",
        "éfavirenz",
        "névirapine",
    ]
}

# Other ways BDPM writes a substance (folded words), besides its own folded name.
ALIASES: dict[str, list[str]] = {
    "acide acetylsalicylique": ["acetylsalicylique", "acetylsalicylate", "aspirine"],
    "fer": ["sulfate ferreux", "fumarate ferreux", "gluconate ferreux", "ferreux", "ferrique"],
    "bleu de methylene": ["methylthioninium"],
    "chlorure de potassium": ["potassium chlorure"],
    "gluconate de potassium": ["potassium gluconate"],
    "canrenoate de potassium": ["canrenoate"],
    "valproate": ["valproique", "divalproate"],
    "acide clavulanique": ["clavulanate"],
    "trinitrine": ["nitroglycerine"],
    "isosorbide": ["dinitrate d isosorbide", "mononitrate d isosorbide"],
}


@dataclass(frozen=True)
class DrugClass:
    key: str
    label: str  # French, as the thesaurus names it
    members: frozenset[str]


def _members(names: str) -> frozenset[str]:
    return frozenset(fold(n) for n in names.split(","))


CLASSES: dict[str, DrugClass] = {
    c.key: c
    for c in [
        DrugClass(
            "ains",
            "anti-inflammatoires non stéroïdiens",
            _members(
                "acéclofénac,célécoxib,dexkétoprofène,diclofénac,étoricoxib,flurbiprofène,"
                "ibuprofène,indométacine,kétoprofène,méloxicam,naproxène,piroxicam,sulindac,ténoxicam"
            ),
        ),
        DrugClass(
            "iec",
            "inhibiteurs de l'enzyme de conversion",
            _members(
                "bénazépril,captopril,cilazapril,énalapril,fosinopril,lisinopril,moexipril,"
                "périndopril,quinapril,ramipril,trandolapril,zofénopril"
            ),
        ),
        DrugClass(
            "ara2",
            "antagonistes des récepteurs de l'angiotensine II",
            _members(
                "azilsartan,candésartan,éprosartan,irbésartan,losartan,olmésartan,telmisartan,valsartan"
            ),
        ),
        DrugClass(
            "thiazides",
            "diurétiques thiazidiques et apparentés",
            _members(
                "altizide,bendrofluméthiazide,chlortalidone,ciclétanine,clopamide,"
                "hydrochlorothiazide,indapamide,méthyclothiazide"
            ),
        ),
        DrugClass(
            "diuretiques_anse",
            "diurétiques de l'anse",
            _members("bumétanide,furosémide,pirétanide"),
        ),
        DrugClass(
            "epargneurs_k",
            "diurétiques épargneurs de potassium",
            _members("amiloride,canrénoate de potassium,éplérénone,spironolactone,triamtérène"),
        ),
        DrugClass(
            "potassium", "potassium", _members("chlorure de potassium,gluconate de potassium")
        ),
        DrugClass(
            "macrolides",
            "macrolides (sauf spiramycine)",
            _members(
                "azithromycine,clarithromycine,érythromycine,josamycine,midécamycine,"
                "roxithromycine,télithromycine"
            ),
        ),
        DrugClass(
            "cyp3a4_puissants",
            "inhibiteurs puissants du CYP3A4",
            _members(
                "clarithromycine,érythromycine,itraconazole,kétoconazole,posaconazole,voriconazole,"
                "ritonavir,cobicistat,télithromycine"
            ),
        ),
        DrugClass(
            "statines",
            "inhibiteurs de l'HMG-CoA réductase (statines)",
            _members(
                "atorvastatine,fluvastatine,pitavastatine,pravastatine,rosuvastatine,simvastatine"
            ),
        ),
        DrugClass(
            "nitres",
            "dérivés nitrés et apparentés",
            _members("isosorbide,molsidomine,nicorandil,trinitrine"),
        ),
        DrugClass(
            "ipde5",
            "inhibiteurs de la phosphodiestérase de type 5",
            _members("avanafil,sildénafil,tadalafil,vardénafil"),
        ),
        DrugClass(
            "fluoroquinolones",
            "fluoroquinolones",
            _members("ciprofloxacine,lévofloxacine,moxifloxacine,norfloxacine,ofloxacine"),
        ),
        DrugClass(
            "glucocorticoides",
            "glucocorticoïdes (sauf hydrocortisone)",
            _members(
                "bétaméthasone,budésonide,cortisone,dexaméthasone,méthylprednisolone,prednisolone,"
                "prednisone,triamcinolone"
            ),
        ),
        DrugClass(
            "benzodiazepines",
            "benzodiazépines et apparentés",
            _members(
                "alprazolam,bromazépam,clobazam,clonazépam,clorazépate,diazépam,lorazépam,"
                "lormétazépam,midazolam,nordazépam,oxazépam,prazépam,zolpidem,zopiclone"
            ),
        ),
        DrugClass(
            "morphiniques",
            "morphiniques",
            _members(
                "buprénorphine,codéine,fentanyl,hydromorphone,méthadone,morphine,nalbuphine,"
                "oxycodone,tramadol"
            ),
        ),
        DrugClass(
            "cyclines", "cyclines", _members("doxycycline,lymécycline,minocycline,tétracycline")
        ),
        DrugClass(
            "retinoides",
            "rétinoïdes",
            _members("acitrétine,alitrétinoïne,isotrétinoïne,trétinoïne"),
        ),
        DrugClass("imao_irreversibles", "IMAO irréversibles", _members("iproniazide")),
        DrugClass(
            "imao_a_reversibles",
            "IMAO-A réversibles (y compris linézolide et bleu de méthylène)",
            _members("moclobémide,linézolide,bleu de méthylène"),
        ),
        DrugClass(
            "beta_bloquants",
            "bêta-bloquants (sauf esmolol)",
            _members(
                "acébutolol,aténolol,bétaxolol,bisoprolol,cartéolol,céliprolol,labétalol,métoprolol,"
                "nadolol,nébivolol,pindolol,propranolol,sotalol,timolol"
            ),
        ),
        DrugClass(
            "anticoagulants_oraux",
            "anticoagulants oraux",
            _members("acénocoumarol,apixaban,dabigatran,fluindione,rivaroxaban,warfarine"),
        ),
        DrugClass("avk", "antivitamines K", _members("acénocoumarol,fluindione,warfarine")),
        DrugClass(
            "isrs",
            "inhibiteurs sélectifs de la recapture de la sérotonine",
            _members(
                "citalopram,escitalopram,fluoxétine,fluvoxamine,paroxétine,sertraline,vortioxétine"
            ),
        ),
        DrugClass(
            "estroprogestatifs",
            "estroprogestatifs contraceptifs",
            _members("diénogest,estradiol,éthinylestradiol"),
        ),
        DrugClass(
            "inducteurs",
            "inducteurs enzymatiques",
            _members(
                "carbamazépine,oxcarbazépine,phénobarbital,phénytoïne,primidone,rifampicine,"
                "rifabutine,éfavirenz,névirapine"
            ),
        ),
        DrugClass(
            "contraste_iode",
            "produits de contraste iodés",
            _members("iobitridol,iodixanol,iohexol,iomeprol,iopamidol,iopromide,ioversol"),
        ),
        DrugClass("fer", "fer", _members("fer")),
        DrugClass("penicillines", "pénicillines", _members("amoxicilline")),
        DrugClass(
            "cephalosporines",
            "céphalosporines",
            _members("céfalexine,céfaclor,céfuroxime,céfixime,cefpodoxime,ceftriaxone"),
        ),
        DrugClass(
            "betalactamines",
            "bêtalactamines",
            _members(
                "amoxicilline,céfalexine,céfaclor,céfuroxime,céfixime,cefpodoxime,ceftriaxone"
            ),
        ),
        DrugClass(
            "ipp",
            "inhibiteurs de la pompe à protons",
            _members("ésoméprazole,lansoprazole,oméprazole,pantoprazole,rabéprazole"),
        ),
        DrugClass("sulfamides", "sulfamides antibactériens", _members("sulfaméthoxazole")),
    ]
}


@cache
def classes_of(substance: str) -> frozenset[str]:
    """The classes a substance belongs to (asked for each pair of each analysis: kept)."""
    return frozenset(c.key for c in CLASSES.values() if substance in c.members)


@cache
def _matcher() -> re.Pattern[str]:
    patterns: dict[str, str] = {key: key for key in SUBSTANCES}
    for key, aliases in ALIASES.items():
        for alias in aliases:
            patterns[alias] = key
    ordered = sorted(patterns, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(p) for p in ordered) + r")\b")


@cache
def _pattern_keys() -> dict[str, str]:
    keys: dict[str, str] = {key: key for key in SUBSTANCES}
    for key, aliases in ALIASES.items():
        for alias in aliases:
            keys[alias] = key
    return keys


def canonical_substance(name: str) -> str:
    """The thesaurus key of a BDPM substance name, or "" when the engine does not know it."""
    text = name.strip()
    inverted = re.match(r"^(.*?)\s*\((.*)\)\s*$", text)
    if inverted:  # "SODIUM (VALPROATE DE)" -> "VALPROATE DE SODIUM"
        text = f"{inverted.group(2)} {inverted.group(1)}"
    folded = fold(text)
    found = _matcher().findall(folded)
    return _pattern_keys()[found[0]] if found else ""


def display_name(key: str) -> str:
    return SUBSTANCES.get(key, key)


# --- interactions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Interaction:
    """One thesaurus entry: a substance or class on each side, a level (or a mixed level
    resolved by :mod:`engine` from doses and context), the risk and what to do."""

    key: str
    left: str  # "s:<substance>" or "c:<class>"
    right: str
    levels: tuple[AlertLevel, ...]  # one level, or the candidates of a mixed level
    risk: str
    action: str
    mixed: str = ""  # name of the resolver in engine.MIXED_RESOLVERS
    # which exposure the rule concerns: "systemic" (the default: a cutaneous, ophthalmic, nasal
    # or inhaled form does not carry it), "oral" (both sides taken by mouth, e.g. chelation in
    # the gut) or "any" (the thesaurus names local forms too, e.g. miconazole buccal gel)
    scope: str = "systemic"


CI, ASDEC, PE, APEC = AlertLevel.CI, AlertLevel.ASDEC, AlertLevel.PE, AlertLevel.APEC


def _s(name: str) -> str:
    return "s:" + fold(name)


def _c(key: str) -> str:
    assert key in CLASSES, key
    return "c:" + key


INTERACTIONS: list[Interaction] = [
    *[
        Interaction(
            f"simvastatine+{fold(other)}",
            _s("simvastatine"),
            _s(other),
            (CI,),
            "Risque majoré d'effets indésirables dose-dépendants à type de rhabdomyolyse "
            "(diminution du métabolisme hépatique de la simvastatine).",
            "Association contre-indiquée : suspendre la simvastatine pendant le traitement ou "
            "choisir un autre anti-infectieux.",
        )
        for other in ["clarithromycine", "érythromycine", "itraconazole", "kétoconazole"]
    ],
    Interaction(
        "simvastatine+amiodarone",
        _s("simvastatine"),
        _s("amiodarone"),
        (PE,),
        "Risque majoré d'effets indésirables à type de rhabdomyolyse.",
        "Ne pas dépasser 20 mg par jour de simvastatine, ou utiliser une autre statine non "
        "concernée par ce type d'interaction.",
    ),
    Interaction(
        "atorvastatine+clarithromycine",
        _s("atorvastatine"),
        _s("clarithromycine"),
        (PE,),
        "Risque majoré d'effets indésirables dose-dépendants à type de rhabdomyolyse.",
        "Utiliser des doses plus faibles d'atorvastatine ; surveillance clinique et biologique.",
    ),
    Interaction(
        "methotrexate+trimethoprime",
        _s("méthotrexate"),
        _s("triméthoprime"),
        (CI,),
        "Augmentation de la toxicité hématologique du méthotrexate.",
        "Association contre-indiquée : choisir un autre anti-infectieux.",
    ),
    Interaction(
        "methotrexate+aspirine",
        _s("méthotrexate"),
        _s("acide acétylsalicylique"),
        (CI, PE),
        "Majoration de la toxicité, notamment hématologique, du méthotrexate (diminution de sa "
        "clairance rénale par l'acide acétylsalicylique).",
        "Contre-indiqué avec des doses anti-inflammatoires ou antalgiques d'aspirine et plus de "
        "20 mg par semaine de méthotrexate ; sinon contrôle hebdomadaire de l'hémogramme et de la "
        "fonction rénale.",
        mixed="methotrexate_aspirin",
    ),
    Interaction(
        "aspirine+anticoagulants_oraux",
        _s("acide acétylsalicylique"),
        _c("anticoagulants_oraux"),
        (CI, ASDEC, APEC),
        "Majoration du risque hémorragique, notamment en cas d'antécédent d'ulcère "
        "gastro-duodénal.",
        "Selon la dose d'aspirine : contre-indiqué aux doses anti-inflammatoires ou antalgiques "
        "avec antécédent d'ulcère, déconseillé sans antécédent ; aux doses antiagrégantes, "
        "surveillance clinique.",
        mixed="aspirin_anticoagulant",
    ),
    Interaction(
        "anticoagulants_oraux+ains",
        _c("anticoagulants_oraux"),
        _c("ains"),
        (ASDEC,),
        "Augmentation du risque hémorragique de l'anticoagulant oral (agression de la muqueuse "
        "gastroduodénale par les AINS).",
        "Association déconseillée ; si elle ne peut être évitée, surveillance clinique étroite.",
    ),
    Interaction(
        "avk+miconazole",
        _c("avk"),
        _s("miconazole"),
        (CI,),
        "Hémorragies imprévisibles, éventuellement graves (augmentation de l'effet de l'AVK).",
        "Association contre-indiquée, y compris le miconazole en gel buccal.",
        scope="any",
    ),
    Interaction(
        "avk+macrolides",
        _c("avk"),
        _c("macrolides"),
        (PE,),
        "Augmentation de l'effet de l'antivitamine K et du risque hémorragique.",
        "Contrôle plus fréquent de l'INR ; adaptation éventuelle de la posologie de l'antivitamine "
        "K pendant le traitement par le macrolide et après son arrêt.",
    ),
    Interaction(
        "avk+millepertuis",
        _c("avk"),
        _s("millepertuis"),
        (CI,),
        "Diminution des concentrations de l'AVK (induction enzymatique) : risque de thrombose.",
        "Association contre-indiquée. Si le patient prend déjà du millepertuis, contrôler l'INR "
        "avant puis après l'arrêt du millepertuis.",
    ),
    Interaction(
        "avk+fluconazole",
        _c("avk"),
        _s("fluconazole"),
        (PE,),
        "Augmentation de l'effet de l'anticoagulant oral et du risque hémorragique.",
        "Contrôle plus fréquent de l'INR ; adaptation de la posologie de l'AVK pendant et 8 jours "
        "après le traitement.",
    ),
    Interaction(
        "avk+amiodarone",
        _c("avk"),
        _s("amiodarone"),
        (PE,),
        "Augmentation de l'effet de l'anticoagulant oral et du risque hémorragique.",
        "Contrôle plus fréquent de l'INR ; adaptation de la posologie de l'AVK pendant le "
        "traitement et 4 semaines après son arrêt.",
    ),
    Interaction(
        "avk+paracetamol",
        _c("avk"),
        _s("paracétamol"),
        (PE,),
        "Risque d'augmentation de l'effet de l'AVK et du risque hémorragique avec le paracétamol "
        "aux doses maximales (4 g/j) pendant au moins 4 jours.",
        "Contrôle plus fréquent de l'INR ; adaptation éventuelle de la posologie de l'AVK.",
        mixed="avk_paracetamol",
    ),
    Interaction(
        "tramadol+isrs",
        _s("tramadol"),
        _c("isrs"),
        (APEC,),
        "Risque d'apparition de convulsions et/ou d'un syndrome sérotoninergique.",
        "À prendre en compte : surveillance clinique.",
    ),
    Interaction(
        "tramadol+imao_irreversibles",
        _s("tramadol"),
        _c("imao_irreversibles"),
        (CI,),
        "Risque d'apparition d'un syndrome sérotoninergique.",
        "Association contre-indiquée.",
    ),
    Interaction(
        "isrs+imao_irreversibles",
        _c("isrs"),
        _c("imao_irreversibles"),
        (CI,),
        "Risque d'apparition d'un syndrome sérotoninergique.",
        "Association contre-indiquée ; respecter un délai après l'arrêt de l'un avant de débuter "
        "l'autre.",
    ),
    Interaction(
        "isrs+imao_a_reversibles",
        _c("isrs"),
        _c("imao_a_reversibles"),
        (ASDEC,),
        "Risque d'apparition d'un syndrome sérotoninergique.",
        "Association déconseillée ; si nécessaire, surveillance clinique très étroite.",
    ),
    Interaction(
        "epargneurs_k+potassium",
        _c("epargneurs_k"),
        _c("potassium"),
        (CI, ASDEC),
        "Hyperkaliémie potentiellement létale, notamment chez l'insuffisant rénal.",
        "Contre-indiqué, sauf en cas d'hypokaliémie (association alors déconseillée, sous "
        "surveillance de la kaliémie).",
        mixed="k_sparing_potassium",
    ),
    Interaction(
        "epargneurs_k+epargneurs_k",
        _c("epargneurs_k"),
        _c("epargneurs_k"),
        (CI,),
        "Hyperkaliémie potentiellement létale, notamment chez l'insuffisant rénal.",
        "Association contre-indiquée de deux diurétiques épargneurs de potassium.",
    ),
    Interaction(
        "iec+potassium",
        _c("iec"),
        _c("potassium"),
        (ASDEC,),
        "Hyperkaliémie potentiellement létale, surtout chez l'insuffisant rénal.",
        "Association déconseillée, sauf hypokaliémie ; surveiller la kaliémie.",
    ),
    Interaction(
        "ara2+potassium",
        _c("ara2"),
        _c("potassium"),
        (ASDEC,),
        "Hyperkaliémie potentiellement létale, surtout chez l'insuffisant rénal.",
        "Association déconseillée, sauf hypokaliémie ; surveiller la kaliémie.",
    ),
    Interaction(
        "lithium+iec",
        _s("lithium"),
        _c("iec"),
        (ASDEC,),
        "Augmentation de la lithémie pouvant atteindre des valeurs toxiques.",
        "Si l'association ne peut être évitée : surveillance stricte de la lithémie et adaptation "
        "de la posologie du lithium.",
    ),
    Interaction(
        "lithium+thiazides",
        _s("lithium"),
        _c("thiazides"),
        (ASDEC,),
        "Augmentation de la lithémie avec signes de surdosage (diminution de l'excrétion rénale "
        "du lithium).",
        "Si l'association ne peut être évitée : surveillance stricte de la lithémie.",
    ),
    Interaction(
        "lithium+diuretiques_anse",
        _s("lithium"),
        _c("diuretiques_anse"),
        (ASDEC,),
        "Augmentation de la lithémie avec signes de surdosage.",
        "Si l'association ne peut être évitée : surveillance stricte de la lithémie.",
    ),
    Interaction(
        "lithium+epargneurs_k",
        _s("lithium"),
        _c("epargneurs_k"),
        (PE,),
        "Augmentation de la lithémie pouvant atteindre des valeurs toxiques.",
        "Surveillance stricte de la lithémie et adaptation éventuelle de la posologie du lithium.",
    ),
    Interaction(
        "nitres+ipde5",
        _c("nitres"),
        _c("ipde5"),
        (CI,),
        "Risque d'hypotension importante (effet synergique), pouvant aggraver l'état d'ischémie "
        "myocardique et provoquer un accident coronarien aigu.",
        "Association contre-indiquée.",
    ),
    Interaction(
        "colchicine+macrolides",
        _s("colchicine"),
        _c("macrolides"),
        (CI,),
        "Augmentation des effets indésirables de la colchicine, aux conséquences potentiellement "
        "fatales.",
        "Association contre-indiquée.",
    ),
    Interaction(
        "estroprogestatifs+millepertuis",
        _c("estroprogestatifs"),
        _s("millepertuis"),
        (CI,),
        "Diminution de l'efficacité contraceptive par induction enzymatique.",
        "Association contre-indiquée ; utiliser une autre méthode de contraception.",
    ),
    Interaction(
        "cyclines+retinoides",
        _c("cyclines"),
        _c("retinoides"),
        (CI,),
        "Risque d'hypertension intracrânienne.",
        "Association contre-indiquée.",
    ),
    Interaction(
        "verapamil+beta_bloquants",
        _s("vérapamil"),
        _c("beta_bloquants"),
        (ASDEC,),
        "Troubles de l'automatisme (bradycardie excessive, arrêt sinusal), troubles de la "
        "conduction sino-auriculaire et auriculo-ventriculaire, défaillance cardiaque.",
        "Association déconseillée ; si nécessaire, surveillance clinique et ECG étroite.",
    ),
    Interaction(
        "domperidone+cyp3a4_puissants",
        _s("dompéridone"),
        _c("cyp3a4_puissants"),
        (CI,),
        "Risque majoré de troubles du rythme ventriculaire, notamment de torsades de pointes.",
        "Association contre-indiquée.",
    ),
    Interaction(
        "metformine+contraste_iode",
        _s("metformine"),
        _c("contraste_iode"),
        (CI,),
        "Acidose lactique liée aux concentrations élevées de metformine en cas d'insuffisance "
        "rénale fonctionnelle induite par l'examen radiologique.",
        "Arrêter la metformine au moment de l'examen et ne la reprendre que 48 heures après, "
        "après contrôle de la fonction rénale.",
    ),
    Interaction(
        "ciprofloxacine+theophylline",
        _s("ciprofloxacine"),
        _s("théophylline"),
        (PE,),
        "Augmentation de la théophyllinémie avec risque de surdosage.",
        "Surveillance clinique et éventuellement de la théophyllinémie ; adapter la posologie de "
        "la théophylline.",
    ),
    Interaction(
        "fluoroquinolones+fer",
        _c("fluoroquinolones"),
        _c("fer"),
        (PE,),
        "Diminution de l'absorption digestive des fluoroquinolones.",
        "Prendre les sels de fer à distance des fluoroquinolones (plus de 2 heures si possible).",
        scope="oral",
    ),
    Interaction(
        "fluoroquinolones+glucocorticoides",
        _c("fluoroquinolones"),
        _c("glucocorticoides"),
        (APEC,),
        "Possible majoration du risque de tendinopathie, voire de rupture tendineuse, "
        "particulièrement chez le sujet âgé.",
        "À prendre en compte : informer le patient, arrêter au moindre signe de tendinopathie.",
    ),
    Interaction(
        "disulfirame+metronidazole",
        _s("disulfirame"),
        _s("métronidazole"),
        (ASDEC,),
        "Risque d'épisodes de psychose aiguë ou d'état confusionnel, réversibles à l'arrêt.",
        "Association déconseillée.",
    ),
    Interaction(
        "benzodiazepines+morphiniques",
        _c("benzodiazepines"),
        _c("morphiniques"),
        (APEC,),
        "Risque majoré de dépression respiratoire, pouvant être fatale en cas de surdosage.",
        "À prendre en compte : surveillance clinique, doses les plus faibles possibles.",
    ),
]


def term_matches(term: str, substance: str, classes: Set[str]) -> bool:
    kind, _, value = term.partition(":")
    return substance == value if kind == "s" else value in classes


def term_label(term: str) -> str:
    kind, _, value = term.partition(":")
    return display_name(value) if kind == "s" else CLASSES[value].label
