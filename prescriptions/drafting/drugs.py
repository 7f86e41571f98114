"""The drug of a line: what Ordoclic's drug database says of it, or, when Ordoclic cannot answer,
what origami last saw of it. Never what the browser posted: the page only sends a code."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from ordoclic_client import codes, contract

from .. import ordoclic
from ..errors import OrdoclicUnavailable, PrescriptionError
from ..models import CodeSystem, PrescriptionLine
from .conditions import (
    conditions_wire,
    dci_dosage,
    dci_form,
    dci_label,
    dci_substance,
    label_strength,
)


@dataclass(frozen=True)
class DciLine:
    """A product's common name: what a line prescribed in DCI carries (contract.DrugRef)."""

    substances: str  # "amoxicilline", "amoxicilline + acide clavulanique"
    dosage: str  # "1 g", "1000 mg + 125 mg"
    form: str  # "comprimé"

    @property
    def label(self) -> str:
        return dci_label(substances=self.substances, dosage=self.dosage, form=self.form)

    @classmethod
    def of(cls, drug: contract.Drug) -> DciLine | None:
        """The DCI line of a product, None when its composition gives no strength to write."""
        if not drug.substances:
            return None
        names = [dci_substance(s.name) for s in drug.substances]
        if len(drug.substances) == 1:
            strengths = [label_strength(drug.label) or dci_dosage(drug.substances[0].dosage)]
        else:
            strengths = [dci_dosage(s.dosage) for s in drug.substances]
        if not all(names) or not all(strengths):
            return None
        return cls(
            substances=" + ".join(names), dosage=" + ".join(strengths), form=dci_form(drug.form)
        )


@dataclass(frozen=True)
class DrugChoice:
    """The drug of a line, as the drug search (or a lookup by code) returned it: a product, or
    (``code_system`` "dci") its common name."""

    code: str
    label: str
    substance: str = ""
    form: str = ""
    route: str = ""
    code_system: str = "cis"
    default_unit: str = ""
    dosage: str = ""
    # the product's prescription conditions (contract.PrescriptionConditions, wire form)
    conditions: dict[str, Any] = field(default_factory=dict)
    dci: DciLine | None = None
    # what origami last saw of it, Ordoclic not answering (checked again at the analysis)
    remembered: bool = False

    @classmethod
    def from_drug(cls, drug: contract.Drug) -> DrugChoice:
        return cls(
            code=drug.cis,
            label=drug.label,
            substance=", ".join(s.name.lower() for s in drug.substances),
            form=drug.form,
            route=drug.routes[0] if drug.routes else "",
            default_unit=unit_for_form(drug.form),
            dosage=" + ".join(s.dosage for s in drug.substances if s.dosage),
            conditions=conditions_wire(drug.conditions),
            dci=DciLine.of(drug),
        )

    def in_dci(self) -> DrugChoice:
        """The same drug prescribed by its common name: analysed through its substances,
        printed and sent in DCI; the product's conditions stay with it."""
        if self.dci is None:
            raise PrescriptionError(
                _("Ce médicament ne peut pas être prescrit en DCI : choisissez le produit."),
                field="drug",
            )
        return replace(
            self,
            code_system=CodeSystem.DCI,
            code=self.dci.substances,
            label=self.dci.label,
            substance=self.dci.substances,
            dosage=self.dci.dosage,
            form=self.dci.form,
            # the route follows from the form (the analysis derives it)
            route="",
        )


def drug_presentation(drug: contract.Drug) -> contract.Presentation | None:
    """The presentation a search result shows the price and reimbursement of: the first one
    with a price (the BDPM lists the marketed boxes first)."""
    priced = [p for p in drug.presentations if p.price_eur is not None]
    shown = priced or list(drug.presentations)
    return shown[0] if shown else None


def unit_for_form(form: str) -> str:
    """The unit a posology of this pharmaceutical form is counted in by default."""
    form = form.lower()
    for word, unit in (
        ("comprimé", "comprimé"),
        ("gélule", "gélule"),
        ("sachet", "sachet"),
        ("suppositoire", "suppositoire"),
        ("inhal", "bouffée"),
        ("buvable", "ml"),
        ("injectable", "ampoule"),
    ):
        if word in form:
            return unit
    return ""


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
        default_unit=unit_for_form(line.form),
        dosage=line.dosage,
        conditions=dict(line.conditions),
        remembered=True,
    )


_CODE_MESSAGES = {
    "cis_format": _lazy("Un code CIS a 8 chiffres."),
    "cip13_format": _lazy("Un code CIP13 a 13 chiffres."),
    "cip13_prefix": _lazy("Un code CIP13 commence par 34009."),
    "cip13_checksum": _lazy("La clé du code CIP13 ne correspond pas : vérifiez le code saisi."),
    "ucd13_format": _lazy("Un code UCD a 13 chiffres."),
    "ucd13_checksum": _lazy("La clé du code UCD ne correspond pas : vérifiez le code saisi."),
}


def drug_code_checked(code: str) -> str:
    """A CIS, CIP13 or UCD13 checked (shape, prefix, EAN-13 key) before it goes anywhere."""
    try:
        return codes.check_drug_code(code)[1]
    except codes.InvalidCode as invalid:
        message = _CODE_MESSAGES.get(
            invalid.reason,
            _("Code de médicament invalide : un code CIS (8 chiffres) ou CIP13 (13 chiffres)."),
        )
        raise PrescriptionError(str(message), field="drug") from None


def drug_choice_for_code(*, rpps: str, code: str, dci: bool = False) -> DrugChoice:
    """The drug the prescriber picked, checked against Ordoclic's database by its code; when
    Ordoclic cannot answer, the drug as origami last saw it (the analysis checks it again).
    ``dci``: the prescriber prescribes it by its common name."""
    code = code.strip()
    if not code:
        raise PrescriptionError(
            _("Choisissez un médicament dans la liste de recherche."), field="drug"
        )
    code = drug_code_checked(code)
    choice = _drug_choice(rpps=rpps, code=code)
    if dci and choice.remembered:
        raise PrescriptionError(
            _(
                "Ordoclic ne répond pas : la prescription en DCI reprendra dès son retour. "
                "Vous pouvez prescrire le produit en attendant."
            ),
            field="drug",
        )
    return choice.in_dci() if dci else choice


def _drug_choice(*, rpps: str, code: str) -> DrugChoice:
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
