"""Patient data never reaches Sentry nor the logs, even under a key no list names or inside a
message built beforehand: NIR / INS, dates of birth and the names of the patients read in the
request are scrubbed by value. Checked on what the Sentry SDK really sends (a capturing
transport) and on what the log handler really writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from origami.patients.models import Patient
from origami.scrubbing import patient_names_var
from origami.settings.sentry import before_send
from tests.factories import PatientFactory

NIR = "295109912611193"
NIR_TYPED = "2 95 10 99 126 111 93"
BIRTH = "12/03/1950"


class CapturingTransport(Transport):
    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def sent(self) -> str:
        out = io.BytesIO()
        for envelope in self.envelopes:
            envelope.serialize_into(out)
        return out.getvalue().decode()

    def events(self) -> list[dict[str, Any]]:
        return [
            item.payload.json for e in self.envelopes for item in e.items if item.type == "event"
        ]


@pytest.fixture
def sentry() -> Iterator[CapturingTransport]:
    transport = CapturingTransport()
    client = sentry_sdk.Client(
        dsn="https://public@sentry.invalid/1",
        transport=transport,
        send_default_pii=False,
        include_local_variables=False,
        before_send=before_send,  # type: ignore[arg-type]
        default_integrations=False,
    )
    with sentry_sdk.isolation_scope() as scope:
        scope.set_client(client)
        yield transport
        client.flush()
    client.close()


@pytest.fixture
def patient_in_scope(db: Any) -> Iterator[Patient]:
    token = patient_names_var.set(())
    created = PatientFactory(last_name="Lefèvre", first_name="Hélène", nir=NIR)
    yield Patient.objects.get(pk=created.pk)  # read, as a view would
    patient_names_var.reset(token)


def test_a_nir_in_a_prebuilt_message_never_reaches_sentry(sentry):
    sentry_sdk.capture_message(f"no match for patient NIR {NIR} born {BIRTH}")
    sentry_sdk.capture_message(f"no match for {NIR_TYPED} (1950-03-12)")
    sentry_sdk.flush()
    sent = sentry.sent()
    assert len(sentry.events()) == 2
    for value in (NIR, NIR_TYPED, BIRTH, "1950-03-12"):
        assert value not in sent
    assert "no match for patient NIR [filtré]" in json.dumps(sentry.events(), ensure_ascii=False)


def test_a_nir_under_unlisted_keys_tags_contexts_and_breadcrumbs_never_reaches_sentry(sentry):
    sentry_sdk.set_extra("lookup_value", NIR)
    sentry_sdk.set_extra("payload", {"whatever": [f"ins={NIR}"], "when": BIRTH})
    sentry_sdk.set_tag("search", NIR)
    sentry_sdk.set_context("ordoclic", {"subject": f"urn:oid:1.2.250.1.213.1.4.8|{NIR}"})
    sentry_sdk.add_breadcrumb(category=f"search {NIR}", message=f"typed {NIR}", data={"q": NIR})
    try:
        raise ValueError(f"patient {NIR} not found")
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    sent = sentry.sent()
    assert sentry.events()
    assert NIR not in sent
    assert BIRTH not in sent
    [event] = sentry.events()
    assert event["exception"]["values"][0]["type"] == "ValueError"  # the useful part stays
    assert event["tags"]["search"] == "[filtré]"


@pytest.mark.django_db
def test_the_names_of_the_patient_in_scope_never_reach_sentry(sentry, patient_in_scope):
    sentry_sdk.set_extra("note", "appel de Mme LEFÈVRE Hélène")
    sentry_sdk.capture_message(f"signature failed for {patient_in_scope.last_name}")
    sentry_sdk.flush()
    sent = json.dumps(sentry.events(), ensure_ascii=False)
    assert "Lefèvre" not in sent
    assert "LEFÈVRE" not in sent
    assert "Hélène" not in sent
    assert "signature failed for [filtré]" in sent


def _log_line(logger_name: str, *args: Any, **kwargs: Any) -> str:
    """What the configured console handler writes for this record."""
    from django.conf import settings

    handler_config = settings.LOGGING["handlers"]["console"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    from origami.observability import ContextFilter, KeyValueFormatter, ScrubFilter

    filters = {"context": ContextFilter(), "scrub": ScrubFilter()}
    for name in handler_config["filters"]:
        handler.addFilter(filters[name])
    handler.setFormatter(KeyValueFormatter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        logger.error(*args, **kwargs)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


@pytest.mark.django_db
def test_log_lines_are_scrubbed_by_value(patient_in_scope):
    line = _log_line("origami.test", "lookup %s for %s born %s", NIR, "Lefèvre", BIRTH)
    assert NIR not in line
    assert "Lefèvre" not in line
    assert BIRTH not in line
    assert "lookup [filtré] for [filtré] born [filtré]" in line
    prebuilt = _log_line("origami.test", f"patient {NIR_TYPED} / Hélène")
    assert NIR_TYPED not in prebuilt
    assert "Hélène" not in prebuilt


def test_a_patient_read_in_one_request_is_forgotten_by_the_next(client, db):
    from django.urls import reverse

    from tests.factories import PrescriberFactory
    from tests.helpers import login

    patient = PatientFactory(last_name="Zanzibar")
    login(client, PrescriberFactory())
    client.get(reverse("patients:detail", kwargs={"patient_id": patient.pk}))
    # The request's scope ended with the request.
    assert "Zanzibar" not in patient_names_var.get()
