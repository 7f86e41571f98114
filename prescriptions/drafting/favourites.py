"""What a prescriber keeps to write faster: favourites (one line: the drug, its usual posology and
options) and protocols (named sets of lines, personal or shared with the prescribers of a
structure). Favourites and protocols come first in the drug search; a favourite fills the line,
a protocol is inserted in one action (one new version of the draft, so one analysis).

A favourite belongs to its prescriber alone. A protocol is seen by its author and, when shared,
by every prescriber with an active exercise context of the same structure (FINESS, else the
Assurance Maladie number); only its author changes it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.contrib.postgres.lookups import Unaccent
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from django.utils.translation import gettext as _

from ordoclic_client.text import unaccented
from practitioners.models import ExerciseContext, Practitioner, User

from ..drugs.catalogue import DrugChoice, drug_choice_for_code
from ..drugs.units import unit_for_form
from ..errors import PrescriptionError
from ..models import (
    AuditAction,
    CodeSystem,
    Favourite,
    LineTemplate,
    Prescription,
    PrescriptionLine,
    Protocol,
    ProtocolLine,
)
from .services import LineInput, line_values_checked, prescription_lines_insert

# The fields a favourite or a protocol line keeps of a prescription line.
TEMPLATE_FIELDS = [
    "drug_code_system",
    "drug_code",
    "label",
    "substance",
    "dosage",
    "form",
    "route",
    "conditions",
    "posology_text",
    "quantity",
    "renewals",
    "non_substitutable",
    "non_substitutable_reason",
    "ald",
    "instructions",
    "non_reimbursable",
]
NAME_MAX = 120

T = TypeVar("T", Favourite, Protocol)


def _practitioner_of(user: User) -> Practitioner:
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None:
        raise PermissionDenied
    return practitioner


def _clean_name(name: str) -> str:
    name = " ".join(name.split())[:NAME_MAX]
    if not name:
        raise PrescriptionError(_("Donnez-lui un nom."), field="name")
    return name


def _fields_of(line: PrescriptionLine | LineTemplate) -> dict[str, object]:
    return {name: getattr(line, name) for name in TEMPLATE_FIELDS}


def template_line_input(template: LineTemplate) -> tuple[DrugChoice, LineInput]:
    """The drug and the entry of a line written from a favourite or a protocol line."""
    drug = DrugChoice(
        code=template.drug_code,
        label=template.label,
        substance=template.substance,
        form=template.form,
        route=template.route,
        code_system=template.drug_code_system,
        default_unit=unit_for_form(template.form, template.route, template.label),
        dosage=template.dosage,
        # kept with the template: the rules of the product (narcotic, hospital-only, …) apply
        # again when the line is inserted into a draft
        conditions=template.conditions,
    )
    data = LineInput(
        posology=template.posology_text,
        quantity=template.quantity,
        renewals=template.renewals,
        non_substitutable=template.non_substitutable,
        non_substitutable_reason=template.non_substitutable_reason,
        ald=template.ald,
        instructions=template.instructions,
        non_reimbursable=template.non_reimbursable,
    )
    return drug, data


def _matching(queryset: QuerySet[T], *, text: str, fields: Iterable[str]) -> QuerySet[T]:
    """Every word of ``text`` starts a word of one of ``fields`` (accents and case ignored)."""
    fields = list(fields)
    queryset = queryset.annotate(**{f"{name}_folded": Unaccent(Lower(name)) for name in fields})
    for word in text.split():
        folded = unaccented(word)
        condition = Q()
        for name in fields:
            condition |= Q(**{f"{name}_folded__startswith": folded})
            condition |= Q(**{f"{name}_folded__contains": f" {folded}"})
            condition |= Q(**{f"{name}_folded__contains": f"({folded}"})
        queryset = queryset.filter(condition)
    return queryset


# --- favourites ---------------------------------------------------------------------------------


def favourites_for(*, user: User) -> QuerySet[Favourite]:
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None:
        return Favourite.objects.none()
    return Favourite.objects.filter(practitioner=practitioner).order_by("name", "pk")


def favourites_matching(*, user: User, text: str, limit: int = 5) -> list[Favourite]:
    return list(
        _matching(favourites_for(user=user), text=text, fields=["name", "label", "substance"])[
            :limit
        ]
    )


def favourite_get_for(*, user: User, pk: int) -> Favourite:
    favourite = favourites_for(user=user).filter(pk=pk).first()
    if favourite is None:
        raise Http404
    return favourite


@transaction.atomic
def favourite_create_from_line(*, line: PrescriptionLine, acting_user: User) -> Favourite:
    """Keep a line of one's own draft or prescription as a favourite. The same drug with the
    same posology and options is kept once."""
    practitioner = _practitioner_of(acting_user)
    if line.prescription.prescriber_id != practitioner.pk:
        raise PermissionDenied
    fields = _fields_of(line)
    existing = Favourite.objects.filter(practitioner=practitioner, **fields).first()
    if existing is not None:
        return existing
    return Favourite.objects.create(practitioner=practitioner, name=line.label[:NAME_MAX], **fields)


@transaction.atomic
def favourite_rename(*, favourite: Favourite, acting_user: User, name: str) -> Favourite:
    if favourite.practitioner.user_id != acting_user.pk:
        raise PermissionDenied
    favourite.name = _clean_name(name)
    favourite.save(update_fields=["name", "updated_at"])
    return favourite


@transaction.atomic
def favourite_delete(*, favourite: Favourite, acting_user: User) -> None:
    if favourite.practitioner.user_id != acting_user.pk:
        raise PermissionDenied
    favourite.delete()


# --- protocols ----------------------------------------------------------------------------------


def structure_key(context: ExerciseContext) -> str:
    kind, value = context.structure_identifier
    return f"{kind}:{value}" if value else ""


def protocols_visible_to(
    *, user: User, contexts: Iterable[ExerciseContext] | None = None
) -> QuerySet[Protocol]:
    """The user's own protocols and those shared in a structure where they practise.
    ``contexts``: the user's active exercise contexts when the caller has read them already
    (`practitioners.selectors.active_exercise_contexts`, once per request)."""
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None:
        return Protocol.objects.none()
    if contexts is None:
        contexts = practitioner.exercise_contexts.filter(is_active=True)
    keys = [key for context in contexts if (key := structure_key(context))]
    return (
        Protocol.objects.filter(Q(practitioner=practitioner) | Q(shared_structure__in=keys))
        .select_related("practitioner__user", "shared_context")
        .order_by("name", "pk")
    )


def protocols_matching(
    *,
    user: User,
    text: str,
    limit: int = 5,
    contexts: Iterable[ExerciseContext] | None = None,
) -> list[Protocol]:
    visible = protocols_visible_to(user=user, contexts=contexts)
    return list(_matching(visible, text=text, fields=["name"]).prefetch_related("lines")[:limit])


def protocol_get_for(*, user: User, pk: int, for_change: bool = False) -> Protocol:
    """A protocol the user may see (or change: its author only); 404 otherwise."""
    protocols = protocols_visible_to(user=user)
    if for_change:
        protocols = protocols.filter(practitioner__user=user)
    protocol = protocols.filter(pk=pk).first()
    if protocol is None:
        raise Http404
    return protocol


def _share(protocol: Protocol, context: ExerciseContext | None) -> None:
    if context is not None and context.practitioner_id != protocol.practitioner_id:
        raise PermissionDenied
    protocol.shared_context = context
    protocol.shared_structure = structure_key(context) if context is not None else ""


def _unique_name(practitioner: Practitioner, name: str, *, exclude: int | None = None) -> None:
    taken = Protocol.objects.filter(practitioner=practitioner, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise PrescriptionError(
            _("Vous avez déjà un protocole « %(name)s ».") % {"name": name}, field="name"
        )


@transaction.atomic
def protocol_create(
    *,
    acting_user: User,
    name: str,
    shared_context: ExerciseContext | None = None,
    from_prescription: Prescription | None = None,
) -> Protocol:
    """A new protocol, empty or with the lines of one of the author's prescriptions."""
    practitioner = _practitioner_of(acting_user)
    name = _clean_name(name)
    _unique_name(practitioner, name)
    protocol = Protocol(practitioner=practitioner, name=name)
    _share(protocol, shared_context)
    lines: list[PrescriptionLine] = []
    if from_prescription is not None:
        if from_prescription.prescriber_id != practitioner.pk:
            raise PermissionDenied
        lines = list(from_prescription.lines.order_by("position", "pk"))
        if not lines:
            raise PrescriptionError(_("L'ordonnance n'a encore aucun médicament."), field="name")
    try:
        with transaction.atomic():
            protocol.save()
    except IntegrityError:  # the same name saved meanwhile (two tabs)
        raise PrescriptionError(
            _("Vous avez déjà un protocole « %(name)s ».") % {"name": name}, field="name"
        ) from None
    ProtocolLine.objects.bulk_create(
        [
            ProtocolLine(protocol=protocol, position=position, **_fields_of(line))
            for position, line in enumerate(lines)
        ]
    )
    return protocol


