"""Patients are edited by admins through the admin; bad identifiers are refused clearly."""

import pytest
from django.urls import reverse

from origami.patients.models import InsOid, Patient
from tests.factories import AdminFactory, PatientFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db

INLINES = {
    f"{prefix}-{suffix}": value
    for prefix in ("allergies", "pathologies", "alds", "current_treatments")
    for suffix, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
}


def _patient(**overrides):
    data = {
        "last_name": "Santoni",
        "first_name": "Marie",
        "birth_name": "Santoni",
        "birth_first_names": "Marie Ange",
        "sex": "F",
        "birth_date": "1953-07-02",
        "birthplace_cog": "2B033",
        "nir": "2 53 07 2B 073 004 70",
        "ins_oid": InsOid.NIR,
        "identity_status": "qualified",
        "breastfeeding": "none",
        "hepatic_insufficiency": "none",
        **INLINES,
    }
    data.update(overrides)
    return data


def test_admin_adds_a_patient_born_in_corsica(client):
    login(client, AdminFactory())

    response = client.post(reverse("admin:patients_patient_add"), _patient())

    assert response.status_code == 302
    assert Patient.objects.get().nir == "253072B07300470"


@pytest.mark.parametrize(
    ("nir", "message"),
    [
        ("253072A07300470", "La clé du NIR ne correspond pas"),
        ("2951099126111", "15 caractères"),
    ],
)
def test_a_wrong_nir_is_refused_and_nothing_saved(client, nir, message):
    login(client, AdminFactory())

    response = client.post(reverse("admin:patients_patient_add"), _patient(nir=nir))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Patient.objects.exists()


def test_a_nir_already_recorded_is_refused(client):
    PatientFactory(nir="253072B07300470")
    login(client, AdminFactory())

    response = client.post(reverse("admin:patients_patient_add"), _patient())

    assert "Un patient avec ce NIR existe déjà" in response.content.decode()
    assert Patient.objects.count() == 1


def test_a_nir_without_its_ins_oid_is_refused(client):
    login(client, AdminFactory())
    response = client.post(reverse("admin:patients_patient_add"), _patient(ins_oid=""))
    assert "Indiquez l&#x27;OID de l&#x27;INS" in response.content.decode()
    assert not Patient.objects.exists()
