"""A small stand-in for the Ordoclic client (same methods, same Result values) with a ledger of
registrations, for tests that need behaviour rather than exact HTTP exchanges."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

from ordoclic_client import contract
from ordoclic_client.results import Ok, Rejected, Unavailable

DRUGS = {
    "65210301": contract.Drug(
        cis="65210301",
        label="SIMVASTATINE ARROW 20 mg, comprimé pelliculé sécable",
        form="comprimé pelliculé sécable",
        routes=["orale"],
        substances=[contract.DrugSubstance(name="SIMVASTATINE", dosage="20 mg")],
        generic_group=contract.GenericGroup(
            id="1", label="SIMVASTATINE 20 mg", type=contract.GenericType.GENERIC
        ),
    ),
    "67997205": contract.Drug(
        cis="67997205",
        label="ZECLAR 500 mg, comprimé pelliculé",
        form="comprimé pelliculé",
        routes=["orale"],
        substances=[contract.DrugSubstance(name="CLARITHROMYCINE", dosage="500 mg")],
    ),
    "60234100": contract.Drug(
        cis="60234100",
        label="DOLIPRANE 1000 mg, comprimé",
        form="comprimé",
        routes=["orale"],
        substances=[contract.DrugSubstance(name="PARACÉTAMOL", dosage="1000 mg")],
    ),
    "68416845": contract.Drug(
        cis="68416845",
        label="LEVOTHYROX 100 microgrammes, comprimé sécable",
        form="comprimé sécable",
        routes=["orale"],
        substances=[contract.DrugSubstance(name="LÉVOTHYROXINE SODIQUE", dosage="100 µg")],
    ),
}


@dataclass
class FakeOrdoclic:
    down: bool = False
    analyses: int = 0
    registrations: dict[str, contract.RegisteredPrescription] = field(default_factory=dict)
    creation_requests: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def with_timeout(self, *, read: float, connect: float | None = None) -> FakeOrdoclic:
        return self

    def auth(self, *, rpps: str):  # type: ignore[no-untyped-def]
        """Every professional linked in our database is activated at this fake Ordoclic."""
        from practitioners.models import Practitioner

        if self.down:
            return Unavailable(reason="down")
        practitioner = Practitioner.objects.filter(rpps=rpps).first()
        if practitioner is None or practitioner.ordoclic_professional_id is None:
            return Rejected(status=404)
        professional = SimpleNamespace(id=practitioner.ordoclic_professional_id, activated=True)
        return Ok(SimpleNamespace(identity=SimpleNamespace(professional=professional)))

    def drug_search(self, *, rpps: str, text: str, page: int = 1, per_page: int = 20):  # type: ignore[no-untyped-def]
        if self.down:
            return Unavailable(reason="down")
        items = [
            d
            for d in DRUGS.values()
            if text.lower() in d.label.lower()
            or any(text.lower() in s.name.lower() for s in d.substances)
        ]
        return Ok(
            contract.Page[contract.Drug](
                page=1, per_page=per_page, page_count=1, total_count=len(items), items=items
            )
        )

    def drug_by_code(self, *, rpps: str, code: str):  # type: ignore[no-untyped-def]
        if self.down:
            return Unavailable(reason="down")
        return Ok(DRUGS.get(code))

    def prescription_analyse(self, *, rpps: str, request: contract.AnalysisRequest):  # type: ignore[no-untyped-def]
        self.analyses += 1
        if self.down:
            return Unavailable(reason="down")
        by_code = {line.drug.code: line.line_id for line in request.lines}
        alerts = []
        if "65210301" in by_code and "67997205" in by_code:
            alerts.append(
                contract.AnalysisAlert(
                    id=f"ia-{by_code['65210301']}-{by_code['67997205']}",
                    type=contract.AlertType.DRUG_INTERACTION,
                    level=contract.AlertLevel.CI,
                    title="Simvastatine + clarithromycine",
                    message="Risque majoré de rhabdomyolyse.",
                    action="Ne pas associer.",
                    line_ids=[by_code["65210301"], by_code["67997205"]],
                )
            )
        for line in request.lines:
            if line.drug.code == "60234100":
                alerts.append(
                    contract.AnalysisAlert(
                        id=f"info-{line.line_id}",
                        type=contract.AlertType.PRECAUTION,
                        level=contract.AlertLevel.APEC,
                        title="Paracétamol",
                        message="Vérifier l'absence d'autre paracétamol.",
                        line_ids=[line.line_id],
                    )
                )
        return Ok(
            contract.AnalysisResult(
                analysis_id=str(uuid.uuid4()), analysed_at=datetime.now(UTC), alerts=alerts
            )
        )

    def prescription_create(
        self, *, rpps: str, request: contract.PrescriptionCreate, idempotency_key: str
    ):  # type: ignore[no-untyped-def]
        with self.lock:
            self.creation_requests[request.external_id] = (
                self.creation_requests.get(request.external_id, 0) + 1
            )
            if self.down:
                return Unavailable(reason="down", sent=False)
            if not request.lines:
                return Rejected(status=422)
            if request.external_id not in self.registrations:
                number = uuid.uuid4().hex[:12].upper()
                self.registrations[request.external_id] = contract.RegisteredPrescription(
                    id=str(uuid.uuid4()),
                    number=number,
                    external_id=request.external_id,
                    qr_payload=f"ORDO:{number}",
                    status=contract.PrescriptionState.REGISTERED,
                    created_at=datetime.now(UTC),
                )
            return Ok(self.registrations[request.external_id])

    def prescription_find_by_external_id(self, *, rpps: str, external_id: str):  # type: ignore[no-untyped-def]
        if self.down:
            return Unavailable(reason="down")
        return Ok(self.registrations.get(external_id))
