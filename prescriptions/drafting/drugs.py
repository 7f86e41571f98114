"""The drug of a line: what Ordoclic's drug database says of it, or, when Ordoclic cannot answer,
what origami last saw of it. Never what the browser posted: the page only sends a code."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from ordoclic_client import contract

from .. import ordoclic
from ..errors import OrdoclicUnavailable, PrescriptionError
from ..models import CodeSystem, PrescriptionLine
from .units import unit_for_form


@dataclass(frozen=True)
class DrugChoice:
    """The drug of a line, as the drug search (or a lookup by code) returned it."""

    code: str
    label: str
    substance: str = ""
    form: str = ""
    route: str = ""
    code_system: str = "cis"
    default_unit: str = ""
    reimbursable: bool | None = None

    @classmethod
    def from_drug(cls, drug: contract.Drug) -> DrugChoice:
        return cls(
            code=drug.cis,
            label=drug.label,
            substance=", ".join(s.name.lower() for s in drug.substances),
            form=drug.form,
            route=drug.routes[0] if drug.routes else "",
            default_unit=unit_for_form(
                drug.form, drug.routes[0] if drug.routes else "", drug.label
            ),
            reimbursable=_reimbursable(drug),
        )


def _reimbursable(drug: contract.Drug) -> bool | None:
    """Reimbursed when one of its presentations has a rate; None when none is listed."""
    if not drug.presentations:
        return None
    return any(p.reimbursement_rate_percent or p.reimbursement_rate for p in drug.presentations)


def drug_remembered(*, code: str) -> DrugChoice | None:
    """The drug as origami last saw it under this CIS code: the latest line written with it."""
    line = (
        PrescriptionLine.objects.filter(drug_code_system=CodeSystem.CIS, drug_code=code)
        .order_by("-pk")
        .first()
    )
    if line is None:
        return None
    return DrugChoice(
        code=line.drug_code,
        label=line.label,
        substance=line.substance,
        form=line.form,
        route=line.route,
        default_unit=unit_for_form(line.form, line.route, line.label),
        reimbursable=line.reimbursable,
    )


def drug_choice_for_code(*, rpps: str, code: str) -> DrugChoice:
    """The drug the prescriber picked, checked against Ordoclic's database by its code; when
    Ordoclic cannot answer, the drug as origami last saw it (the analysis checks it again)."""
    code = code.strip()
    if not code:
        raise PrescriptionError(
            _("Choisissez un médicament dans la liste de recherche."), field="drug"
        )
    try:
        drug = ordoclic.drug_by_code(rpps=rpps, code=code)
    except OrdoclicUnavailable:
        remembered = drug_remembered(code=code)
        if remembered is None:
            raise PrescriptionError(
                _(
                    "Ordoclic ne répond pas et ce médicament n'est pas encore connu d'origami : "
                    "réessayez dans un instant."
                ),
                field="drug",
            ) from None
        return remembered
    if drug is None:
        raise PrescriptionError(
            _("Médicament inconnu (code %(code)s) : choisissez-le dans la recherche.")
            % {"code": code[:20]},
            field="drug",
        )
    return DrugChoice.from_drug(drug)
