"""Screens of the follow-up: cancelling and reissuing a sent prescription (prescriber), the
lookup by unique number for pharmacists' calls (staff), and the audit trail (admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from practitioners.permissions import (
    UserRequest,
    admin_required,
    prescriber_required,
    staff_required,
)

from ..access import prescription_get_for
from ..errors import LookupRefused, PrescriptionError
from ..models import CancellationStatus
from . import audit, cancellation, lookup, reissue
from .cancelled import cancellation_refusal_reason
from .paper import paper_copy_for

# --- prescriber: the paper copy, cancel, reissue --------------------------------------------------


@require_GET
@prescriber_required
def paper_copy(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk)
    if prescription.is_draft:
        raise Http404
    paper = paper_copy_for(prescription=prescription)
    return render(request, "prescriptions/paper.html", vars(paper))


@require_http_methods(["GET", "POST"])
@prescriber_required
def cancel(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    error = ""
    form = {"reason": "", "comment": ""}
    if request.method == "POST":
        form = {
            "reason": request.POST.get("reason", ""),
            "comment": request.POST.get("comment", ""),
        }
        try:
            done = cancellation.prescription_cancel(
                prescription=prescription,
                acting_user=request.user,
                reason=form["reason"],
                comment=form["comment"],
            )
        except PrescriptionError as refusal:
            error = refusal.message
        else:
            done.refresh_from_db()
            if done.status == CancellationStatus.DONE:
                messages.success(request, _("L'ordonnance est annulée chez Ordoclic."))
            elif done.status == CancellationStatus.REFUSED:
                messages.error(request, done.last_error)
            else:
                messages.warning(
                    request,
                    _(
                        "Ordoclic ne répond pas : l'annulation est enregistrée et sera envoyée "
                        "automatiquement dès que possible."
                    ),
                )
            url = reverse("prescriptions:detail", kwargs={"pk": prescription.pk})
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return render(
        request,
        "prescriptions/followup/cancel.html",
        {
            "prescription": prescription,
            "refusal": cancellation_refusal_reason(prescription),
            "pending": cancellation.cancellation_pending(prescription=prescription),
            "reasons": cancellation.REASONS_OFFERED,
            "form": form,
            "error": error,
        },
        status=422 if error else 200,
    )


@require_POST
@prescriber_required
def reissue_create(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    try:
        new = reissue.prescription_reissue(prescription=prescription, acting_user=request.user)
    except PrescriptionError as refusal:
        messages.error(request, refusal.message)
        new = prescription
    url = reverse("prescriptions:detail", kwargs={"pk": new.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@prescriber_required
def reissue_keep_both(request: UserRequest, pk: int) -> HttpResponse:
    prescription = prescription_get_for(user=request.user, pk=pk, for_change=True)
    reissue.reissue_keep_both(prescription=prescription, acting_user=request.user)
    messages.info(request, _("Les deux ordonnances restent valides."))
    return redirect("prescriptions:detail", pk=prescription.pk)


# --- staff: lookup for pharmacists' calls ---------------------------------------------------------


def _render_lookup(
    request: UserRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    context.setdefault("number", "")
    context.setdefault("result", None)
    context.setdefault("searched", False)
    context.setdefault("error", "")
    context.setdefault("reveal_error", "")
    context.setdefault("reveal_reason", "")
    template = "prescriptions/followup/lookup.html"
    if request.htmx and not request.htmx.boosted:
        template += "#lookup-result"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def staff_lookup(request: UserRequest) -> HttpResponse:
    if request.method == "GET":
        return _render_lookup(request, {})
    raw = request.POST.get("number", "")
    try:
        result = lookup.prescription_lookup(acting_user=request.user, raw_number=raw)
    except LookupRefused as refusal:
        return _render_lookup(
            request,
            {"number": raw, "error": refusal.message},
            status=429 if refusal.rate_limited else 422,
        )
    return _render_lookup(
        request,
        {"number": lookup.number_normalise(raw), "result": result, "searched": True},
    )


@require_POST
@staff_required
def staff_lookup_reveal(request: UserRequest) -> HttpResponse:
    raw = request.POST.get("number", "")
    reason = request.POST.get("reason", "")
    try:
        result = lookup.prescription_patient_reveal(
            acting_user=request.user, raw_number=raw, reason=reason
        )
    except LookupRefused as refusal:
        # Show the result again (without the name) with the refusal next to the reason field.
        try:
            again = lookup.prescription_lookup(acting_user=request.user, raw_number=raw)
        except LookupRefused as second:
            return _render_lookup(
                request,
                {"number": raw, "error": second.message},
                status=429 if second.rate_limited else 422,
            )
        return _render_lookup(
            request,
            {
                "number": lookup.number_normalise(raw),
                "result": again,
                "searched": True,
                "reveal_error": refusal.message,
                "reveal_reason": reason,
            },
            status=429 if refusal.rate_limited else 422,
        )
    return _render_lookup(
        request,
        {"number": lookup.number_normalise(raw), "result": result, "searched": True},
    )


# --- admin: audit trail ---------------------------------------------------------------------------

AUDIT_PAGE_SIZE = 50


@require_GET
@admin_required
def audit_trail(request: UserRequest) -> HttpResponse:
    filters, errors = audit.AuditFilters.from_query(request.GET)
    events = audit.audit_events_for(user=request.user, filters=filters)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "errors": errors,
        "page": page,
        "rows": [
            (event, audit.action_label(event.action), audit.details_display(event))
            for event in page.object_list
        ],
        "actions": audit.audit_actions(),
        "query": query.urlencode(),
    }
    template = "prescriptions/followup/audit.html"
    if request.htmx and not request.htmx.boosted:
        template += "#audit-results"
    return render(request, template, context)


@require_GET
@admin_required
def audit_export(request: UserRequest) -> HttpResponse:
    filters, _errors = audit.AuditFilters.from_query(request.GET)
    events = audit.audit_events_for(user=request.user, filters=filters)
    audit.audit_export_record(acting_user=request.user, filters=filters)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        audit.audit_csv_rows(events.iterator(chunk_size=500)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="journal-ordonnances-{stamp}.csv"'
    return response  # type: ignore[return-value]  # streamed: the trail may be long
