import pytest
from django.db import IntegrityError, transaction

from origami.patients.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_second_patient_with_the_same_nir():
    PatientFactory(nir="295109912611193")
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(nir="295109912611193")
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"weight_kg": 0},
        {"height_cm": 300},
        {"creatinine_clearance": 25, "creatinine_clearance_measured_on": None},
        {"pregnancy_weeks": 50},
        {"sex": "M", "pregnancy_weeks": 12},
        {"nir": "29510991261119X"},
        {"ins_oid": ""},
    ],
)
def test_the_database_refuses_impossible_values(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(**fields)
    assert Patient.objects.count() == 0


def test_a_recorded_treatment_posology_must_read_as_one():
    from django.core.exceptions import ValidationError

    from tests.factories import CurrentTreatmentFactory

    treatment = CurrentTreatmentFactory.build(patient=PatientFactory(), posology="le soir")
    with pytest.raises(ValidationError) as refused:
        treatment.full_clean()
    assert "commencer par une dose" in str(refused.value.message_dict["posology"])
    treatment.posology = "1 cp le soir"
    treatment.full_clean()
