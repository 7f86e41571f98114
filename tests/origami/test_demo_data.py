"""The demo data command: everything a tester needs, and idempotent."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from origami.patients.identifiers import clean_nir
from origami.patients.models import IdentityStatus, InsOid, Patient
from practitioners.models import ExerciseContext, Practitioner, Role, User

pytestmark = pytest.mark.django_db


def _run(*args):
    out = StringIO()
    call_command("demo_data", "--no-link", *args, stdout=out)
    return out.getvalue()


def _counts():
    return (
        User.objects.count(),
        Practitioner.objects.count(),
        ExerciseContext.objects.count(),
        Patient.objects.count(),
        sum(
            p.allergies.count() + p.alds.count() + p.current_treatments.count()
            for p in Patient.objects.all()
        ),
    )


def test_demo_data_is_idempotent_and_keeps_totp_secrets():
    first = _run()
    counts = _counts()
    second = _run()
    assert _counts() == counts
    secret_lines = [line for line in first.splitlines() if line.startswith("cmartin")]
    assert secret_lines == [line for line in second.splitlines() if line.startswith("cmartin")]


def test_demo_accounts_and_patients_are_what_the_demo_needs():
    output = _run()
    martin = Practitioner.objects.get(rpps="10100001238")
    assert martin.exercise_contexts.count() == 2
    assert Practitioner.objects.get(rpps="10100004562").exercise_contexts.count() == 1
    assert Practitioner.objects.filter(rpps="10100007896").exists()
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    assert "otpauth://totp/" in output
    for line in ("admin", "cmartin", "kbenali", "sdurand", "assistance"):
        assert any(row.startswith(line) for row in output.splitlines())

    patients = list(Patient.objects.all())
    assert len(patients) == 12
    assert all(clean_nir(p.nir) == p.nir for p in patients)
    assert all(p.ins_oid == InsOid.DEMO for p in patients)
    assert any(p.nir[5:7] == "2A" for p in patients)
    assert any(p.age < 10 for p in patients)
    assert any(p.age > 80 for p in patients)
    assert any(p.pregnancy_weeks for p in patients)
    assert any(p.creatinine_clearance is not None and p.creatinine_clearance < 30 for p in patients)
    assert any(
        {"Pénicillines", "AINS"} <= {a.substance for a in p.allergies.all()} for p in patients
    )
    assert any(p.alds.exists() for p in patients)
    assert any("COUMADINE" in t.label for p in patients for t in p.current_treatments.all())
    assert any(p.identity_status == IdentityStatus.PROVISIONAL for p in patients)


def test_a_tester_can_log_in_with_what_the_commands_print():
    _run()
    code = StringIO()
    call_command("totp_code", "cmartin", stdout=code)
    client = Client()
    client.post(reverse("login"), {"username": "cmartin", "password": "origami-demo"})
    client.post(reverse("login_otp"), {"code": code.getvalue().strip()})
    assert client.get(reverse("patients:search")).status_code == 200
