"""Shared factory_boy factories. Names are stable: other test modules import them.

- `UserFactory`: a bare account (role staff unless told otherwise).
- `PrescriberFactory`: a User with a Practitioner (valid RPPS) and one active exercise context,
  plus a confirmed TOTP device (`user.totp_device`).
- `StaffFactory`, `AdminFactory`: the other roles (admins get a TOTP device too).
- `PractitionerFactory`, `ExerciseContextFactory`, `PatientFactory` (+ `AllergyFactory`, ...).
Every account's password is `FACTORY_PASSWORD`.
"""

from __future__ import annotations

import datetime
from typing import Any

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum import luhn
from stdnum.fr import nir as stdnum_nir

from origami.patients.models import (
    Allergy,
    CurrentTreatment,
    InsOid,
    LongTermCondition,
    Pathology,
    Patient,
    Sex,
)
from practitioners.models import ExerciseContext, Practitioner, Profession, Role, User

FACTORY_PASSWORD = "motdepasse-de-test-42"


def luhn_number(prefix: str, length: int) -> str:
    """A number of `length` digits starting with `prefix` whose last digit is its Luhn key."""
    body = prefix.ljust(length - 1, "0")[: length - 1]
    return body + luhn.calc_check_digit(body)


def rpps_for(n: int) -> str:
    return luhn_number(f"1{n:09d}", 11)


def finess_for(n: int) -> str:
    return luhn_number(f"75{n:06d}", 9)


def nir_for(*, sex: str, birth_date: datetime.date | str, n: int, department: str = "75") -> str:
    if isinstance(birth_date, str):
        birth_date = datetime.date.fromisoformat(birth_date)
    first = "2" if sex == Sex.FEMALE else "1"
    body = f"{first}{birth_date.year % 100:02d}{birth_date.month:02d}{department}{n % 1000:03d}"
    body += f"{(n // 1000) % 1000 + 1:03d}"
    return body + stdnum_nir.calc_check_digits(body + "00")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(FACTORY_PASSWORD)
    role = Role.STAFF
    is_staff = False

    totp = factory.PostGeneration(
        lambda user, create, extracted, **kw: _totp(user, create, extracted)
    )


def _totp(user: User, create: bool, extracted: Any, default: bool = False) -> None:
    """`totp=True` gives the account a confirmed TOTP device (`user.totp_device`)."""
    wanted = default if extracted is None else bool(extracted)
    if create and wanted:
        user.totp_device = TOTPDevice.objects.create(  # type: ignore[attr-defined]
            user=user, name="origami", confirmed=True
        )


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    role = Role.STAFF


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    role = Role.ADMIN
    is_staff = True
    is_superuser = True
    totp = factory.PostGeneration(
        lambda user, create, extracted, **kw: _totp(user, create, extracted, True)
    )


class PractitionerFactory(factory.django.DjangoModelFactory[Practitioner]):
    class Meta:
        model = Practitioner

    user = factory.SubFactory(
        UserFactory,
        role=Role.PRESCRIBER,
        username=factory.Sequence(lambda n: f"prescriber{n}"),
    )
    rpps = factory.Sequence(lambda n: rpps_for(n + 1))
    profession = Profession.PHYSICIAN
    specialty = "Médecine générale"


class ExerciseContextFactory(factory.django.DjangoModelFactory[ExerciseContext]):
    class Meta:
        model = ExerciseContext

    practitioner = factory.SubFactory(PractitionerFactory)
    name = factory.Sequence(lambda n: f"Cabinet médical n° {n}")
    finess = factory.Sequence(lambda n: finess_for(n + 1))
    am_number = ""
    address = "12 rue de la Santé"
    postcode = "75013"
    city = "Paris"
    phone = "01 45 00 00 00"


class PrescriberFactory(UserFactory):
    """A prescriber account: User + Practitioner + one exercise context + TOTP device.
    `PrescriberFactory(contexts=2)` gives two contexts; `contexts=0` none."""

    username = factory.Sequence(lambda n: f"prescriber-u{n}")
    role = Role.PRESCRIBER
    totp = factory.PostGeneration(
        lambda user, create, extracted, **kw: _totp(user, create, extracted, True)
    )

    @factory.post_generation
    def practitioner_record(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            PractitionerFactory(user=self, **kwargs)

    @factory.post_generation
    def contexts(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        count = 1 if extracted is None else int(extracted)
        # `self` is the User being built (factory_boy's post-generation convention).
        practitioner = Practitioner.objects.get(user_id=self.pk)  # type: ignore[attr-defined]
        for _ in range(count):
            ExerciseContextFactory(practitioner=practitioner, **kwargs)


class PatientFactory(factory.django.DjangoModelFactory[Patient]):
    class Meta:
        model = Patient

    last_name = factory.Faker("last_name", locale="fr_FR")
    first_name = factory.Faker("first_name_female", locale="fr_FR")
    birth_name = factory.SelfAttribute("last_name")
    birth_first_names = factory.SelfAttribute("first_name")
    sex = Sex.FEMALE
    birth_date = datetime.date(1975, 6, 14)
    birthplace_cog = "75113"
    nir = factory.LazyAttributeSequence(
        lambda p, n: nir_for(sex=p.sex, birth_date=p.birth_date, n=n + 1)
    )
    ins_oid = InsOid.NIR
    weight_kg = factory.LazyFunction(lambda: 62)
    height_cm = 165


class AllergyFactory(factory.django.DjangoModelFactory[Allergy]):
    class Meta:
        model = Allergy

    patient = factory.SubFactory(PatientFactory)
    substance = "Pénicillines"
    reaction = "Urticaire"


class PathologyFactory(factory.django.DjangoModelFactory[Pathology]):
    class Meta:
        model = Pathology

    patient = factory.SubFactory(PatientFactory)
    cim10_code = "I10"
    label = "Hypertension essentielle"


class LongTermConditionFactory(factory.django.DjangoModelFactory[LongTermCondition]):
    class Meta:
        model = LongTermCondition

    patient = factory.SubFactory(PatientFactory)
    label = "Diabète de type 2"
    cim10_code = "E11"


class CurrentTreatmentFactory(factory.django.DjangoModelFactory[CurrentTreatment]):
    class Meta:
        model = CurrentTreatment

    patient = factory.SubFactory(PatientFactory)
    label = "COUMADINE 2 mg, comprimé sécable"
    cis = "64631925"
