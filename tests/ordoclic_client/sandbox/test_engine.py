"""The analysis engine, through POST /v1/prescriptions/analysis on the curated catalogue.

Every pair of DOMAIN.md §5 yields its ANSM level, mixed levels are resolved by dose or context,
and each patient-context check has its test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ordoclic_client.contract import ANALYSIS

Analyse = Callable[..., dict[str, Any]]

# Curated catalogue CIS used below (real BDPM products).
ZOCOR_20 = "67037301"  # simvastatine
TAHOR_20 = "69902323"  # atorvastatine
ZECLAR_500 = "67997205"  # clarithromycine
ERYTHROCINE = "63485296"  # érythromycine
SPORANOX = "69998156"  # itraconazole
KETOCONAZOLE = "69406163"
AMIODARONE = "69364999"
NOVATREX = "67853564"  # méthotrexate 2,5 mg
BACTRIM_FORTE = "64121235"  # sulfaméthoxazole + triméthoprime
ASPEGIC_1000 = "63936571"
KARDEGIC_75 = "64755969"
COUMADINE = "64631925"  # warfarine
PREVISCAN = "68133651"  # fluindione
SINTROM = "61510352"  # acénocoumarol
ELIQUIS = "61902218"  # apixaban
XARELTO = "67071218"  # rivaroxaban
ADVIL_400 = "63646874"  # ibuprofène
DAKTARIN = "69184289"  # miconazole gel buccal
MILLEPERTUIS = "60448702"
FLUCONAZOLE = "67860651"
DOLIPRANE_1000 = "60234100"
DAFALGAN_1000 = "62887947"
TOPALGIC = "63435884"  # tramadol
ZOLOFT = "60683198"  # sertraline
PROZAC = "61885224"  # fluoxétine
SEROPLEX = "67219535"  # escitalopram
MARSILID = "61561635"  # iproniazide
ZYVOXID = "68311278"  # linézolide
PROVEBLUE = "66499899"  # bleu de méthylène
ALDACTONE = "64565845"  # spironolactone
MODAMIDE = "63371015"  # amiloride
INSPRA = "66335558"  # éplérénone
DIFFU_K = "60875266"  # chlorure de potassium
TRIATEC = "62095667"  # ramipril
COVERSYL = "63849839"  # périndopril
COZAAR = "69197614"  # losartan
TERALITHE = "62124478"  # lithium
ESIDREX = "66153192"  # hydrochlorothiazide
LASILIX = "65606743"  # furosémide
NATISPRAY = "67377186"  # trinitrine
RISORDAN = "64822161"  # dinitrate d'isosorbide
VIAGRA = "63593884"
CIALIS = "69226514"
COLCHIMAX = "61331730"
ZITHROMAX = "65740799"
PYOSTACINE = "63728481"  # pristinamycine (a synergistine, not a macrolide)
MINIDRIL = "64558256"  # lévonorgestrel + éthinylestradiol
DOXY_100 = "61722191"
CURACNE = "69164379"  # isotrétinoïne
ISOPTINE = "66814925"  # vérapamil
TENORMINE = "66739636"  # aténolol
MOTILIUM = "63679194"  # dompéridone
METFORMINE = "69065160"
OMNIPAQUE = "65106581"  # iohexol
CIPROFLOXACINE = "66063916"
DILATRANE = "64447761"  # théophylline
TAVANIC = "64784789"  # lévofloxacine
TARDYFERON = "68269288"  # sulfate ferreux
OFLOCET = "66484819"
SOLUPRED = "66871876"  # prednisolone
ESPERAL = "61500746"  # disulfirame
FLAGYL = "61659061"  # métronidazole
XANAX = "69847791"  # alprazolam
SKENAN = "61227030"  # morphine
CLAMOXYL = "64539416"  # amoxicilline
CODOLIPRANE = "60904643"  # paracétamol + codéine
AMLOR = "63458349"  # amlodipine


def line(line_id: str, cis: str, dose: float = 1, per_day: int = 1, **extra: Any) -> dict:
    return {
        "lineId": line_id,
        "drug": {"codeSystem": "cis", "code": cis},
        "dose": str(dose),
        "unit": extra.pop("unit", "comprimé"),
        "frequencyCount": per_day,
        **extra,
    }


def weekly(line_id: str, cis: str, tablets: int) -> dict:
    return line(line_id, cis, dose=tablets, per_day=1, frequencyPeriod="week")


ADULT = {"birthDate": "1970-03-12", "sex": "F"}


@pytest.fixture
def analyse(api: httpx.Client, as_claire: dict[str, str]) -> Analyse:
    def _analyse(
        lines: list[dict], patient: dict | None = None, current: list[dict] | None = None
    ) -> dict[str, Any]:
        body = {"patient": patient or ADULT, "lines": lines, "currentTreatments": current or []}
        response = api.post(ANALYSIS, json=body, headers=as_claire)
        assert response.status_code == 200, response.text
        return response.json()

    return _analyse


def interactions(result: dict) -> list[dict]:
    return [a for a in result["alerts"] if a["type"] == "drug_interaction"]


PAIRS = [
    # (first line, second line, patient pathologies, expected level)
    ("simvastatine + clarithromycine", line("a", ZOCOR_20), line("b", ZECLAR_500), [], "CI"),
    ("simvastatine + érythromycine", line("a", ZOCOR_20), line("b", ERYTHROCINE), [], "CI"),
    (
        "simvastatine + itraconazole",
        line("a", ZOCOR_20),
        line("b", SPORANOX, 10, unit="ml"),
        [],
        "CI",
    ),
    ("simvastatine + kétoconazole", line("a", ZOCOR_20), line("b", KETOCONAZOLE), [], "CI"),
    ("simvastatine + amiodarone", line("a", ZOCOR_20), line("b", AMIODARONE), [], "PE"),
    ("atorvastatine + clarithromycine", line("a", TAHOR_20), line("b", ZECLAR_500), [], "PE"),
    (
        "méthotrexate + cotrimoxazole",
        weekly("a", NOVATREX, 4),
        line("b", BACTRIM_FORTE, per_day=2),
        [],
        "CI",
    ),
    (
        "MTX 25 mg/sem + aspirine 3 g/j",
        weekly("a", NOVATREX, 10),
        line("b", ASPEGIC_1000, per_day=3),
        [],
        "CI",
    ),
    (
        "MTX 10 mg/sem + aspirine 3 g/j",
        weekly("a", NOVATREX, 4),
        line("b", ASPEGIC_1000, per_day=3),
        [],
        "PE",
    ),
    (
        "MTX 25 mg/sem + aspirine 75 mg",
        weekly("a", NOVATREX, 10),
        line("b", KARDEGIC_75, unit="sachet"),
        [],
        "PE",
    ),
    (
        "aspirine 75 mg + warfarine",
        line("a", KARDEGIC_75, unit="sachet"),
        line("b", COUMADINE),
        [],
        "APEC",
    ),
    (
        "aspirine 3 g/j + warfarine",
        line("a", ASPEGIC_1000, per_day=3),
        line("b", COUMADINE),
        [],
        "ASDEC",
    ),
    (
        "aspirine 3 g/j + warfarine, ulcère",
        line("a", ASPEGIC_1000, per_day=3),
        line("b", COUMADINE),
        ["K25.9"],
        "CI",
    ),
    (
        "aspirine 3 g/j + apixaban",
        line("a", ASPEGIC_1000, per_day=3),
        line("b", ELIQUIS, per_day=2),
        [],
        "ASDEC",
    ),
    ("rivaroxaban + ibuprofène", line("a", XARELTO), line("b", ADVIL_400, per_day=3), [], "ASDEC"),
    (
        "fluindione + miconazole",
        line("a", PREVISCAN),
        line("b", DAKTARIN, 2.5, per_day=4, unit="ml"),
        [],
        "CI",
    ),
    (
        "acénocoumarol + millepertuis",
        line("a", SINTROM),
        line("b", MILLEPERTUIS, unit="gélule"),
        [],
        "CI",
    ),
    (
        "warfarine + fluconazole",
        line("a", COUMADINE),
        line("b", FLUCONAZOLE, unit="gélule"),
        [],
        "PE",
    ),
    ("warfarine + amiodarone", line("a", COUMADINE), line("b", AMIODARONE), [], "PE"),
    (
        "warfarine + paracétamol 4 g/j",
        line("a", COUMADINE),
        line("b", DOLIPRANE_1000, per_day=4),
        [],
        "PE",
    ),
    (
        "tramadol + sertraline",
        line("a", TOPALGIC, unit="gélule", per_day=3),
        line("b", ZOLOFT, unit="gélule"),
        [],
        "APEC",
    ),
    ("tramadol + iproniazide", line("a", TOPALGIC, unit="gélule"), line("b", MARSILID), [], "CI"),
    ("fluoxétine + iproniazide", line("a", PROZAC, unit="gélule"), line("b", MARSILID), [], "CI"),
    ("escitalopram + linézolide", line("a", SEROPLEX), line("b", ZYVOXID, per_day=2), [], "ASDEC"),
    (
        "escitalopram + bleu de méthylène",
        line("a", SEROPLEX),
        line("b", PROVEBLUE, 20, unit="ml"),
        [],
        "ASDEC",
    ),
    (
        "spironolactone + potassium",
        line("a", ALDACTONE),
        line("b", DIFFU_K, unit="gélule", per_day=2),
        [],
        "CI",
    ),
    (
        "spironolactone + potassium, hypokaliémie",
        line("a", ALDACTONE),
        line("b", DIFFU_K, unit="gélule"),
        ["E87.6"],
        "ASDEC",
    ),
    ("spironolactone + amiloride", line("a", ALDACTONE), line("b", MODAMIDE), [], "CI"),
    ("éplérénone + amiloride", line("a", INSPRA), line("b", MODAMIDE), [], "CI"),
    ("ramipril + potassium", line("a", TRIATEC), line("b", DIFFU_K, unit="gélule"), [], "ASDEC"),
    ("losartan + potassium", line("a", COZAAR), line("b", DIFFU_K, unit="gélule"), [], "ASDEC"),
    ("lithium + périndopril", line("a", TERALITHE, per_day=2), line("b", COVERSYL), [], "ASDEC"),
    (
        "lithium + hydrochlorothiazide",
        line("a", TERALITHE, per_day=2),
        line("b", ESIDREX),
        [],
        "ASDEC",
    ),
    ("lithium + furosémide", line("a", TERALITHE, per_day=2), line("b", LASILIX), [], "ASDEC"),
    ("lithium + spironolactone", line("a", TERALITHE, per_day=2), line("b", ALDACTONE), [], "PE"),
    (
        "trinitrine + sildénafil",
        line("a", NATISPRAY, unit="pulvérisation"),
        line("b", VIAGRA),
        [],
        "CI",
    ),
    ("isosorbide + tadalafil", line("a", RISORDAN, 2, unit="ml"), line("b", CIALIS), [], "CI"),
    ("colchicine + azithromycine", line("a", COLCHIMAX), line("b", ZITHROMAX, 2), [], "CI"),
    (
        "estroprogestatif + millepertuis",
        line("a", MINIDRIL),
        line("b", MILLEPERTUIS, unit="gélule"),
        [],
        "CI",
    ),
    (
        "doxycycline + isotrétinoïne",
        line("a", DOXY_100),
        line("b", CURACNE, unit="capsule"),
        [],
        "CI",
    ),
    (
        "vérapamil + aténolol",
        line("a", ISOPTINE, unit="gélule", per_day=2),
        line("b", TENORMINE),
        [],
        "ASDEC",
    ),
    (
        "dompéridone + clarithromycine",
        line("a", MOTILIUM, per_day=3),
        line("b", ZECLAR_500, per_day=2),
        [],
        "CI",
    ),
    (
        "dompéridone + kétoconazole",
        line("a", MOTILIUM, per_day=3),
        line("b", KETOCONAZOLE),
        [],
        "CI",
    ),
    (
        "metformine + iohexol",
        line("a", METFORMINE, per_day=2),
        line("b", OMNIPAQUE, 100, unit="ml"),
        [],
        "CI",
    ),
    (
        "ciprofloxacine + théophylline",
        line("a", CIPROFLOXACINE, per_day=2),
        line("b", DILATRANE, unit="gélule"),
        [],
        "PE",
    ),
    ("lévofloxacine + fer", line("a", TAVANIC), line("b", TARDYFERON), [], "PE"),
    ("ofloxacine + prednisolone", line("a", OFLOCET, per_day=2), line("b", SOLUPRED), [], "APEC"),
    ("disulfirame + métronidazole", line("a", ESPERAL), line("b", FLAGYL, per_day=3), [], "ASDEC"),
    (
        "alprazolam + morphine",
        line("a", XANAX, per_day=2),
        line("b", SKENAN, unit="gélule", per_day=2),
        [],
        "APEC",
    ),
]


@pytest.mark.parametrize(
    ("first", "second", "pathologies", "expected"),
    [pytest.param(*p[1:], id=p[0]) for p in PAIRS],
)
def test_every_domain_pair_gives_its_ansm_level(
    analyse: Analyse, first: dict, second: dict, pathologies: list[str], expected: str
) -> None:
    result = analyse([first, second], patient={**ADULT, "pathologies": pathologies})
    found = interactions(result)
    assert [a["level"] for a in found] == [expected], found
    assert found[0]["lineIds"] == ["a", "b"]
    assert found[0]["title"]
    assert found[0]["message"]
    assert found[0]["action"]


def test_paracetamol_below_maximal_doses_does_not_interact_with_an_avk(analyse: Analyse) -> None:
    result = analyse([line("a", COUMADINE), line("b", DOLIPRANE_1000, per_day=3)])
    assert interactions(result) == []


@pytest.mark.parametrize(
    "other", [PYOSTACINE, AMLOR], ids=["pristinamycine (not a macrolide)", "amlodipine"]
)
def test_drugs_outside_the_thesaurus_pairs_raise_no_interaction(
    analyse: Analyse, other: str
) -> None:
    assert interactions(analyse([line("a", COLCHIMAX), line("b", other)])) == []


def test_a_mixed_level_names_its_candidates_and_the_dose_that_decided(analyse: Analyse) -> None:
    result = analyse([weekly("a", NOVATREX, 10), line("b", ASPEGIC_1000, per_day=3)])
    alert = interactions(result)[0]
    assert alert["thesaurusLevels"] == ["CI", "PE"]
    assert alert["triggers"] == ["dose"]
    assert "25 mg par semaine" in alert["message"]


def test_a_line_interacts_with_a_current_treatment(analyse: Analyse) -> None:
    result = analyse([line("new", ADVIL_400, per_day=3)], current=[line("home", COUMADINE)])
    alert = interactions(result)[0]
    assert (alert["level"], sorted(alert["lineIds"])) == ("ASDEC", ["home", "new"])
    assert "traitement en cours" in alert["message"]


def test_current_treatments_among_themselves_are_not_reanalysed(analyse: Analyse) -> None:
    result = analyse([line("new", AMLOR)], current=[line("h1", ZOCOR_20), line("h2", ZECLAR_500)])
    assert interactions(result) == []


def test_alert_ids_are_stable_for_the_same_finding(analyse: Analyse) -> None:
    lines = [line("a", ZOCOR_20), line("b", ZECLAR_500)]
    first, second = analyse(lines), analyse(lines)
    assert [a["id"] for a in first["alerts"]] == [a["id"] for a in second["alerts"]]
    assert first["analysisId"] != second["analysisId"]


def test_line_summaries_badge_each_line_with_its_highest_level(analyse: Analyse) -> None:
    result = analyse([line("a", ZOCOR_20), line("b", ZECLAR_500), line("c", AMLOR)])
    summaries = {s["lineId"]: s["highest"] for s in result["lineSummaries"]}
    assert summaries == {
        "a": {"drug_interaction": "CI"},
        "b": {"drug_interaction": "CI"},
        "c": {},
    }


def context_alerts(result: dict, trigger: str) -> list[tuple[str, str]]:
    """Contraindications and precautions of the patient's context (not the dose checks, which
    name the age and weight too)."""
    return [
        (a["type"], a["level"])
        for a in result["alerts"]
        if trigger in a["triggers"] and a["type"] in {"contraindication", "precaution", "allergy"}
    ]


@pytest.mark.parametrize(
    ("allergy", "cis"),
    [("pénicillines", CLAMOXYL), ("AINS", ADVIL_400), ("Amoxicilline", CLAMOXYL)],
)
def test_an_allergy_to_a_substance_or_its_class_is_a_contraindication(
    analyse: Analyse, allergy: str, cis: str
) -> None:
    result = analyse([line("a", cis)], patient={**ADULT, "allergies": [allergy]})
    assert context_alerts(result, "allergy") == [("allergy", "CI")]


def test_no_allergy_alert_for_an_unrelated_drug(analyse: Analyse) -> None:
    result = analyse([line("a", DOLIPRANE_1000)], patient={**ADULT, "allergies": ["pénicillines"]})
    assert result["alerts"] == []


@pytest.mark.parametrize(
    ("weeks", "cis", "expected"),
    [(30, ADVIL_400, "CI"), (10, ADVIL_400, "ASDEC"), (8, CURACNE, "CI"), (20, TRIATEC, "CI")],
)
def test_pregnancy_contraindications_depend_on_the_term(
    analyse: Analyse, weeks: int, cis: str, expected: str
) -> None:
    result = analyse([line("a", cis)], patient={**ADULT, "pregnancyWeeks": weeks})
    assert context_alerts(result, "pregnancy") == [("contraindication", expected)]


def test_breastfeeding_contraindicates_lithium(analyse: Analyse) -> None:
    patient = {**ADULT, "breastfeeding": "under_one_month"}
    result = analyse([line("a", TERALITHE, per_day=2)], patient=patient)
    assert context_alerts(result, "breastfeeding") == [("contraindication", "CI")]


@pytest.mark.parametrize(("clearance", "alerts"), [(25, [("contraindication", "CI")]), (60, [])])
def test_metformin_is_contraindicated_below_30_ml_min(
    analyse: Analyse, clearance: int, alerts: list
) -> None:
    patient = {**ADULT, "creatinineClearance": clearance}
    result = analyse([line("a", METFORMINE, per_day=2)], patient=patient)
    assert context_alerts(result, "renal_failure") == alerts


@pytest.mark.parametrize(
    ("birth", "cis", "expected"),
    [
        # a child: the paracetamol of CODOLIPRANE also asks for the weight (tested below)
        ("2018-06-01", CODOLIPRANE, [("contraindication", "CI")]),
        ("2021-06-01", DOXY_100, [("contraindication", "CI")]),
        ("1990-06-01", CODOLIPRANE, []),
        ("1940-01-01", XANAX, [("precaution", "PE")]),
    ],
)
def test_age_contraindications(analyse: Analyse, birth: str, cis: str, expected: list) -> None:
    result = analyse([line("a", cis)], patient={"birthDate": birth})
    assert context_alerts(result, "age") == expected


def test_severe_hepatic_insufficiency_contraindicates_paracetamol(analyse: Analyse) -> None:
    patient = {**ADULT, "hepaticInsufficiency": "severe"}
    result = analyse([line("a", DOLIPRANE_1000)], patient=patient)
    assert context_alerts(result, "hepatic_failure") == [("contraindication", "CI")]


def test_a_dose_above_the_maximum_per_intake_and_per_day_is_flagged(analyse: Analyse) -> None:
    result = analyse([line("a", DOLIPRANE_1000, dose=2, per_day=4)])
    alert = next(a for a in result["alerts"] if a["type"] == "posology_overdose")
    assert alert["level"] == "ASDEC"
    assert "2000 mg par prise" in alert["message"]
    assert "8000 mg par 24 h" in alert["message"]


def test_as_needed_lines_are_checked_on_their_maximum_per_24h(analyse: Analyse) -> None:
    as_needed = line("a", DOLIPRANE_1000, asNeeded=True, maxPer24H="6")
    result = analyse([as_needed])
    assert [a["type"] for a in result["alerts"]] == ["posology_overdose"]
    assert analyse([{**as_needed, "maxPer24H": "3"}])["alerts"] == []


def test_methotrexate_every_day_is_flagged(analyse: Analyse) -> None:
    result = analyse([line("a", NOVATREX)])
    assert [a["title"] for a in result["alerts"]] == ["Méthotrexate en prise quotidienne"]


def test_the_same_substance_in_two_drugs_is_a_duplicate(analyse: Analyse) -> None:
    result = analyse([line("a", DOLIPRANE_1000), line("b", DAFALGAN_1000)])
    assert [(a["type"], a["substances"]) for a in result["alerts"]] == [
        ("redundant_active_ingredient", ["paracétamol"])
    ]


def test_the_same_drug_twice_is_flagged_as_such(analyse: Analyse) -> None:
    result = analyse([line("a", DOLIPRANE_1000), line("b", DOLIPRANE_1000)])
    assert [a["type"] for a in result["alerts"]] == ["same_drug"]


def test_an_unknown_drug_code_is_a_clear_422(api: httpx.Client, as_claire: dict[str, str]) -> None:
    body = {"patient": ADULT, "lines": [line("a", "69999999")]}
    response = api.post(ANALYSIS, json=body, headers=as_claire)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "code": "unknown_drug",
            "message": "Médicament inconnu de la base : 69999999.",
            "field": "lines.0.drug.code",
        }
    ]


def test_lines_may_name_their_drug_by_cip13(analyse: Analyse) -> None:
    by_cip = {**line("a", ""), "drug": {"codeSystem": "cip13", "code": "3400935955838"}}
    result = analyse([by_cip, line("b", DAFALGAN_1000)])
    assert [a["type"] for a in result["alerts"]] == ["redundant_active_ingredient"]


def test_a_malformed_request_names_the_field(api: httpx.Client, as_claire: dict[str, str]) -> None:
    response = api.post(ANALYSIS, json={"patient": {}, "lines": []}, headers=as_claire)
    assert response.status_code == 422
    assert "patient.birthDate" in [e["field"] for e in response.json()["errors"]]


def test_a_deactivated_professional_cannot_analyse(
    api: httpx.Client, token_for: Callable[[str], dict[str, str]]
) -> None:
    body = {"patient": ADULT, "lines": [line("a", DOLIPRANE_1000)]}
    response = api.post(ANALYSIS, json=body, headers=token_for("10100007896"))
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "professional_deactivated"
