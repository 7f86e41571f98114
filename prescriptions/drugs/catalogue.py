"""What the screens and the delivery ask of the drug database: Ordoclic's answer when it gives
one (kept in the memory on the way), the memory's when it does not.

- :func:`drugs_find`, the drug search: Ordoclic's results, or, when Ordoclic is unavailable or
  the shared breaker is open (the client then refuses at once, nothing waits), the memory's,
  each marked "hors ligne — vérifié à l'envoi";
- :func:`drug_choice_for_code`, the drug of a new line, by the code the page posted: checked
  against Ordoclic, or taken from the memory and marked unverified;
- :func:`drug_check`, at consolidation: is an unverified line's product still the one Ordoclic
  knows under its code?
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from ordoclic_client import OrdoclicClient, codes, contract
from ordoclic_client.text import fold

from .. import ordoclic
from ..errors import OrdoclicUnavailable, PrescriptionError
from ..models import CodeSystem, KnownDrug, PrescriptionLine
from ..ordoclic import NotAnswered, Refused
from .memory import (
    drug_from_row,
    drug_remembered,
    drugs_recalled,
    drugs_remember,
    substance_of,
)
from .naming import (
    conditions_wire,
    dci_dosage,
    dci_form,
    dci_label,
    dci_substance,
    label_strength,
)
from .units import unit_for_form


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
    (``code_system`` "dci") its common name. ``verified``: Ordoclic confirmed it; False when it
    came from the memory while Ordoclic did not answer (checked again before sending)."""

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
    verified: bool = True
    # reimbursed when one of its presentations has a rate; None when none is listed
    reimbursable: bool | None = None

    @classmethod
    def from_drug(cls, drug: contract.Drug, *, verified: bool = True) -> DrugChoice:
        return cls(
            code=drug.cis,
            label=drug.label,
            substance=substance_of(drug),
            form=drug.form,
            route=drug.routes[0] if drug.routes else "",
            default_unit=unit_for_form(
                drug.form, drug.routes[0] if drug.routes else "", drug.label
            ),
            reimbursable=_reimbursable(drug),
            dosage=" + ".join(s.dosage for s in drug.substances if s.dosage),
            conditions=conditions_wire(drug.conditions),
            dci=DciLine.of(drug),
            verified=verified,
        )

    @classmethod
    def from_memory(cls, row: KnownDrug) -> DrugChoice:
        choice = cls.from_drug(drug_from_row(row), verified=False)
        if row.substance:  # as the memory keeps it (a line's own DCI when that is all it has)
            choice = replace(choice, substance=row.substance)
        return choice

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


def _reimbursable(drug: contract.Drug) -> bool | None:
    """Reimbursed when one of its presentations has a rate; None when none is listed."""
    if not drug.presentations:
        return None
    return any(p.reimbursement_rate_percent or p.reimbursement_rate for p in drug.presentations)


def drug_presentation(drug: contract.Drug) -> contract.Presentation | None:
    """The presentation a search result shows the price and reimbursement of: the first one
    with a price (the BDPM lists the marketed boxes first)."""
    priced = [p for p in drug.presentations if p.price_eur is not None]
    shown = priced or list(drug.presentations)
    return shown[0] if shown else None


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


@dataclass(frozen=True)
class DrugResults:
    """A page of the drug search. ``offline``: from origami's memory, Ordoclic did not answer;
    the screen marks each result "hors ligne — vérifié à l'envoi"."""

    drugs: list[contract.Drug] = field(default_factory=list)
    offline: bool = False


def drugs_find(*, rpps: str, text: str, limit: int) -> DrugResults:
    """The drug search. Raises :class:`PrescriptionError` when Ordoclic refuses the query."""
    try:
        found = ordoclic.drugs_search(rpps=rpps, text=text, per_page=limit)
    except OrdoclicUnavailable:
        return DrugResults(drugs=drugs_recalled(text=text, limit=limit), offline=True)
    drugs_remember(drugs=found)
    return DrugResults(drugs=found)


def drug_choice_for_code(*, rpps: str, code: str, dci: bool = False) -> DrugChoice:
    """The drug the prescriber picked, checked against Ordoclic's database by its code; when
    Ordoclic cannot answer, the drug as origami's memory knows it, marked unverified (checked
    before sending). Never what the browser posted: the page only sends a code. ``dci``: the
    prescriber prescribes it by its common name."""
    code = code.strip()
    if not code:
        raise PrescriptionError(
            _("Choisissez un médicament dans la liste de recherche."), field="drug"
        )
    choice = _drug_choice(rpps=rpps, code=drug_code_checked(code))
    if dci and not choice.verified:
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
        return DrugChoice.from_memory(remembered)
    if drug is None:
        raise PrescriptionError(
            _("Médicament inconnu (code %(code)s) : choisissez-le dans la recherche.")
            % {"code": code[:20]},
            field="drug",
        )
    drugs_remember(drugs=[drug])
    return DrugChoice.from_drug(drug)


# --- the check before sending -------------------------------------------------------------------


@dataclass(frozen=True)
class DrugCheck:
    """What Ordoclic says of an unverified line's product: ``problem`` is empty when it is the
    same product, else why the line cannot be sent as it is (French, for the prescriber);
    ``drug`` is Ordoclic's description when it knows the code."""

    problem: str = ""
    drug: contract.Drug | None = None


def _same(a: str, b: str) -> bool:
    """Equal but for case, accents, spacing and punctuation."""
    return fold(a) == fold(b)


def drug_differences(*, line: PrescriptionLine, drug: contract.Drug) -> list[str]:
    """How Ordoclic's description differs from what the line was written with."""
    differences = []
    if not _same(line.label, drug.label):
        differences.append(
            _("dénomination « %(now)s »") % {"now": drug.label},
        )
    if line.substance and not _same(line.substance, substance_of(drug)):
        differences.append(_("substance « %(now)s »") % {"now": substance_of(drug) or "—"})
    if line.form and not _same(line.form, drug.form):
        differences.append(_("forme « %(now)s »") % {"now": drug.form or "—"})
    return differences


def drug_check(
    *, base: OrdoclicClient, rpps: str, line: PrescriptionLine
) -> DrugCheck | NotAnswered:
    """Check the product of a line picked from the memory against Ordoclic, by its code.
    ``NotAnswered`` when Ordoclic does not answer (the attempt is retried later)."""
    match ordoclic.drug_lookup(base=base, rpps=rpps, code=line.drug_code):
        case NotAnswered() as unanswered:
            return unanswered
        case Refused(message=message):
            return DrugCheck(
                problem=_(
                    "Ordoclic a refusé de vérifier ce médicament choisi hors ligne : %(reason)s"
                )
                % {"reason": message}
            )
        case None:
            return DrugCheck(
                problem=_(
                    "Ordoclic ne connaît plus ce médicament (code %(code)s) : il a été choisi "
                    "hors ligne dans la mémoire d'origami."
                )
                % {"code": line.drug_code}
            )
        case contract.Drug() as drug:
            differences = drug_differences(line=line, drug=drug)
            if differences:
                return DrugCheck(
                    problem=_(
                        "Ordoclic décrit autrement ce médicament choisi hors ligne : "
                        "%(differences)s."
                    )
                    % {"differences": ", ".join(differences)},
                    drug=drug,
                )
            if not drug.marketed:
                return DrugCheck(
                    problem=_("Ce médicament choisi hors ligne n'est plus commercialisé."),
                    drug=drug,
                )
            return DrugCheck(drug=drug)
