from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from origami.ordoclic import override_client
from practitioners.models import OrdoclicLinkStatus
from tests.factories import PatientFactory, PrescriberFactory

from .fakes import FakeOrdoclic


@pytest.fixture
def fake_ordoclic() -> Iterator[FakeOrdoclic]:
    fake = FakeOrdoclic()
    with override_client(fake):  # type: ignore[arg-type]
        yield fake


def linked_prescriber(**kwargs: Any) -> Any:
    import uuid

    user = PrescriberFactory(**kwargs)
    practitioner = user.practitioner
    practitioner.ordoclic_link_status = OrdoclicLinkStatus.LINKED
    practitioner.ordoclic_professional_id = uuid.uuid4()
    practitioner.save()
    return user


@pytest.fixture
def prescriber() -> Any:
    return linked_prescriber()


@pytest.fixture
def patient() -> Any:
    return PatientFactory()


# --- follow-up (dispensing, webhooks, cancellation, reissue, lookup) ---------------------------

CLAIRE_MARTIN = "10100001238"
WEBHOOK_SECRET = "secret-de-test-des-webhooks"
DOLIPRANE = ("60234100", "DOLIPRANE 1000 mg, comprimé", "paracétamol", "comprimé")
SPASFON = ("68081368", "SPASFON, comprimé enrobé", "phloroglucinol", "comprimé enrobé")


@pytest.fixture
def served_ordoclic(served_sandbox: Any) -> Iterator[Any]:
    """`get_client()` talks to the served sandbox over HTTP (every thread, live server too)."""
    from ordoclic_client import OrdoclicClient, PartnerCredentials, build_http_client

    client = OrdoclicClient(
        http=build_http_client(base_url=served_sandbox.base_url),
        credentials=PartnerCredentials(
            partner_id=served_sandbox.partner_id, private_key_pem=served_sandbox.private_key_pem
        ),
    )
    with override_client(client):
        yield served_sandbox
    client.close()


@pytest.fixture
def martin() -> Any:
    """Dr Claire MARTIN, linked at Ordoclic (the client in place must reach a sandbox)."""
    from practitioners.ordoclic import practitioner_link_ordoclic

    user = PrescriberFactory(
        first_name="Claire", last_name="Martin", practitioner_record__rpps=CLAIRE_MARTIN
    )
    practitioner_link_ordoclic(practitioner=user.practitioner, acting_user=user)
    user.practitioner.refresh_from_db()
    return user


def registered_prescription(
    *,
    user: Any,
    patient: Any = None,
    drugs: tuple[tuple[str, str, str, str], ...] = (DOLIPRANE, SPASFON),
    objection: bool = False,
    replaces: Any = None,
) -> Any:
    """A prescription written, analysed, signed and registered at the Ordoclic in place."""
    prescription = draft_with_lines(
        user=user, patient=patient, drugs=drugs, objection=objection, replaces=replaces
    )
    return sign_and_register(user=user, prescription=prescription)


def draft_with_lines(
    *,
    user: Any,
    patient: Any = None,
    drugs: tuple[tuple[str, str, str, str], ...] = (DOLIPRANE, SPASFON),
    objection: bool = False,
    replaces: Any = None,
) -> Any:
    from prescriptions import services

    context = user.practitioner.exercise_contexts.first()
    prescription = services.prescription_create_draft(
        patient=patient or PatientFactory(),
        prescriber=user.practitioner,
        acting_user=user,
        exercise_context=context,
        replaces=replaces,
    )
    for code, label, substance, form in drugs:
        services.prescription_line_add(
            prescription=prescription,
            acting_user=user,
            version=prescription.version,
            drug=services.DrugChoice(
                code=code, label=label, substance=substance, form=form, default_unit="comprimé"
            ),
            data=services.LineInput(posology="1 cp matin et soir 5 jours"),
        )
    if objection:
        services.prescription_options_update(
            prescription=prescription,
            acting_user=user,
            version=prescription.version,
            exercise_context=context,
            dispensing_follow_up_objection=True,
            share_with_dmp=True,
        )
        prescription.refresh_from_db()
    return prescription


def sign_and_register(*, user: Any, prescription: Any) -> Any:
    from prescriptions import services
    from prescriptions.models import Prescription, TransmissionStatus

    prescription.refresh_from_db()
    services.prescription_analyse(prescription=prescription, acting_user=user)
    prescription.refresh_from_db()
    services.prescription_sign(
        prescription=prescription, acting_user=user, version=prescription.version
    )
    services.submission_send(submission_id=prescription.submission.pk)
    prescription = Prescription.objects.get(pk=prescription.pk)
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    return prescription