@transaction.atomic
def protocol_update(
    *, protocol: Protocol, acting_user: User, name: str, shared_context: ExerciseContext | None
) -> Protocol:
    if protocol.practitioner.user_id != acting_user.pk:
        raise PermissionDenied
    protocol.name = _clean_name(name)
    _unique_name(protocol.practitioner, protocol.name, exclude=protocol.pk)
    _share(protocol, shared_context)
    protocol.save(update_fields=["name", "shared_context", "shared_structure", "updated_at"])
    return protocol


@transaction.atomic
def protocol_delete(*, protocol: Protocol, acting_user: User) -> None:
    if protocol.practitioner.user_id != acting_user.pk:
        raise PermissionDenied
    protocol.delete()


@transaction.atomic
def protocol_line_add(
    *, protocol: Protocol, acting_user: User, drug: DrugChoice, data: LineInput
) -> ProtocolLine:
    """A line added to a protocol from its own page (a protocol written from scratch). The
    posology is checked as on the prescription screen and kept as its printed sentence."""
    if protocol.practitioner.user_id != acting_user.pk:
        raise PermissionDenied
    from_screen = prescription_line_preview(drug=drug, data=data)
    return ProtocolLine.objects.create(
        protocol=protocol,
        position=protocol.lines.count(),
        **_fields_of(from_screen),
    )


