"""The audit trail as admins read it: who read or did what on a prescription, filtered, and
exported as CSV. Audit events never hold patient identity (see AuditEvent)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from origami.patients.models import Patient
from origami.text import length_error
from practitioners.models import Role, User

from ..models import AuditAction, AuditEvent
from ..records import audit_record
from .lookup import number_normalise

DETAIL_LABELS: dict[str, Any] = {
    "number": _("numéro"),
    "reason": _("motif"),
    "outcome": _("résultat"),
    "source": _("source"),
    "status": _("statut"),
    "lines": _("lignes"),
    "version": _("version"),
    "level": _("niveau"),
    "decision": _("décision"),
    "replacement": _("remplacement"),
    "cancellation": _("annulation"),
    "patient": _("patient (n° interne)"),
    "attempts": _("tentatives"),
    "attempts_before": _("tentatives avant la relance"),
    "submission": _("transmission"),
}
OUTCOME_LABELS: dict[str, Any] = {
    "found": _("trouvée"),
    "unknown": _("aucune ordonnance"),
    "malformed": _("numéro invalide"),
}


def details_display(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's details as (French label, value) pairs, without what the row already shows."""
    shown = []
    for key, value in event.details.items():
        if value in ("", None, {}, []) or (key == "number" and event.prescription_id):
            continue
        if key == "outcome":
            value = OUTCOME_LABELS.get(str(value), value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k} : {v}" for k, v in value.items())
        shown.append((str(DETAIL_LABELS.get(key, key)), str(value)))
    return shown


@dataclass(frozen=True)
class AuditFilters:
    prescription: str = ""  # unique number, or our id
    user: str = ""  # username
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_query(cls, query: Any) -> tuple[AuditFilters, list[str]]:
        """Filters from a GET query; unreadable dates are reported, not guessed."""
        errors: list[str] = []

        def day(name: str, label: str) -> date | None:
            value = (query.get(name) or "").strip()
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                errors.append(
                    str(_("Date « %(label)s » illisible : utilisez le format AAAA-MM-JJ."))
                    % {"label": label}
                )
                return None

        def text(name: str, limit: str, label: str) -> str:
            value = (query.get(name) or "").strip()
            too_long = length_error(value, limit=limit, what=label)
            if too_long:
                errors.append(too_long)
                return ""
            return value

        action = (query.get("action") or "").strip()[:64]
        if action and action not in AuditAction.values:
            errors.append(str(_("Type d'événement inconnu : choisissez-le dans la liste.")))
            action = ""
        filters = cls(
            prescription=text("ordonnance", "journal_prescription", str(_("L'ordonnance"))),
            user=text("utilisateur", "journal_user", str(_("L'utilisateur"))),
            action=action,
            date_from=day("du", str(_("du"))),
            date_to=day("au", str(_("au"))),
        )
        return filters, errors

    def as_details(self) -> dict[str, str]:
        return {
            "prescription": self.prescription,
            "user": self.user,
            "action": self.action,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }


def _check_admin(user: User) -> None:
    if not user.is_authenticated or user.role != Role.ADMIN:
        raise PermissionDenied


def audit_events_for(*, user: User, filters: AuditFilters) -> QuerySet[AuditEvent]:
    _check_admin(user)
    events = AuditEvent.objects.select_related("actor", "prescription")
    if filters.prescription:
        number = number_normalise(filters.prescription)
        match = Q(prescription__number=number) | Q(details__number=number)
        if filters.prescription.isdigit():
            match |= Q(prescription_id=int(filters.prescription))
        events = events.filter(match)
    if filters.user:
        events = events.filter(actor__username__iexact=filters.user)
    if filters.action:
        events = events.filter(action=filters.action)
    zone = timezone.get_current_timezone()
    if filters.date_from:
        events = events.filter(at__gte=datetime.combine(filters.date_from, time.min, zone))
    if filters.date_to:
        events = events.filter(at__lte=datetime.combine(filters.date_to, time.max, zone))
    return events.order_by("-at", "-pk")


def audit_actions() -> list[tuple[str, str]]:
    """Every kind of event of the trail, labelled, for the filter."""
    return sorted(((a.value, str(a.label)) for a in AuditAction), key=lambda c: c[1])


def action_label(action: str) -> str:
    return str(AuditAction(action).label) if action in AuditAction.values else action


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


CSV_HEADER = [
    "date",
    "utilisateur",
    "role",
    "action",
    "libelle",
    "ordonnance_id",
    "numero",
    "details",
]


def audit_csv_rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The CSV, line by line (streamed: the trail may be long)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(CSV_HEADER)
    yield flush()
    for event in events:
        actor = event.actor
        writer.writerow(
            [
                _cell(timezone.localtime(event.at).isoformat(timespec="seconds")),
                _cell(actor.username if actor else "ordoclic"),
                _cell(actor.role if actor else "system"),
                _cell(event.action),
                _cell(action_label(event.action)),
                _cell(event.prescription_id or ""),
                _cell(event.prescription.number if event.prescription else ""),
                _cell(json.dumps(event.details, ensure_ascii=False, sort_keys=True)),
            ]
        )
        yield flush()


def audit_export_record(*, acting_user: User, filters: AuditFilters) -> None:
    _check_admin(acting_user)
    audit_record(
        actor=acting_user,
        action=AuditAction.AUDIT_EXPORTED,
        prescription=None,
        details=filters.as_details(),
    )


def patient_viewed_record(*, patient: Patient, user: User, **_kwargs: object) -> None:
    """Who opened which patient record, in the audit trail with the prescriptions' events (the
    patient's id only, never their identity). Connected to the patient record's signal."""
    audit_record(
        actor=user,
        action=AuditAction.PATIENT_VIEWED,
        prescription=None,
        details={"patient": patient.pk},
    )


def patient_record_changed_record(
    *, patient: Patient, user: User, fields: list[str], **_kwargs: object
) -> None:
    """A prescriber changed the clinical context of a record (what changed, never the values),
    in the transaction of the change. The open drafts see it through their analysis
    fingerprint and analyse again."""
    audit_record(
        actor=user,
        action=AuditAction.PATIENT_RECORD_UPDATED,
        prescription=None,
        details={"patient": patient.pk, "fields": list(fields)},
    )
