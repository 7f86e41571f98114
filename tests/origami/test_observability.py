import logging

from django.urls import reverse

from origami.observability import ContextFilter, KeyValueFormatter, bind_prescription
from origami.settings.sentry import FILTERED, before_send


def test_sentry_event_loses_patient_fields_request_body_and_local_variables():
    event = {
        "request": {
            "url": "https://origami.example/patients/12/",
            "data": {"last_name": "DUPONT", "nir": "295109912611193"},
            "cookies": {"sessionid": "abc"},
            "query_string": "q=DUPONT",
            "headers": {"Authorization": "Bearer secret", "Accept": "text/html"},
        },
        "exception": {
            "values": [{"stacktrace": {"frames": [{"function": "f", "vars": {"nir": "2951"}}]}}]
        },
        "extra": {"patient": {"first_name": "Jeanne"}, "prescription_id": 42},
        "user": {"username": "cmartin", "email": "c@example.org"},
        "breadcrumbs": {"values": [{"message": "query", "data": {"birth_date": "1995-10-01"}}]},
    }

    scrubbed = before_send(event, {})

    assert scrubbed is not None
    flat = repr(scrubbed)
    for secret in ("DUPONT", "295109912611193", "Jeanne", "1995-10-01", "Bearer secret", "abc"):
        assert secret not in flat
    assert scrubbed["extra"] == {"patient": FILTERED, "prescription_id": 42}
    assert scrubbed["request"]["headers"]["Accept"] == "text/html"
    assert "user" not in scrubbed


def test_sentry_event_keeps_the_exception_type_but_not_its_message_nor_logged_values():
    event = {
        "exception": {
            "values": [
                {"type": "IntegrityError", "value": "DETAIL: Key (nir)=(295109912611193)"},
            ]
        },
        "logentry": {
            "message": "Task %(name)s raised unexpected: %(exc)s",
            "params": {"exc": "ValueError('DUPONT')"},
            "formatted": "Task x raised unexpected: ValueError('DUPONT')",
        },
        "breadcrumbs": {"values": [{"category": "celery", "message": "failed: DUPONT Jeanne"}]},
    }

    scrubbed = before_send(event, {})

    assert scrubbed is not None
    flat = repr(scrubbed)
    for secret in ("295109912611193", "DUPONT", "Jeanne"):
        assert secret not in flat
    assert scrubbed["exception"]["values"][0]["type"] == "IntegrityError"
    assert scrubbed["logentry"]["message"] == "Task %(name)s raised unexpected: %(exc)s"


def test_a_celery_task_failure_line_names_the_exception_type_only():
    record = logging.LogRecord(
        "celery.app.trace",
        logging.ERROR,
        __file__,
        1,
        "Task %(name)s[%(id)s] raised unexpected: %(exc)s",
        None,
        None,
    )
    record.args = {
        "name": "prescriptions.submission_send",
        "id": "abc",
        "exc": "ValueError('patient DUPONT Jeanne 295109912611193')",
    }
    try:
        raise ValueError("patient DUPONT Jeanne 295109912611193")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    ContextFilter().filter(record)
    line = KeyValueFormatter().format(record)

    assert "raised unexpected: ValueError" in line
    assert "DUPONT" not in line
    assert "295109912611193" not in line


def test_log_line_carries_prescription_id_and_only_the_exception_type():
    record = logging.LogRecord("origami", logging.ERROR, __file__, 1, "send failed", None, None)
    try:
        raise ValueError("patient DUPONT Jeanne 295109912611193")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    with bind_prescription(42):
        ContextFilter().filter(record)
    line = KeyValueFormatter().format(record)

    assert "prescription_id=42" in line
    assert "exc=ValueError" in line
    assert "DUPONT" not in line
    assert "295109912611193" not in line


def test_every_response_carries_a_request_id(client):
    response = client.get(reverse("login"))
    assert len(response["X-Request-ID"]) >= 8
    forged = client.get(reverse("login"), headers={"X-Request-ID": "<script>"})
    assert forged["X-Request-ID"] != "<script>"
