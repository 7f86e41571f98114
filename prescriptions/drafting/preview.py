"""What a drug would raise before it is added: the analysis of the draft plus the picked drug at
its form's usual dose (one unit once a day), shown as a preview the moment the drug is picked,
before the posology is typed. A read: nothing is stored, it is never the draft's analysis (the
real one runs on the line as written, once added)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import assert_never

from django.utils.translation import gettext as _

from ordoclic_client import contract
from origami.patients.models import Patient

from .. import ordoclic
from ..drugs.catalogue import DrugChoice
from ..models import AlertLevel, FrequencyPeriod, Prescription, PrescriptionLine
from ..ordoclic import NotAnswered, Refused
from .payloads import current_treatment_ref, line_in, recorded_treatment_ref
from .rules import alerts_ordered
from .selectors import analysis_request_for, current_treatment_lines

# The line id the candidate drug carries in the preview's request.
CANDIDATE = "candidate"


@dataclass(frozen=True)
class PreviewAlert:
    level: str
    type: str
    title: str
    # the other lines or treatments it concerns
    with_labels: list[str]
    pk: int = 0  # alerts_ordered breaks ties on it

    @property
    def level_display(self) -> str:
        return str(AlertLevel(self.level).label) if self.level in AlertLevel.values else self.level


@dataclass(frozen=True)
class DrugPreview:
    drug: DrugChoice
    dose_text: str
    alerts: list[PreviewAlert] = field(default_factory=list)
    not_done: bool = False
    reason: str = ""


def _candidate_line(*, prescription: Prescription, drug: DrugChoice) -> PrescriptionLine:
    """The picked drug at its form's usual dose, never saved."""
    return PrescriptionLine(
        prescription=prescription,
        drug_code=drug.code,
        label=drug.label,
        substance=drug.substance,
        form=drug.form,
        route=drug.route,
        dose=Decimal(1),
        unit=drug.default_unit or _("unité"),
        frequency_count=1,
        frequency_period=FrequencyPeriod.DAY,
    )


def drug_preview(*, prescription: Prescription, drug: DrugChoice) -> DrugPreview:
    """The alerts the picked drug would raise with the draft's lines, the patient's running
    prescriptions and recorded treatments; within the web request's budget."""
    prescription.patient = Patient.objects.prefetch_related(
        "allergies", "pathologies", "current_treatments"
    ).get(pk=prescription.patient_id)
    lines = list(prescription.lines.all().order_by("position", "pk"))
    running = current_treatment_lines(patient_id=prescription.patient_id, exclude=prescription)
    request = analysis_request_for(prescription=prescription, lines=lines, running=running)
    candidate = _candidate_line(prescription=prescription, drug=drug)
    request = request.model_copy(
        update={"lines": [*request.lines, line_in(candidate, line_id=CANDIDATE)]}
    )
    unit = candidate.unit
    dose_text = _("1 %(unit)s par jour") % {"unit": unit}
    result = ordoclic.analysis_run(
        base=ordoclic.client_for_request(), rpps=prescription.prescriber.rpps, request=request
    )
    match result:
        case Refused(message=message):
            return DrugPreview(drug=drug, dose_text=dose_text, not_done=True, reason=message)
        case NotAnswered():
            return DrugPreview(
                drug=drug,
                dose_text=dose_text,
                not_done=True,
                reason=_("Ordoclic ne répond pas pour l'instant."),
            )
        case contract.AnalysisResult() as analysis:
            pass
        case _ as unreachable:
            assert_never(unreachable)
    labels = {line.line_ref: line.label for line in lines}
    labels.update(
        {
            current_treatment_ref(t): _("%(label)s (traitement en cours)") % {"label": t.label}
            for t in running
        }
    )
    labels.update(
        {
            recorded_treatment_ref(t): _("%(label)s (traitement en cours)") % {"label": t.label}
            for t in prescription.patient.current_treatments.all()
        }
    )
    found = [
        PreviewAlert(
            pk=index,
            level=alert.level.value,
            type=alert.type.value,
            title=alert.title,
            with_labels=[labels.get(ref, ref) for ref in alert.line_ids if ref != CANDIDATE],
        )
        for index, alert in enumerate(analysis.alerts)
        if CANDIDATE in alert.line_ids
    ]
    return DrugPreview(drug=drug, dose_text=dose_text, alerts=alerts_ordered(found))
