"""Sentry sees errors, not patients: initialised only with a DSN, no default PII, and every event
scrubbed before it leaves the process: by key (patient fields), then by value (NIR/INS, dates,
the names of the patients read in the request: origami/scrubbing.py) in the message, the log
entry, exception values, extras, tags, contexts and breadcrumbs."""

from __future__ import annotations

from typing import Any

from origami.scrubbing import scrub_values

from .env import env_float, env_str

# Keys whose values never leave the process, wherever they appear in an event.
PATIENT_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "birth_name",
        "birth_first_names",
        "birth_date",
        "nir",
        "ins",
        "patient",
        "patient_name",
        "name",
        "address",
        "phone",
        "email",
        "allergies",
        "pathologies",
        "weight",
        "height",
        "creatinine_clearance",
        "pregnancy",
        "breastfeeding",
        "ald",
        "current_treatments",
        "lines",
        "posology",
        "firstname",
        "lastname",
        "birthdate",
        "sig",
        "token",
        "authorization",
        "cookie",
        "password",
        "otp_token",
        "secret",
        "key",
    }
)
FILTERED = "[filtré]"


def scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (FILTERED if str(k).lower() in PATIENT_FIELDS else scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    event = _before_send_by_key(event)
    # Then by value, wherever free text may carry what no key announced.
    if isinstance(event.get("message"), str):
        event["message"] = scrub_values(event["message"])
    if isinstance(event.get("logentry"), dict):
        event["logentry"] = scrub_values(event["logentry"])
    for part in ("extra", "tags", "contexts"):
        if part in event:
            event[part] = scrub_values(event[part])
    for crumb in (event.get("breadcrumbs") or {}).get("values", []) or []:
        if isinstance(crumb, dict) and isinstance(crumb.get("category"), str):
            crumb["category"] = scrub_values(crumb["category"])
    request = event.get("request")
    if isinstance(request, dict) and isinstance(request.get("url"), str):
        request["url"] = scrub_values(request["url"])
    return event


def _before_send_by_key(event: dict[str, Any]) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        request.pop("query_string", None)
        if isinstance(request.get("headers"), dict):
            request["headers"] = scrub(request["headers"])
    for exception in (event.get("exception") or {}).get("values", []) or []:
        # The type and the stack stay; the message may quote patient data (a validation error
        # quoting a value, a database error's DETAIL line).
        if exception.get("value"):
            exception["value"] = FILTERED
        for frame in (exception.get("stacktrace") or {}).get("frames", []) or []:
            frame.pop("vars", None)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        # Keep the template of a logged message ("... raised unexpected: %(exc)s"), not what
        # filled it in.
        logentry.pop("params", None)
        logentry.pop("formatted", None)
    if "extra" in event:
        event["extra"] = scrub(event["extra"])
    event.pop("user", None)
    if "breadcrumbs" in event:
        for crumb in (event["breadcrumbs"] or {}).get("values", []) or []:
            crumb.pop("data", None)
            crumb.pop("message", None)
    return event


def init_sentry() -> None:
    dsn = env_str("SENTRY_DSN", "")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=env_str("SENTRY_ENVIRONMENT", "local"),
        release=env_str("ORIGAMI_VERSION", "0.1.0"),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
        before_send=before_send,  # type: ignore[arg-type]
    )
