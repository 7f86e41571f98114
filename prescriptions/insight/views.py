"""The alert insight page (administrators): figures with their charts, each downloadable as
CSV. Opening the page and each download are audit events (the filters only)."""

from __future__ import annotations

import csv
import io

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from practitioners.permissions import UserRequest, admin_required

from ..models import AuditAction
from ..records import audit_record
from . import charts
from .selectors import Insight, InsightFilters, filter_choices, insight_for

LEVEL_CSS = {"CI": "level-ci", "ASDEC": "level-asdec", "PE": "level-pe", "APEC": "level-apec"}


def _percent(value: float) -> str:
    return f"{round(value * 100)} %"


@require_GET
@admin_required
def insight(request: UserRequest) -> HttpResponse:
    filters, errors = InsightFilters.from_query(request.GET)
    figures = insight_for(filters=filters)
    audit_record(
        actor=request.user,
        action=AuditAction.INSIGHT_VIEWED,
        prescription=None,
        details=filters.as_details(),
    )
    outcomes = figures.outcomes
    context = {
        "figures": figures,
        "errors": errors,
        "choices": filter_choices(),
        "query": request.GET.urlencode(),
        "override_chart": charts.bar_chart(
            [
                (
                    f"{row.alert_type} · {row.level}",
                    row.rate,
                    f"{_percent(row.rate)} ({row.maintained}/{row.decided})",
                    LEVEL_CSS.get(row.level, "level-other"),
                )
                for row in figures.overrides
            ]
        ),
        "outcome_chart": charts.bar_chart(
            [
                (label, outcomes.share(count), f"{_percent(outcomes.share(count))} ({count})", css)
                for label, count, css in (
                    (_("Signées sans analyse"), outcomes.without_analysis, "level-asdec"),
                    (_("Retenues avant l'envoi"), outcomes.held, "level-pe"),
                    (_("Annulées"), outcomes.cancelled, "level-ci"),
                    (_("Remplacées"), outcomes.reissued, "level-apec"),
                )
            ]
        ),
        "weeks_chart": charts.time_series(
            [(week.week.strftime("%d/%m/%Y"), week.per_prescription) for week in figures.weeks]
        ),
    }
    return render(request, "prescriptions/insight/insight.html", context)


CSV_FIGURES = ("depassements", "paires", "delais", "devenir", "semaines")


@require_GET
@admin_required
def insight_export(request: UserRequest, figure: str) -> HttpResponse:
    if figure not in CSV_FIGURES:
        raise Http404
    filters, _errors = InsightFilters.from_query(request.GET)
    figures = insight_for(filters=filters)
    audit_record(
        actor=request.user,
        action=AuditAction.INSIGHT_EXPORTED,
        prescription=None,
        details={**filters.as_details(), "figure": figure},
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    for row in _csv_rows(figures, figure):
        writer.writerow([_cell(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = f"{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="indicateurs-{figure}-{stamp}.csv"'
    return response


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_rows(figures: Insight, figure: str) -> list[list[object]]:
    if figure == "depassements":
        return [
            ["type", "niveau", "decisions", "maintenues", "taux_maintien"],
            *[
                [r.alert_type, r.level, r.decided, r.maintained, f"{r.rate:.4f}"]
                for r in figures.overrides
            ],
        ]
    if figure == "paires":
        return [
            ["substances", "maintiens", "justifications_frequentes"],
            *[
                [p.substances, p.count, " | ".join(f"{said} ({n})" for said, n in p.reasons)]
                for p in figures.pairs
            ],
        ]
    if figure == "delais":
        return [
            ["niveau", "decisions", "mediane_s", "p90_s"],
            *[
                [d.level, d.count, f"{d.median_seconds:.0f}", f"{d.p90_seconds:.0f}"]
                for d in figures.delays
            ],
        ]
    if figure == "devenir":
        o = figures.outcomes
        return [
            ["signees", "sans_analyse", "retenues", "annulees", "remplacees"],
            [o.signed, o.without_analysis, o.held, o.cancelled, o.reissued],
        ]
    return [
        ["semaine", "ordonnances", "alertes", "alertes_par_ordonnance"],
        *[
            [w.week.isoformat(), w.prescriptions, w.alerts, f"{w.per_prescription:.3f}"]
            for w in figures.weeks
        ],
    ]