def prescription_line_preview(*, drug: DrugChoice, data: LineInput) -> PrescriptionLine:
    """The line the screen would write for this drug and entry, unsaved: the same checks of the
    posology and options, without a prescription."""
    values = line_values_checked(drug=drug, data=data)
    return PrescriptionLine(
        drug_code_system=drug.code_system,
        drug_code=drug.code,
        label=drug.label,
        substance=drug.substance,
        dosage=drug.dosage,
        conditions=drug.conditions,
        form=drug.form,
        route=drug.route,
        **values,
    )


@transaction.atomic
def protocol_line_remove(*, line: ProtocolLine, acting_user: User) -> None:
    if line.protocol.practitioner.user_id != acting_user.pk:
        raise PermissionDenied
    line.delete()


def _as_today(template: LineTemplate, *, rpps: str) -> tuple[DrugChoice, LineInput]:
    """A protocol's line with its product as the drug database describes it today: Ordoclic's
    (its conditions of today), or the memory's while Ordoclic does not answer, then marked
    unverified and checked before sending. A DCI line names no product: kept as written."""
    drug, data = template_line_input(template)
    if template.drug_code_system == CodeSystem.DCI:
        return drug, data
    return drug_choice_for_code(rpps=rpps, code=template.drug_code), data


def prescription_protocol_insert(
    *, prescription: Prescription, acting_user: User, version: int, protocol: Protocol
) -> list[PrescriptionLine]:
    """Every line of the protocol added to the draft in one change (one analysis after)."""
    templates = list(protocol.lines.order_by("position", "pk"))
    if not templates:
        raise PrescriptionError(_("Ce protocole n'a aucune ligne."), field="protocol")
    rpps = prescription.prescriber.rpps
    return prescription_lines_insert(
        prescription=prescription,
        acting_user=acting_user,
        version=version,
        lines=[_as_today(template, rpps=rpps) for template in templates],
        action=AuditAction.PROTOCOL_INSERTED,
        details={"protocol": protocol.pk},
    )
