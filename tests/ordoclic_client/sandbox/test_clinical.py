"""Clinical fidelity of the sandbox's engine (issue 13): children's doses per kilogram, routes,
AVK + macrolides, same-class duplicates, checks that could not run, strict requests, DCI lines,
prescription conditions and reimbursement. Each case of the issue's "Found" list has its test
with the exact alerts expected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from ordoclic_client.bdpm import dosage_with_reference, typed_conditions
from ordoclic_client.contract import ANALYSIS, DRUG, DRUGS, Drug, PrescriptionConditions

from .conftest import Create, prescription

Analyse = Callable[..., dict[str, Any]]

DOLIPRANE_1000 = "60234100"
DOLIPRANE_SUSPENSION = "66477582"  # paracétamol 2,40 g/100 ml
ADVILMED_ENFANTS = "61902232"  # ibuprofène 20 mg/1 ml
AUGMENTIN_ENFANTS = "66853013"  # amoxicilline 100 mg/ml + acide clavulanique 12,5 mg/ml
CLAMOXYL = "64539416"  # amoxicilline 1 g
JOSACINE = "66113600"  # josamycine 250 mg/5 ml
SOLUPRED = "66871876"  # prednisolone 20 mg
TOPALGIC = "63435884"  # tramadol 50 mg
ERYFLUID = "61096983"  # érythromycine, lotion (cutanée)
ERYTHROCINE = "63485296"  # érythromycine IV
COLCHIMAX = "61331730"
VOLTARENE_EMULGEL = "63855240"  # diclofénac, gel (cutanée)
SINTROM = "61510352"  # acénocoumarol
ADVIL_400 = "63646874"
PROFENID = "66771790"  # kétoprofène
VENOFER = "60080232"  # fer IV
TARDYFERON = "68269288"  # fer oral
CIPROFLOXACINE = "66063916"
ZECLAR = "67997205"  # clarithromycine
ZITHROMAX = "65740799"  # azithromycine
COUMADINE = "64631925"  # warfarine
ZOCOR = "67037301"
XANAX = "69847791"
LEXOMIL = "66796142"
MOPRAL = "64103828"
INEXIUM = "64578892"
COVERSYL = "63849839"  # périndopril
TRIATEC = "62095667"  # ramipril
COZAAR = "69197614"  # losartan
ACTISKENAN = "64288864"
STILNOX = "63179285"
ZYVOXID = "68311278"
SPORANOX = "69998156"
DEPAKINE = "60184188"
CURACNE = "69164379"


def years_ago(years: int) -> str:
    today = date.today()
    return (
        date(today.year - years, 1, 1) + timedelta(days=today.timetuple().tm_yday - 40)
    ).isoformat()


ADULT = {"birthDate": "1970-03-12", "sex": "F"}
CHILD_21_KG = {"birthDate": years_ago(6), "sex": "M", "weightKg": "21"}
CHILD_NO_WEIGHT = {"birthDate": years_ago(6), "sex": "M"}


def line(line_id: str, cis: str, dose: float = 1, per_day: int = 1, **extra: Any) -> dict:
    return {
        "lineId": line_id,
        "drug": {"codeSystem": "cis", "code": cis},
        "dose": str(dose),
        "unit": extra.pop("unit", "comprimé"),
        "frequencyCount": per_day,
        **extra,
    }


def dci(
    line_id: str, substance: str, dosage: str, form: str, dose: float = 1, **extra: Any
) -> dict:
    return {
        "lineId": line_id,
        "drug": {"codeSystem": "dci", "code": substance, "dosage": dosage, "form": form},
        "dose": str(dose),
        "unit": extra.pop("unit", "comprimé"),
        "frequencyCount": extra.pop("per_day", 1),
        **extra,
    }


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


def kinds(result: dict) -> list[tuple[str, str]]:
    return [(a["type"], a["level"]) for a in result["alerts"]]


# --- children's doses ------------------------------------------------------------------------


def test_a_6_year_old_of_21_kg_given_1_g_four_times_a_day_raises_a_dose_alert(
    analyse: Analyse,
) -> None:
    result = analyse([line("a", DOLIPRANE_1000, per_day=4)], patient=CHILD_21_KG)
    assert kinds(result) == [("posology_overdose", "CI")]
    alert = result["alerts"][0]
    assert alert["title"] == "Dose pédiatrique de paracétamol au-dessus du maximum"
    assert "enfant de 21 kg" in alert["message"]
    assert "1000 mg par prise, soit 47,6 mg/kg (maximum 15 mg/kg, 315 mg)" in alert["message"]
    assert (
        "4000 mg par 24 h, soit 190,5 mg/kg/jour (maximum 60 mg/kg/jour, 1260 mg)"
        in (alert["message"])
    )
    assert set(alert["triggers"]) == {"age", "dose", "weight"}
    assert result["lineSummaries"] == [{"lineId": "a", "highest": {"posology_overdose": "CI"}}]


def test_a_child_is_never_judged_against_the_adult_maximum(analyse: Analyse) -> None:
    # 3 g/day is within the adult maximum (4 g) but 143 mg/kg/day for 21 kg
    result = analyse([line("a", DOLIPRANE_1000, per_day=3)], patient=CHILD_21_KG)
    assert kinds(result) == [("posology_overdose", "CI")]
    assert "maximum 4000 mg" not in result["alerts"][0]["message"]


def test_a_child_s_usual_dose_per_kg_raises_nothing(analyse: Analyse) -> None:
    # 13 ml of 2,4 % = 312 mg, 14,9 mg/kg, four times a day: 59,4 mg/kg/day
    result = analyse(
        [line("a", DOLIPRANE_SUSPENSION, 13, per_day=4, unit="ml")], patient=CHILD_21_KG
    )
    assert kinds(result) == []


def test_a_moderate_paediatric_overdose_is_an_association_deconseillee(analyse: Analyse) -> None:
    # 20 ml = 480 mg (22,9 mg/kg) four times: 91 mg/kg/day is toxic; three times: 68,6
    result = analyse(
        [line("a", DOLIPRANE_SUSPENSION, 20, per_day=3, unit="ml")], patient=CHILD_21_KG
    )
    assert kinds(result) == [("posology_overdose", "ASDEC")]


@pytest.mark.parametrize(
    ("cis", "dose", "per_day", "unit", "expected"),
    [
        (ADVILMED_ENFANTS, 10, 3, "ml", []),  # 200 mg: 9,5 mg/kg; 28,6 mg/kg/day
        (ADVILMED_ENFANTS, 15, 4, "ml", [("posology_overdose", "ASDEC")]),  # 14,3 mg/kg
        (AUGMENTIN_ENFANTS, 5.6, 3, "ml", []),  # 80 mg/kg/day of amoxicilline
        (AUGMENTIN_ENFANTS, 8, 3, "ml", [("posology_overdose", "ASDEC")]),  # 114 mg/kg/day
        (JOSACINE, 10, 2, "ml", []),  # 500 mg twice: 47,6 mg/kg/day
        (JOSACINE, 20, 2, "ml", [("posology_overdose", "ASDEC")]),
        (SOLUPRED, 2, 1, "comprimé", []),  # 40 mg: 1,9 mg/kg/day
        (SOLUPRED, 3, 1, "comprimé", [("posology_overdose", "ASDEC")]),
    ],
)
def test_paediatric_doses_per_kg_of_the_catalogue_s_substances(
    analyse: Analyse, cis: str, dose: float, per_day: int, unit: str, expected: list
) -> None:
    result = analyse([line("a", cis, dose, per_day=per_day, unit=unit)], patient=CHILD_21_KG)
    assert kinds(result) == expected


def test_a_child_without_weight_is_flagged_poids_necessaire(analyse: Analyse) -> None:
    result = analyse(
        [
            line("a", DOLIPRANE_SUSPENSION, 5, per_day=4, unit="ml"),
            line("b", JOSACINE, 5, unit="ml"),
        ],
        patient=CHILD_NO_WEIGHT,
    )
    assert kinds(result) == [("weight_required", "PE")]
    alert = result["alerts"][0]
    assert alert["title"] == "Poids nécessaire : dose de l'enfant non vérifiée"
    assert alert["lineIds"] == ["a", "b"]
    assert set(alert["triggers"]) == {"age", "weight"}


def test_an_adult_without_weight_is_not_asked_for_one(analyse: Analyse) -> None:
    assert kinds(analyse([line("a", DOLIPRANE_1000, per_day=3)])) == []


def test_an_adult_overdose_is_a_dose_alert_not_an_interaction(analyse: Analyse) -> None:
    result = analyse([line("a", DOLIPRANE_1000, per_day=6)])
    assert kinds(result) == [("posology_overdose", "ASDEC")]
    assert result["alerts"][0]["message"] == (
        "DOLIPRANE 1000 mg, comprimé : 6000 mg par 24 h (maximum 4000 mg)."
    )


def test_a_child_s_substance_without_paediatric_reference_says_so(analyse: Analyse) -> None:
    result = analyse([line("a", TOPALGIC)], patient=CHILD_21_KG)
    assert kinds(result) == [("contraindication", "CI"), ("not_checked", "INFO")]
    assert "pas de dose pédiatrique de référence pour tramadol" in result["alerts"][1]["message"]


# --- routes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "systemic", "other", "level"),
    [
        (ERYFLUID, ERYTHROCINE, COLCHIMAX, "CI"),  # érythromycine lotion / IV + colchicine
        (VOLTARENE_EMULGEL, ADVIL_400, SINTROM, "ASDEC"),  # AINS gel / oral + acénocoumarol
        (VENOFER, TARDYFERON, CIPROFLOXACINE, "PE"),  # fer IV / oral + ciprofloxacine (oral)
    ],
)
def test_a_rule_on_systemic_or_oral_exposure_spares_local_or_iv_forms(
    analyse: Analyse, local: str, systemic: str, other: str, level: str
) -> None:
    spared = analyse([line("a", local, unit="application"), line("b", other)])
    assert [a for a in spared["alerts"] if a["type"] == "drug_interaction"] == []
    control = analyse([line("a", systemic), line("b", other)])
    assert [
        (a["type"], a["level"]) for a in control["alerts"] if a["type"] == "drug_interaction"
    ] == [("drug_interaction", level)]


def test_the_line_s_route_overrides_the_product_s(analyse: Analyse) -> None:
    result = analyse([line("a", ERYTHROCINE, route="cutanée"), line("b", COLCHIMAX)])
    assert [a for a in result["alerts"] if a["type"] == "drug_interaction"] == []


# --- AVK + macrolides ------------------------------------------------------------------------


def test_clarithromycin_for_a_patient_on_coumadine_is_a_precaution(analyse: Analyse) -> None:
    result = analyse([line("a", ZECLAR, per_day=2)], current=[line("t1", COUMADINE)])
    assert kinds(result) == [("drug_interaction", "PE")]
    alert = result["alerts"][0]
    assert alert["title"] == "Warfarine + clarithromycine : précaution d'emploi"
    assert "INR" in alert["action"]
    assert sorted(alert["lineIds"]) == ["a", "t1"]


def test_spiramycin_is_not_one_of_the_macrolides_of_the_rule(analyse: Analyse) -> None:
    spiramycine = dci("a", "spiramycine", "3 MUI", "comprimé")
    result = analyse([spiramycine], current=[line("t1", COUMADINE)])
    assert [a for a in result["alerts"] if a["type"] == "drug_interaction"] == []
    azithro = analyse([line("a", ZITHROMAX)], current=[line("t1", COUMADINE)])
    assert kinds(azithro) == [("drug_interaction", "PE")]


# --- same-class duplicates -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        (ADVIL_400, PROFENID, "ASDEC"),  # two NSAIDs
        (XANAX, LEXOMIL, "APEC"),  # two benzodiazepines
        (MOPRAL, INEXIUM, "PE"),  # two PPIs
        (COVERSYL, TRIATEC, "ASDEC"),  # two ACE inhibitors
        (COVERSYL, COZAAR, "ASDEC"),  # ACE inhibitor + ARB
    ],
)
def test_two_substances_of_one_class_are_a_class_duplicate(
    analyse: Analyse, a: str, b: str, level: str
) -> None:
    result = analyse([line("a", a), line("b", b)])
    duplicates = [x for x in result["alerts"] if x["type"] == "class_duplicate"]
    assert [(x["type"], x["level"]) for x in duplicates] == [("class_duplicate", level)]
    assert duplicates[0]["title"].startswith("Doublon de classe : ")
    assert duplicates[0]["lineIds"] == ["a", "b"]


def test_a_gel_beside_a_tablet_of_the_same_class_is_no_duplicate(analyse: Analyse) -> None:
    result = analyse([line("a", VOLTARENE_EMULGEL, unit="application"), line("b", ADVIL_400)])
    assert [x for x in result["alerts"] if x["type"] == "class_duplicate"] == []


def test_a_duplicate_with_a_current_treatment_is_flagged(analyse: Analyse) -> None:
    result = analyse([line("a", INEXIUM)], current=[line("t1", MOPRAL)])
    assert kinds(result) == [("class_duplicate", "PE")]
    assert (
        "traitement en cours : MOPRAL 20 mg, gélule gastro-résistante"
        in (result["alerts"][0]["message"])
    )


# --- checks that could not run ---------------------------------------------------------------


def test_a_dose_in_a_unit_that_does_not_convert_is_said_not_checked(analyse: Analyse) -> None:
    result = analyse([line("a", DOLIPRANE_1000, 30, per_day=4, unit="goutte")])
    assert kinds(result) == [("not_checked", "INFO")]
    alert = result["alerts"][0]
    assert alert["title"] == "Dose de paracétamol non vérifiée"
    assert "30 goutte" in alert["message"]


def test_an_allergy_the_engine_does_not_know_is_said_not_checked(analyse: Analyse) -> None:
    patient = {**ADULT, "allergies": ["pollen de bouleau"]}
    result = analyse([line("a", CLAMOXYL)], patient=patient)
    assert kinds(result) == [("not_checked", "INFO")]
    assert result["alerts"][0]["title"] == "Allergie non vérifiée : « pollen de bouleau »"
    assert result["alerts"][0]["triggers"] == ["allergy"]


@pytest.mark.parametrize("allergy", ["bêtalactamines", "Bêta-lactamines", "pénicilline"])
def test_common_class_names_of_allergies_are_recognised(analyse: Analyse, allergy: str) -> None:
    result = analyse([line("a", CLAMOXYL)], patient={**ADULT, "allergies": [allergy]})
    assert kinds(result) == [("allergy", "CI")]


# --- strict requests -------------------------------------------------------------------------


def test_an_unknown_field_of_an_analysis_request_is_a_422_naming_it(
    api: httpx.Client, as_claire: dict[str, str]
) -> None:
    body: dict[str, Any] = {
        "patient": ADULT,
        "lines": [line("a", DOLIPRANE_1000, asNeeded=True, maxPer24h="6")],
    }
    response = api.post(ANALYSIS, json=body, headers=as_claire)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "code": "unknown_field",
            "message": "Unknown field: maxPer24h.",
            "field": "lines.0.maxPer24h",
        }
    ]
    body["lines"][0]["maxPer24H"] = body["lines"][0].pop("maxPer24h")
    assert api.post(ANALYSIS, json=body, headers=as_claire).status_code == 200


# --- DCI lines -------------------------------------------------------------------------------


def test_a_dci_line_is_analysed_through_its_substance(analyse: Analyse) -> None:
    result = analyse(
        [dci("a", "clarithromycine", "500 mg", "comprimé"), line("b", ZOCOR)],
        patient={**ADULT, "allergies": ["macrolides"]},
    )
    assert kinds(result) == [("allergy", "CI"), ("drug_interaction", "CI")]
    assert result["alerts"][0]["message"].startswith("clarithromycine 500 mg, comprimé contient")


def test_a_dci_line_s_dose_and_route_come_from_its_dosage_and_form(analyse: Analyse) -> None:
    overdose = analyse([dci("a", "paracétamol", "1 g", "comprimé", dose=2, per_day=4)])
    assert kinds(overdose) == [("posology_overdose", "ASDEC")]
    lotion = analyse(
        [
            dci("a", "érythromycine", "4 g/100 ml", "lotion", unit="application"),
            line("b", COLCHIMAX),
        ]
    )
    assert [a for a in lotion["alerts"] if a["type"] == "drug_interaction"] == []


def test_a_dci_combination_gives_one_dosage_per_substance(analyse: Analyse) -> None:
    line_ = dci(
        "a",
        "amoxicilline + acide clavulanique",
        "100 mg/1 ml + 12,5 mg/1 ml",
        "suspension buvable",
        dose=8,
        per_day=3,
        unit="ml",
    )
    assert kinds(analyse([line_], patient=CHILD_21_KG)) == [("posology_overdose", "ASDEC")]


def test_an_unknown_dci_substance_is_a_422(api: httpx.Client, as_claire: dict[str, str]) -> None:
    body = {"patient": ADULT, "lines": [dci("a", "unobtainium", "1 g", "comprimé")]}
    response = api.post(ANALYSIS, json=body, headers=as_claire)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lines.0.drug.code"


def test_a_dci_line_registers(create: Create) -> None:
    body = prescription()
    body["lines"] = [
        {
            **dci("l1", "amoxicilline", "1 g", "comprimé", per_day=2),
            "label": "amoxicilline 1 g, comprimé",
            "posologyText": "1 comprimé matin et soir",
        }
    ]
    assert create(body).status_code == 201


# --- prescription conditions and reimbursement -----------------------------------------------


@pytest.fixture
def drug(api: httpx.Client, as_claire: dict[str, str]) -> Callable[[str], Drug]:
    def _drug(cis: str) -> Drug:
        response = api.get(DRUG.format(cis=cis), headers=as_claire)
        assert response.status_code == 200
        return Drug.model_validate(response.json())

    return _drug


def test_narcotics_carry_their_secure_prescription_and_duration(
    drug: Callable[[str], Drug],
) -> None:
    assert drug(ACTISKENAN).conditions == PrescriptionConditions(
        drug_list="stupefiant", secure_prescription=True, max_duration_days=28
    )
    stilnox = drug(STILNOX).conditions
    assert (stilnox.drug_list, stilnox.secure_prescription, stilnox.overlap_forbidden) == (
        "liste_i",
        True,
        True,
    )
    assert stilnox.max_duration_days == 28


def test_hospital_and_specialist_conditions(drug: Callable[[str], Drug]) -> None:
    assert drug(VENOFER).conditions.hospital_only
    assert drug(ZYVOXID).conditions.hospital_prescription
    assert drug(SPORANOX).conditions.initial_hospital_prescription
    depakine = drug(DEPAKINE).conditions
    assert depakine.specialist_only
    assert depakine.specialties == ["NEUROLOGIE", "PEDIATRIE"]
    assert depakine.drug_list == "liste_ii"
    assert drug(CURACNE).conditions.special_monitoring
    assert drug(DOLIPRANE_1000).conditions == PrescriptionConditions()


def test_search_results_carry_price_rate_and_conditions(
    api: httpx.Client, as_claire: dict[str, str]
) -> None:
    page = api.get(DRUGS, params={"q": "doliprane 1000"}, headers=as_claire).json()
    doliprane = Drug.model_validate(next(d for d in page["items"] if d["cis"] == DOLIPRANE_1000))
    box = next(p for p in doliprane.presentations if p.cip13 == "3400935955838")
    assert (box.reimbursement_rate_percent, str(box.price_eur)) == (65, "1.07")
    venofer = api.get(DRUGS, params={"q": "venofer"}, headers=as_claire).json()["items"][0]
    assert venofer["conditions"]["hospitalOnly"] is True
    assert venofer["presentations"][0]["reimbursementRatePercent"] is None


def test_conditions_are_read_from_the_bdpm_texts() -> None:
    typed = typed_conditions(
        [
            "prescription limitée à 4 semaines",
            "prescription en toutes lettres sur ordonnance sécurisée",
            "stupéfiants",
            "délivrance fractionnée de 7 jours",
        ],
        substance_keys=["methadone"],
        routes=["orale"],
    )
    assert typed["drugList"] == "stupefiant"
    assert typed["maxDurationDays"] == 14  # the substance's cap is shorter than 4 weeks
    assert typed["dispensingFractionDays"] == 7
    renewal = typed_conditions(
        ["renouvellement de la prescription réservé aux spécialistes en DERMATOLOGIE"],
        substance_keys=[],
        routes=[],
    )
    assert renewal["specialties"] == ["DERMATOLOGIE"]


@pytest.mark.parametrize(
    ("dosage", "reference", "element", "expected"),
    [
        ("2,40 g", "100 ml", "suspension", "2,40 g/100 ml"),
        ("250 mg", "une cuillère-mesure de 5 ml de suspension", "poudre", "250 mg/5 ml"),
        ("1 g", "100 g de gel", "gel", "1 g/100 g"),
        ("3,000 g", "8 g de granulés", "granulés", "3,000 g"),  # per sachet
        ("500 mg", "un comprimé", "comprimé", "500 mg"),
    ],
)
def test_a_liquid_s_dosage_keeps_its_reference_volume(
    dosage: str, reference: str, element: str, expected: str
) -> None:
    assert dosage_with_reference(dosage, reference, element) == expected
