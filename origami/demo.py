"""Demo data: accounts (admin, prescribers, staff) and a dozen realistic patients.

Idempotent: accounts are keyed by username, practitioners by RPPS, exercise contexts by name,
patients by NIR; running it again updates them and creates nothing twice. TOTP devices are
kept, so the secrets printed stay valid. The NIRs are made up (with their right key) and carry
the INS demonstration OID.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.fr import nir as stdnum_nir

from origami.patients.models import (
    Allergy,
    Breastfeeding,
    CurrentTreatment,
    HepaticInsufficiency,
    IdentityStatus,
    InsOid,
    LongTermCondition,
    Pathology,
    Patient,
    Sex,
)
from practitioners.models import ExerciseContext, Practitioner, Profession, Role, User
from practitioners.services import totp_device_ensure

# Demo only, documented in the README. Never used outside the demo command.
DEMO_PASSWORD = "origami-demo"  # noqa: S105


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    first_name: str
    last_name: str
    rpps: str = ""
    specialty: str = ""
    contexts: tuple[dict[str, str], ...] = ()
    totp: bool = True


ACCOUNTS = (
    DemoAccount("admin", Role.ADMIN, "Alice", "ROUSSEL"),
    DemoAccount(
        "cmartin",
        Role.PRESCRIBER,
        "Claire",
        "Martin",
        rpps="10100001238",
        specialty="Médecine d'urgence",
        contexts=(
            {
                "name": "SAMU 75 — régulation médicale",
                "kind": "hospital",
                "finess": "750100208",
                "address": "149 rue de Sèvres",
                "postcode": "75015",
                "city": "Paris",
                "phone": "01 44 49 40 00",
            },
            {
                "name": "Cabinet médical des Gobelins",
                "am_number": "751234567",
                "address": "27 avenue des Gobelins",
                "postcode": "75013",
                "city": "Paris",
                "phone": "01 43 31 00 00",
            },
        ),
    ),
    DemoAccount(
        "kbenali",
        Role.PRESCRIBER,
        "Karim",
        "Benali",
        rpps="10100004562",
        specialty="Médecine générale",
        contexts=(
            {
                "name": "Cabinet du Dr Benali",
                "am_number": "691234561",
                "address": "8 place Bellecour",
                "postcode": "69002",
                "city": "Lyon",
                "phone": "04 78 00 00 00",
            },
        ),
    ),
    DemoAccount(
        "sdurand",
        Role.PRESCRIBER,
        "Sophie",
        "Durand",
        rpps="10100007896",
        specialty="Médecine générale",
        contexts=(
            {
                "name": "Maison de santé de Bordeaux Bastide",
                "am_number": "331234560",
                "address": "5 quai de Queyries",
                "postcode": "33100",
                "city": "Bordeaux",
                "phone": "05 56 00 00 00",
            },
        ),
    ),
    DemoAccount("assistance", Role.STAFF, "Paul", "Lemoine", totp=False),
)


def _nir(sex: str, birth: datetime.date, department: str, commune: str, order: str) -> str:
    body = f"{'2' if sex == Sex.FEMALE else '1'}{birth.year % 100:02d}{birth.month:02d}"
    body += f"{department}{commune}{order}"
    return body + stdnum_nir.calc_check_digits(body + "00")


def _years_ago(years: int, month: int, day: int) -> datetime.date:
    return datetime.date(timezone.localdate().year - years, month, day)


def _patients() -> list[dict[str, Any]]:
    today = timezone.localdate()
    recent = today - datetime.timedelta(days=12)
    return [
        {
            "traits": ("Lefèvre", "Hélène", "Lefèvre", "Hélène Marie", Sex.FEMALE),
            "birth": _years_ago(46, 3, 14),
            "place": ("75", "114", "113"),
            "extra": {"weight_kg": Decimal("64"), "height_cm": 168},
            "allergies": [("Pénicillines", "Œdème de Quincke"), ("AINS", "Bronchospasme")],
        },
        {
            "traits": ("Bernard", "Marcel", "Bernard", "Marcel Louis", Sex.MALE),
            "birth": _years_ago(84, 11, 2),
            "place": ("69", "381", "027"),
            "extra": {
                "weight_kg": Decimal("71"),
                "height_cm": 170,
                "creatinine_clearance": Decimal("25"),
                "creatinine_clearance_measured_on": recent,
            },
            "pathologies": [("N18.4", "Maladie rénale chronique, stade 4")],
            "treatments": [("COUMADINE 2 mg, comprimé sécable", "64631925", "1 cp le soir")],
            "alds": [("Insuffisance cardiaque grave", "I50")],
        },
        {
            "traits": ("Moreau", "Camille", "Girard", "Camille Anne", Sex.FEMALE),
            "birth": _years_ago(31, 7, 22),
            "place": ("33", "063", "215"),
            "extra": {"weight_kg": Decimal("68.5"), "height_cm": 165, "pregnancy_weeks": 28},
        },
        {
            "traits": ("Petit", "Lucas", "Petit", "Lucas", Sex.MALE),
            "birth": _years_ago(6, 5, 9),
            "place": ("75", "112", "402"),
            "extra": {"weight_kg": Decimal("21"), "height_cm": 118},
        },
        {
            "traits": ("Santoni", "Jean-Baptiste", "Santoni", "Jean-Baptiste Ange", Sex.MALE),
            "birth": _years_ago(58, 8, 15),
            "place": ("2A", "004", "118"),
            "extra": {"weight_kg": Decimal("82"), "height_cm": 176},
            "alds": [("Diabète de type 2", "E11")],
            "pathologies": [("E11.9", "Diabète de type 2 sans complication"), ("I10", "HTA")],
            "treatments": [
                ("METFORMINE ALMUS 1000 mg, comprimé pelliculé", "69065160", "1 cp matin et soir")
            ],
        },
        {
            "traits": ("Roux", "Élodie", "Roux", "Élodie Claire", Sex.FEMALE),
            "birth": _years_ago(29, 1, 30),
            "place": ("13", "055", "331"),
            "extra": {
                "weight_kg": Decimal("57"),
                "height_cm": 162,
                "breastfeeding": Breastfeeding.UNDER_ONE_MONTH,
            },
        },
        {
            "traits": ("Garcia", "Antoine", "Garcia", "Antoine Pierre", Sex.MALE),
            "birth": _years_ago(67, 4, 3),
            "place": ("31", "555", "042"),
            "extra": {
                "weight_kg": Decimal("90"),
                "height_cm": 181,
                "hepatic_insufficiency": HepaticInsufficiency.MODERATE,
            },
            "pathologies": [("K74.6", "Cirrhose hépatique")],
        },
        {
            "traits": ("Dubois", "Jeanne", "Dubois", "Jeanne Madeleine", Sex.FEMALE),
            "birth": _years_ago(91, 9, 12),
            "place": ("59", "350", "077"),
            "extra": {
                "weight_kg": Decimal("48"),
                "height_cm": 155,
                "creatinine_clearance": Decimal("38"),
                "creatinine_clearance_measured_on": recent,
            },
            "treatments": [
                ("KARDEGIC 75 mg, poudre pour solution buvable", "64755969", "1 sachet le matin")
            ],
        },
        {
            "traits": ("Nguyen", "Thomas", "Nguyen", "Thomas Minh", Sex.MALE),
            "birth": _years_ago(39, 12, 1),
            "place": ("99", "243", "510"),
            "extra": {"weight_kg": Decimal("75"), "height_cm": 174},
            "allergies": [("Sulfamides antibactériens", "Éruption cutanée")],
        },
        {
            "traits": ("Fontaine", "Sarah", "Fontaine", "Sarah Léa", Sex.FEMALE),
            "birth": _years_ago(52, 6, 18),
            "place": ("44", "109", "064"),
            "extra": {"weight_kg": Decimal("70"), "height_cm": 170},
            "alds": [("Polyarthrite rhumatoïde évolutive", "M05")],
            "treatments": [("NOVATREX 2,5 mg, comprimé", "67853564", "4 cp 1 fois par semaine")],
        },
        {
            "traits": ("Mercier", "Louis", "Mercier", "Louis Henri", Sex.MALE),
            "birth": _years_ago(74, 2, 25),
            "place": ("67", "482", "190"),
            "extra": {"weight_kg": Decimal("79"), "height_cm": 172},
            "treatments": [
                ("AMIODARONE ALMUS 200 mg, comprimé sécable", "69364999", "1 cp le matin")
            ],
            "pathologies": [("I48", "Fibrillation auriculaire")],
        },
        {
            "traits": ("Lambert", "Inès", "Lambert", "Inès", Sex.FEMALE),
            "birth": _years_ago(17, 10, 7),
            "place": ("92", "050", "301"),
            "extra": {"weight_kg": Decimal("55"), "height_cm": 163},
            "status": IdentityStatus.PROVISIONAL,
        },
    ]


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str
    name: str
    totp_device: TOTPDevice | None


@transaction.atomic
def demo_accounts_load() -> list[DemoLogin]:
    logins = []
    for account in ACCOUNTS:
        user = User.objects.filter(username=account.username).first()
        if user is None:
            user = User(username=account.username)
        user.first_name = account.first_name
        user.last_name = account.last_name
        user.role = account.role
        user.is_staff = user.is_superuser = account.role == Role.ADMIN
        user.is_active = True
        user.email = f"{account.username}@demo.origami.invalid"
        user.set_password(DEMO_PASSWORD)
        user.save()
        device = totp_device_ensure(user=user) if account.totp else None
        name = user.get_full_name()
        if account.rpps:
            practitioner, _ = Practitioner.objects.update_or_create(
                rpps=account.rpps,
                defaults={
                    "user": user,
                    "profession": Profession.PHYSICIAN,
                    "specialty": account.specialty,
                    "is_active": True,
                },
            )
            for fields in account.contexts:
                ExerciseContext.objects.update_or_create(
                    practitioner=practitioner,
                    name=fields["name"],
                    defaults={"finess": "", "am_number": "", "is_active": True, **fields},
                )
            name = practitioner.display_name
        logins.append(
            DemoLogin(user.username, DEMO_PASSWORD, user.get_role_display(), name, device)
        )
    return logins


@transaction.atomic
def demo_patients_load() -> int:
    patients = _patients()
    for index, data in enumerate(patients):
        last_name, first_name, birth_name, birth_first_names, sex = data["traits"]
        department, commune, order = data["place"]
        nir = _nir(sex, data["birth"], department, commune, order)
        cog = "99" + commune if department == "99" else department + commune
        patient, _ = Patient.objects.update_or_create(
            nir=nir,
            defaults={
                "last_name": last_name,
                "first_name": first_name,
                "birth_name": birth_name,
                "birth_first_names": birth_first_names,
                "sex": sex,
                "birth_date": data["birth"],
                "birthplace_cog": cog,
                "ins_oid": InsOid.DEMO,
                "identity_status": data.get(
                    "status", IdentityStatus.QUALIFIED if index % 3 else IdentityStatus.VALIDATED
                ),
                **data["extra"],
            },
        )
        for substance, reaction in data.get("allergies", []):
            Allergy.objects.update_or_create(
                patient=patient, substance=substance, defaults={"reaction": reaction}
            )
        for code, label in data.get("pathologies", []):
            Pathology.objects.update_or_create(
                patient=patient, cim10_code=code, defaults={"label": label}
            )
        for label, code in data.get("alds", []):
            LongTermCondition.objects.update_or_create(
                patient=patient, label=label, defaults={"cim10_code": code}
            )
        for label, cis, posology in data.get("treatments", []):
            CurrentTreatment.objects.update_or_create(
                patient=patient, label=label, defaults={"cis": cis, "posology": posology}
            )
    return len(patients)
