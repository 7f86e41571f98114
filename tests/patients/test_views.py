import pytest
from django.urls import reverse

from tests.factories import (
    AllergyFactory,
    CurrentTreatmentFactory,
    PatientFactory,
    PrescriberFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def test_prescriber_finds_a_patient_by_name_without_accents(logged_in_client):
    PatientFactory(last_name="Lefèvre", first_name="Hélène")
    PatientFactory(last_name="Martin", first_name="Paul")
    client = logged_in_client(PrescriberFactory())

    response = client.post(reverse("patients:search"), {"q": "LEFEVRE helene"})

    assert response.status_code == 200
    assert "LEFÈVRE" in response.content.decode()
    # (not "Paul" not in the page: the prescriber's own random name in the top bar may be Paul)
    assert [p.first_name for p in response.context["patients"]] == ["Hélène"]


def test_search_by_birth_date_and_name(logged_in_client):
    older = PatientFactory(last_name="Durand", birth_date="1950-03-12")
    PatientFactory(last_name="Durand", first_name="Zoé", birth_date="1990-01-01")
    PatientFactory(last_name="Petit", birth_date="1950-03-12")
    client = logged_in_client(PrescriberFactory())

    response = client.post(reverse("patients:search"), {"q": "durand 12/03/1950"})

    assert list(response.context["patients"]) == [older]


def test_search_by_nir_typed_with_spaces(logged_in_client):
    patient = PatientFactory(nir="295109912611193")
    PatientFactory()
    client = logged_in_client(PrescriberFactory())

    response = client.post(reverse("patients:search"), {"q": "2 95 10 99 126 111 93"})

    assert list(response.context["patients"]) == [patient]


def test_htmx_search_returns_only_the_results_partial(logged_in_client):
    PatientFactory(last_name="Bernard")
    client = logged_in_client(PrescriberFactory())

    response = client.post(
        reverse("patients:search"), {"q": "bern"}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "BERNARD" in body


def test_patient_page_shows_the_safety_data(logged_in_client):
    patient = PatientFactory(
        creatinine_clearance=25, creatinine_clearance_measured_on="2026-11-02", pregnancy_weeks=None
    )
    AllergyFactory(patient=patient, substance="AINS", reaction="Bronchospasme")
    CurrentTreatmentFactory(patient=patient, posology="1 cp le soir")
    client = logged_in_client(PrescriberFactory())

    response = client.get(reverse("patients:detail", args=[patient.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "AINS" in body
    assert "Insuffisance rénale sévère" in body
    assert "COUMADINE" in body
    assert "1 cp le soir" in body
    assert 'hx-history="false"' in body


def test_staff_cannot_open_patients(logged_in_client):
    patient = PatientFactory()
    client = logged_in_client(StaffFactory())

    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 403
    assert client.post(reverse("patients:search"), {"q": "a"}).status_code == 403


def test_opening_a_patient_record_is_traced_without_the_identity(logged_in_client):
    from prescriptions.models import AuditEvent

    patient = PatientFactory(last_name="Lefèvre", first_name="Hélène")
    prescriber = PrescriberFactory()
    client = logged_in_client(prescriber)

    response = client.get(reverse("patients:detail", args=[patient.pk]))

    assert response.status_code == 200
    [event] = AuditEvent.objects.filter(action="patient_viewed")
    assert event.actor == prescriber
    assert event.details == {"patient": patient.pk}
    assert "Lef" not in str(event.details)


def test_search_terms_never_travel_in_the_url(logged_in_client):
    PatientFactory(last_name="Bernard")
    client = logged_in_client(PrescriberFactory())

    page = client.get(reverse("patients:search")).content.decode()
    assert 'method="post"' in page
    assert 'hx-post="/patients/"' in page
    assert 'hx-get="/patients/' not in page  # the search itself never goes by GET
    # A query string is ignored: a bookmarked or logged URL searches nothing.
    response = client.get(reverse("patients:search"), {"q": "bern"})
    assert response.context["patients"] is None
    assert "BERNARD" not in response.content.decode()
