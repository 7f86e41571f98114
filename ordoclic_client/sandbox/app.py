"""The sandbox's request handler: ``SandboxApp.handle(request) -> Outcome``.

One pure handler over the sandbox's own store, shared by the in-process transport
(:mod:`.transport`) and the HTTP server (:mod:`.server`); both apply the fault decision the
handler returns (delay, hang, dropped connection) in their own way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import secrets
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from ordoclic_client import contract
from ordoclic_client.contract import (
    AlertLevel,
    AnalysisRequest,
    CodeSystem,
    LineIn,
    PrescriptionCancel,
    PrescriptionCreate,
)
from ordoclic_client.sandbox import catalogue, engine
from ordoclic_client.sandbox.auth import (
    TokenError,
    issue_token,
    read_token,
    signed_bytes,
    verify_signature,
    within_skew,
)
from ordoclic_client.sandbox.clinical import route_of_form
from ordoclic_client.sandbox.credentials import ensure_partner
from ordoclic_client.sandbox.directory import DEMO_PROFESSIONALS
from ordoclic_client.sandbox.faults import MODES, Decision, Faults, FaultSwitch
from ordoclic_client.sandbox.store import RESET_TABLES, Store
from ordoclic_client.sandbox.thesaurus import canonical_substance
from ordoclic_client.sandbox.webhooks import WebhookSender, WebhookTarget
from ordoclic_client.text import fold

logger = logging.getLogger(__name__)

DB_FILE = "sandbox.sqlite3"
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
NUMBER_LENGTH = 14
MAX_PER_PAGE = 100
RPPS = re.compile(r"^[0-9]{11}$")


@dataclass
class Outcome:
    response: httpx.Response
    decision: Decision = field(default_factory=Decision)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str = "", **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.errors = [{"code": code, "message": message, "field": field}]
        self.extra = extra

    @classmethod
    def from_validation(cls, exc: ValidationError, prefix: str = "") -> ApiError:
        error = cls(422, "invalid", "Invalid request body.")
        error.errors = [
            {
                # an unknown field is named, so that a misspelt key is seen, not dropped
                "code": "unknown_field" if e["type"] == "extra_forbidden" else e["type"],
                "message": f"Unknown field: {e['loc'][-1]}."
                if e["type"] == "extra_forbidden"
                else e["msg"],
                "field": ".".join(str(p) for p in (prefix, *e["loc"]) if p != ""),
            }
            for e in exc.errors()
        ]
        return error


def now_utc() -> datetime:
    return datetime.now(UTC)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return httpx.Response(
        status,
        content=content,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def envelope(page: int, per_page: int, total: int, items: list[Any]) -> dict[str, Any]:
    return {
        "page": page,
        "per_page": per_page,
        "page_count": math.ceil(total / per_page) if per_page else 0,
        "total_count": total,
        "items": items,
    }


def _paging(
    request: httpx.Request, default: int = 20, maximum: int = MAX_PER_PAGE
) -> tuple[int, int]:
    try:
        page = int(request.url.params.get("page", "1"))
        per_page = int(request.url.params.get("per_page", str(default)))
    except ValueError as exc:
        raise ApiError(400, "invalid_paging", "page and per_page must be integers.") from exc
    if page < 1 or not 1 <= per_page <= maximum:
        raise ApiError(
            400, "invalid_paging", f"page >= 1 and 1 <= per_page <= {maximum} are required."
        )
    return page, per_page


Route = tuple[str, re.Pattern[str], Callable[..., httpx.Response]]


class SandboxApp:
    def __init__(
        self,
        state_dir: Path,
        *,
        webhook: WebhookTarget | None = None,
        webhook_sender: WebhookSender | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.partner = ensure_partner(self.state_dir)
        self.store = Store(self.state_dir / DB_FILE)
        self.clock = clock
        self.faults = FaultSwitch()
        self._startup_webhook = webhook
        self.webhook = webhook
        self.webhooks = webhook_sender or WebhookSender()
        if self.store.get_meta("seeded") is None:
            self._seed_professionals()
            catalogue.load_curated(self.store)
            self.store.set_meta("seeded", self.clock().isoformat())
        self._routes: list[Route] = [
            ("POST", re.compile(r"/v1/auth"), self._auth),
            ("POST", re.compile(r"/v1/professionals/validate"), self._professional_validate),
            ("POST", re.compile(r"/v1/professionals"), self._professional_create),
            ("GET", re.compile(r"/v1/professionals/(?P<ref>[^/]+)"), self._professional_get),
            ("POST", re.compile(r"/v1/professionals/(?P<ref>[^/]+)/activate"), self._activate),
            ("POST", re.compile(r"/v1/professionals/(?P<ref>[^/]+)/deactivate"), self._deactivate),
            ("POST", re.compile(r"/v1/entities"), self._entity_create),
            ("GET", re.compile(r"/v1/entities/(?P<id>[^/]+)"), self._entity_get),
            ("POST", re.compile(r"/v1/entities/(?P<id>[^/]+)/professionals"), self._entity_add),
            ("GET", re.compile(r"/drugbase/v1/drugs"), self._drug_search),
            ("GET", re.compile(r"/drugbase/v1/drugs/(?P<cis>[^/]+)"), self._drug_get),
            ("POST", re.compile(r"/v1/prescriptions/analysis"), self._analysis),
            ("POST", re.compile(r"/v1/prescriptions"), self._prescription_create),
            ("GET", re.compile(r"/v1/prescriptions"), self._prescription_list),
            ("GET", re.compile(r"/v1/prescriptions/(?P<id>[^/]+)"), self._prescription_get),
            ("GET", re.compile(r"/v1/prescriptions/(?P<id>[^/]+)/status"), self._status),
            ("POST", re.compile(r"/v1/prescriptions/(?P<id>[^/]+)/cancel"), self._cancel),
            ("GET", re.compile(r"/_sandbox/health"), self._health),
            ("GET", re.compile(r"/_sandbox/faults"), self._faults_get),
            ("POST", re.compile(r"/_sandbox/faults"), self._faults_set),
            ("GET", re.compile(r"/_sandbox/ledger"), self._ledger),
            (
                "POST",
                re.compile(r"/_sandbox/prescriptions/(?P<number>[^/]+)/dispense"),
                self._dispense,
            ),
            ("POST", re.compile(r"/_sandbox/reset"), self._reset),
            ("GET", re.compile(r"/_sandbox/webhook"), self._webhook_get),
            ("POST", re.compile(r"/_sandbox/webhook/drain"), self._webhook_drain),
            ("POST", re.compile(r"/_sandbox/webhook"), self._webhook_set),
        ]

    # --- entry point -----------------------------------------------------------------------

    @property
    def partner_id(self) -> str:
        return self.partner.partner_id

    def handle(self, request: httpx.Request) -> Outcome:
        path = request.url.path.rstrip("/") or "/"
        control = path.startswith("/_sandbox/")
        decision = Decision()
        if not control:
            is_write = request.method == "POST" and (
                path == contract.PRESCRIPTIONS or path.endswith("/cancel")
            )
            if request.method == "POST" and path == contract.PRESCRIPTIONS:
                self._note_idempotency_key(request)
            decision = self.faults.decide(is_write=is_write)
            if decision.refuse_status is not None:
                return Outcome(self._refusal(decision.refuse_status), decision)
            if decision.hang:
                return Outcome(json_response(504, {"errors": []}), decision)
        try:
            response = self._dispatch(request, path)
        except ApiError as exc:
            response = json_response(exc.status, {"errors": exc.errors, **exc.extra})
        except Exception as exc:  # a sandbox bug: answer like a server would, never crash
            # the type only: request bodies may hold patient data
            logger.error("sandbox error on %s %s: %s", request.method, path, type(exc).__name__)
            response = self._refusal(500)
        return Outcome(response, decision)

    def _note_idempotency_key(self, request: httpx.Request) -> None:
        """The ledger keeps the Idempotency-Key of every creation request that arrives, a fault
        refusing it or not: a client must send the same one on every attempt."""
        key = request.headers.get(contract.IDEMPOTENCY_HEADER, "").strip()
        try:
            external_id = json.loads(request.content or b"{}").get("externalId")
        except (ValueError, AttributeError):
            return
        if not key or not isinstance(external_id, str):
            return
        with self.store.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO ledger_keys (external_id, idempotency_key) VALUES (?, ?)",
                (external_id, key),
            )

    def _refusal(self, status: int) -> httpx.Response:
        message = "Service unavailable." if status == 503 else "Internal server error."
        code = "unavailable" if status == 503 else "internal_error"
        return json_response(status, {"errors": [{"code": code, "message": message, "field": ""}]})

    def _dispatch(self, request: httpx.Request, path: str) -> httpx.Response:
        allowed = []
        for method, pattern, view in self._routes:
            match = pattern.fullmatch(path)
            if match:
                if method == request.method:
                    return view(request, **match.groupdict())
                allowed.append(method)
        if allowed:
            raise ApiError(405, "method_not_allowed", f"Use {', '.join(allowed)} on {path}.")
        raise ApiError(404, "not_found", f"No route for {path}.")

    # --- helpers ---------------------------------------------------------------------------

    def _body(self, request: httpx.Request) -> Any:
        try:
            return json.loads(request.content or b"null")
        except ValueError as exc:
            raise ApiError(400, "invalid_json", "The body is not valid JSON.") from exc

    def _object(self, request: httpx.Request) -> dict[str, Any]:
        body = self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_json", "A JSON object is expected.")
        return body

    def _now(self) -> str:
        return engine.rfc3339(self.clock())

    def _professional_row(self, ref: str) -> sqlite3.Row | None:
        column = "rpps" if RPPS.match(ref) else "id"
        return (
            self.store.conn()
            .execute(
                f"SELECT * FROM professionals WHERE {column} = ?",  # noqa: S608 - fixed columns
                (ref,),
            )
            .fetchone()
        )

    @staticmethod
    def _professional_wire(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "rpps": row["rpps"],
            "firstName": row["first_name"],
            "lastName": row["last_name"],
            "profession": row["profession"],
            "activated": bool(row["activated"]),
            "deactivationReason": row["deactivation_reason"],
            "createdAt": row["created_at"],
        }

    def _caller(self, request: httpx.Request) -> tuple[sqlite3.Row, dict[str, Any]]:
        try:
            identity = read_token(
                secret=self.partner.token_secret,
                authorization=request.headers.get("Authorization"),
            )
        except TokenError as exc:
            raise ApiError(401, exc.code, exc.message) from exc
        rpps = str(identity.get("professional", {}).get("rpps", ""))
        row = self._professional_row(rpps) if RPPS.match(rpps) else None
        if row is None or identity.get("partnerId") != self.partner_id:
            raise ApiError(401, "invalid_token", "The token is invalid.")
        return row, identity

    def _prescriber(self, request: httpx.Request) -> sqlite3.Row:
        row, _ = self._caller(request)
        if not row["activated"]:
            raise ApiError(
                403,
                "professional_deactivated",
                "Ce professionnel est désactivé chez Ordoclic : il ne peut pas prescrire.",
            )
        return row

    def _seed_professionals(self) -> None:
        created = self._now()
        with self.store.write() as conn:
            for p in DEMO_PROFESSIONALS:
                conn.execute(
                    "INSERT OR REPLACE INTO professionals VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        p.id,
                        p.rpps,
                        p.first_name,
                        p.last_name,
                        p.profession,
                        int(p.activated),
                        p.deactivation_reason,
                        created,
                    ),
                )

    # --- auth and professionals ------------------------------------------------------------

    def _auth(self, request: httpx.Request) -> httpx.Response:
        body = self._object(request)
        for name in ("partnerId", "rpps", "dateTime", "sig"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise ApiError(400, "required", f"{name} is required.", name)
        if body["partnerId"] != self.partner_id:
            raise ApiError(401, "unknown_partner", "Unknown partner.", "partnerId")
        message = signed_bytes(body["partnerId"], body["rpps"], body["dateTime"])
        if not verify_signature(self.partner.public_key, message, body["sig"]):
            raise ApiError(401, "invalid_signature", "The signature does not verify.", "sig")
        if not within_skew(body["dateTime"], self.clock()):
            raise ApiError(
                401, "clock_skew", "dateTime is more than 5 minutes away from now.", "dateTime"
            )
        row = self._professional_row(body["rpps"]) if RPPS.match(body["rpps"]) else None
        if row is None:
            raise ApiError(404, "professional_not_found", "Unknown professional.", "rpps")
        entity_id = body.get("entityId") or None
        if entity_id is not None:
            member = (
                self.store.conn()
                .execute(
                    "SELECT 1 FROM entity_members WHERE entity_id = ? AND professional_id = ?",
                    (entity_id, row["id"]),
                )
                .fetchone()
            )
            if member is None:
                raise ApiError(
                    403, "not_entity_member", "The professional is not in this entity.", "entityId"
                )
        identity = {
            "professional": self._professional_wire(row),
            "partnerId": self.partner_id,
            "entityId": entity_id,
        }
        token = issue_token(secret=self.partner.token_secret, identity=identity, now=self.clock())
        return json_response(200, {"token": token, "identity": identity})

    def _professional_validate(self, request: httpx.Request) -> httpx.Response:
        self._caller(request)
        rpps = self._object(request).get("rpps")
        if not isinstance(rpps, str) or not RPPS.match(rpps):
            raise ApiError(422, "invalid_rpps", "An RPPS number has 11 digits.", "rpps")
        row = self._professional_row(rpps)
        if row is None:
            raise ApiError(404, "professional_not_found", "No professional with this RPPS.", "rpps")
        return json_response(200, self._professional_wire(row))

    def _professional_create(self, request: httpx.Request) -> httpx.Response:
        self._caller(request)
        body = self._object(request)
        rpps = body.get("rpps")
        if not isinstance(rpps, str) or not RPPS.match(rpps):
            raise ApiError(422, "invalid_rpps", "An RPPS number has 11 digits.", "rpps")
        for name in ("firstName", "lastName"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                raise ApiError(422, "required", f"{name} is required.", name)
        if self._professional_row(rpps) is not None:
            raise ApiError(409, "professional_exists", "This RPPS is already known.", "rpps")
        new_id = str(uuid.uuid4())
        with self.store.write() as conn:
            conn.execute(
                "INSERT INTO professionals VALUES (?, ?, ?, ?, ?, 0, '', ?)",
                (
                    new_id,
                    rpps,
                    body["firstName"],
                    body["lastName"],
                    str(body.get("profession", "")),
                    self._now(),
                ),
            )
        row = self._professional_row(new_id)
        assert row is not None
        return json_response(201, self._professional_wire(row))

    def _professional_get(self, request: httpx.Request, ref: str) -> httpx.Response:
        self._caller(request)
        row = self._professional_row(ref)
        if row is None:
            raise ApiError(404, "professional_not_found", "Unknown professional.")
        return json_response(200, self._professional_wire(row))

    def _set_activation(self, ref: str, activated: bool, reason: str) -> httpx.Response:
        row = self._professional_row(ref)
        if row is None:
            raise ApiError(404, "professional_not_found", "Unknown professional.")
        with self.store.write() as conn:
            conn.execute(
                "UPDATE professionals SET activated = ?, deactivation_reason = ? WHERE id = ?",
                (int(activated), reason, row["id"]),
            )
        updated = self._professional_row(row["id"])
        assert updated is not None
        return json_response(200, self._professional_wire(updated))

    def _activate(self, request: httpx.Request, ref: str) -> httpx.Response:
        self._caller(request)
        return self._set_activation(ref, True, "")

    def _deactivate(self, request: httpx.Request, ref: str) -> httpx.Response:
        self._caller(request)
        reason = self._object(request).get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ApiError(422, "required", "reason is required.", "reason")
        return self._set_activation(ref, False, reason.strip())

    # --- entities --------------------------------------------------------------------------

    def _entity_wire(self, entity_id: str) -> dict[str, Any]:
        conn = self.store.conn()
        row = conn.execute("SELECT * FROM entities WHERE id = ?", (entity_id,)).fetchone()
        if row is None:
            raise ApiError(404, "entity_not_found", "Unknown entity.")
        members = conn.execute(
            "SELECT professional_id, is_admin FROM entity_members WHERE entity_id = ? "
            "ORDER BY professional_id",
            (entity_id,),
        ).fetchall()
        return {
            "id": row["id"],
            "name": row["name"],
            "admins": [m["professional_id"] for m in members if m["is_admin"]],
            "professionals": [m["professional_id"] for m in members],
            "createdAt": row["created_at"],
        }

    def _professional_ids(self, refs: Any, field_name: str) -> list[str]:
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise ApiError(422, "invalid", f"{field_name} must be a list of ids.", field_name)
        ids = []
        for ref in refs:
            row = self._professional_row(ref)
            if row is None:
                raise ApiError(
                    422, "professional_not_found", f"Unknown professional {ref}.", field_name
                )
            ids.append(str(row["id"]))
        return ids

    def _entity_create(self, request: httpx.Request) -> httpx.Response:
        self._caller(request)
        body = self._object(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(422, "required", "name is required.", "name")
        admins = self._professional_ids(body.get("admins", []), "admins")
        entity_id = str(uuid.uuid4())
        with self.store.write() as conn:
            conn.execute(
                "INSERT INTO entities VALUES (?, ?, ?)", (entity_id, name.strip(), self._now())
            )
            for admin in admins:
                conn.execute(
                    "INSERT OR IGNORE INTO entity_members VALUES (?, ?, 1)", (entity_id, admin)
                )
        return json_response(201, self._entity_wire(entity_id))

    def _entity_get(self, request: httpx.Request, id: str) -> httpx.Response:
        self._caller(request)
        return json_response(200, self._entity_wire(id))

    def _entity_add(self, request: httpx.Request, id: str) -> httpx.Response:
        self._caller(request)
        self._entity_wire(id)
        body = self._object(request)
        if "professionals" in body:
            refs = body["professionals"]
        else:
            refs = [body.get("professionalId") or body.get("rpps")]
        professionals = self._professional_ids(refs, "professionals")
        with self.store.write() as conn:
            for professional in professionals:
                conn.execute(
                    "INSERT OR IGNORE INTO entity_members VALUES (?, ?, 0)", (id, professional)
                )
        return json_response(200, self._entity_wire(id))

    # --- drugs -----------------------------------------------------------------------------

    def _drug_search(self, request: httpx.Request) -> httpx.Response:
        self._caller(request)
        params = request.url.params
        page, per_page = _paging(request)
        if params.get("code"):
            cis = catalogue.find_by_code(self.store, params["code"])
            items = catalogue.drugs_by_cis(self.store.conn(), [cis] if cis else [])
            return json_response(200, envelope(1, per_page, len(items), items))
        text = params.get("q", "").strip()
        if not text:
            raise ApiError(400, "required", "q (text) or code is required.", "q")
        total, cis_list = catalogue.search(self.store, text=text, page=page, per_page=per_page)
        items = catalogue.drugs_by_cis(self.store.conn(), cis_list)
        return json_response(200, envelope(page, per_page, total, items))

    def _drug_get(self, request: httpx.Request, cis: str) -> httpx.Response:
        self._caller(request)
        items = catalogue.drugs_by_cis(self.store.conn(), [cis])
        if not items:
            raise ApiError(404, "drug_not_found", f"No drug with CIS {cis}.")
        return json_response(200, items[0])

    # --- analysis --------------------------------------------------------------------------

    def _resolver(self) -> Callable[[int, str, LineIn], engine.ResolvedDrug]:
        conn = self.store.conn()

        def resolve(index: int, group: str, line: LineIn) -> engine.ResolvedDrug:
            code = line.drug.code.strip()
            if line.drug.code_system == CodeSystem.DCI:
                return _resolve_dci(index, group, line)
            cis: str | None
            if line.drug.code_system == CodeSystem.CIS:
                cis = code if len(code) == 8 else None
            else:
                cis = catalogue.find_by_code(self.store, code)
            query = "SELECT cis, label, routes FROM drugs WHERE cis = ?"
            row = conn.execute(query, (cis,)).fetchone() if cis else None
            if row is None:
                raise engine.UnknownDrug(index, group, code)
            substances = tuple(
                engine.Substance(
                    key=s["canonical"] or engine.fold(s["name"]), name=s["name"], dosage=s["dosage"]
                )
                for s in catalogue.substances_of(conn, row["cis"])
            )
            return engine.ResolvedDrug(
                cis=row["cis"],
                label=row["label"],
                substances=substances,
                routes=tuple(json.loads(row["routes"])),
            )

        return resolve

    def _analyse(self, request: AnalysisRequest) -> dict[str, Any]:
        try:
            return engine.analyse(request, self._resolver(), now=self.clock())
        except engine.UnknownDrug as exc:
            raise ApiError(
                422,
                "unknown_drug",
                f"Médicament inconnu de la base : {exc.code}.",
                f"{exc.field}.{exc.index}.drug.code",
            ) from exc

    def _analysis(self, request: httpx.Request) -> httpx.Response:
        self._prescriber(request)
        try:
            analysis_request = AnalysisRequest.model_validate(self._object(request))
        except ValidationError as exc:
            raise ApiError.from_validation(exc) from exc
        return json_response(200, self._analyse(analysis_request))

    # --- prescriptions ---------------------------------------------------------------------

    def _prescription_wire(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "number": row["number"],
            "externalId": row["external_id"],
            "qrPayload": qr_payload(row["number"]),
            "status": row["status"],
            "createdAt": row["created_at"],
            "cancelledAt": row["cancelled_at"],
            "cancelReason": row["cancel_reason"],
            "dispensing": json.loads(row["dispensing"]),
        }

    @staticmethod
    def _status_wire(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "number": row["number"],
            "status": row["status"],
            "dispensing": json.loads(row["dispensing"]),
            "updatedAt": row["updated_at"],
        }

    def _prescription_row(self, ref: str, column: str = "id") -> sqlite3.Row:
        row = (
            self.store.conn()
            .execute(
                f"SELECT * FROM prescriptions WHERE {column} = ?",  # noqa: S608 - fixed columns
                (ref,),
            )
            .fetchone()
        )
        if row is None:
            raise ApiError(404, "prescription_not_found", "Unknown prescription.")
        return row

    def _prescription_create(self, request: httpx.Request) -> httpx.Response:
        prescriber = self._prescriber(request)
        key = request.headers.get(contract.IDEMPOTENCY_HEADER, "").strip()
        if not key:
            raise ApiError(
                400, "idempotency_key_required", "The Idempotency-Key header is required."
            )
        body = self._object(request)
        try:
            create = PrescriptionCreate.model_validate(body)
        except ValidationError as exc:
            raise ApiError.from_validation(exc) from exc
        body_hash = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        with self.store.write() as conn:  # the arrival counts even if it is refused below
            conn.execute(
                "INSERT INTO ledger (external_id, creation_requests, first_seen) VALUES (?, 1, ?) "
                "ON CONFLICT(external_id) DO UPDATE SET creation_requests = creation_requests + 1",
                (create.external_id, self._now()),
            )
            # A creation request after an earlier one, with no lookup by external id between.
            conn.execute(
                "INSERT INTO ledger_lookups (external_id) VALUES (?) "
                "ON CONFLICT(external_id) DO UPDATE SET looked_up = 0, "
                "resends_without_lookup = resends_without_lookup + (1 - looked_up)",
                (create.external_id,),
            )
        with self.store.write() as conn:
            replay = conn.execute(
                "SELECT body_hash, status, response FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
            if replay is not None:
                if replay["body_hash"] != body_hash:
                    raise ApiError(
                        409,
                        "idempotency_key_reused",
                        "This Idempotency-Key was used with another body.",
                    )
                return httpx.Response(
                    replay["status"],
                    content=replay["response"].encode(),
                    headers={"Content-Type": "application/json", "Idempotent-Replayed": "true"},
                )
            existing = conn.execute(
                "SELECT * FROM prescriptions WHERE external_id = ?", (create.external_id,)
            ).fetchone()
            if existing is not None:
                status, payload = 200, self._prescription_wire(existing)
            else:
                self._refuse_unacknowledged(create)
                status, payload = 201, self._register(conn, prescriber, create)
            response = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            conn.execute(
                "INSERT INTO idempotency VALUES (?, ?, ?, ?)", (key, body_hash, status, response)
            )
        return httpx.Response(
            status, content=response.encode(), headers={"Content-Type": "application/json"}
        )

    def _refuse_unacknowledged(self, create: PrescriptionCreate) -> None:
        analysis = self._analyse(AnalysisRequest(patient=create.patient, lines=list(create.lines)))
        acknowledged = {a.alert_id for a in create.acknowledged_alerts}
        pending = [
            a
            for a in analysis["alerts"]
            if a["level"] == AlertLevel.CI.value and a["id"] not in acknowledged
        ]
        if pending:
            error = ApiError(
                422,
                "unacknowledged_alerts",
                "Des contre-indications n'ont pas été validées par le prescripteur.",
                "acknowledgedAlerts",
                alerts=pending,
            )
            raise error

    def _register(
        self, conn: sqlite3.Connection, prescriber: sqlite3.Row, create: PrescriptionCreate
    ) -> dict[str, Any]:
        now = self._now()
        dispensing = {
            "status": "none",
            "lines": [
                {"lineId": line.line_id, "status": "none", "dispensedAt": None}
                for line in create.lines
            ],
            "updatedAt": None,
        }
        while True:
            number = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))
            if (
                conn.execute("SELECT 1 FROM prescriptions WHERE number = ?", (number,)).fetchone()
                is None
            ):
                break
        prescription_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO prescriptions (id, number, external_id, rpps, request, line_ids, status, "
            "created_at, updated_at, dispensing) VALUES (?, ?, ?, ?, ?, ?, 'registered', ?, ?, ?)",
            (
                prescription_id,
                number,
                create.external_id,
                prescriber["rpps"],
                create.model_dump_json(by_alias=True),
                json.dumps([line.line_id for line in create.lines]),
                now,
                now,
                json.dumps(dispensing),
            ),
        )
        row = conn.execute(
            "SELECT * FROM prescriptions WHERE id = ?", (prescription_id,)
        ).fetchone()
        return self._prescription_wire(row)

    def _prescription_list(self, request: httpx.Request) -> httpx.Response:
        self._caller(request)
        page, per_page = _paging(request)
        conn = self.store.conn()
        external_id = request.url.params.get("externalId")
        where, args = ("WHERE external_id = ?", [external_id]) if external_id else ("", [])
        if external_id:
            with self.store.write() as conn:
                conn.execute(
                    "UPDATE ledger_lookups SET looked_up = 1 WHERE external_id = ?", (external_id,)
                )
        total = conn.execute(f"SELECT count(*) FROM prescriptions {where}", args).fetchone()[0]  # noqa: S608
        rows = conn.execute(
            f"SELECT * FROM prescriptions {where} ORDER BY created_at, id LIMIT ? OFFSET ?",  # noqa: S608
            [*args, per_page, (page - 1) * per_page],
        ).fetchall()
        items = [self._prescription_wire(r) for r in rows]
        return json_response(200, envelope(page, per_page, int(total), items))

    def _prescription_get(self, request: httpx.Request, id: str) -> httpx.Response:
        self._caller(request)
        return json_response(200, self._prescription_wire(self._prescription_row(id)))

    def _status(self, request: httpx.Request, id: str) -> httpx.Response:
        self._caller(request)
        return json_response(200, self._status_wire(self._prescription_row(id)))

    def _cancel(self, request: httpx.Request, id: str) -> httpx.Response:
        self._prescriber(request)
        try:
            cancel = PrescriptionCancel.model_validate(self._object(request))
        except ValidationError as exc:
            raise ApiError.from_validation(exc) from exc
        if not cancel.reason.strip():
            raise ApiError(422, "required", "reason is required.", "reason")
        with self.store.write() as conn:
            row = self._prescription_row(id)
            if row["status"] == "cancelled":
                return json_response(200, self._prescription_wire(row))
            if json.loads(row["dispensing"])["status"] != "none":
                raise ApiError(
                    409,
                    "already_dispensed",
                    "La prescription a déjà été délivrée (au moins en partie) : "
                    "elle ne peut plus être annulée.",
                )
            now = self._now()
            conn.execute(
                "UPDATE prescriptions SET status = 'cancelled', cancelled_at = ?, updated_at = ?, "
                "cancel_reason = ?, cancel_comment = ? WHERE id = ?",
                (now, now, cancel.reason, cancel.comment, id),
            )
            row = self._prescription_row(id)
        self._notify(contract.WebhookEventType.CANCELLED, row)
        return json_response(200, self._prescription_wire(row))

    def _notify(self, event_type: contract.WebhookEventType, row: sqlite3.Row) -> None:
        target = self.webhook
        if target is None:
            return
        event = {
            "eventId": str(uuid.uuid4()),
            "type": event_type.value,
            "occurredAt": self._now(),
            "prescription": self._status_wire(row),
            "externalId": row["external_id"],
        }
        self.webhooks.send(target, event)

    # --- control API -----------------------------------------------------------------------

    def _health(self, request: httpx.Request) -> httpx.Response:
        return json_response(200, {"status": "ok", "partnerId": self.partner_id})

    def _faults_get(self, request: httpx.Request) -> httpx.Response:
        return json_response(200, self.faults.current.as_wire())

    def _faults_set(self, request: httpx.Request) -> httpx.Response:
        body = self._object(request)
        mode = body.get("mode", "ok")
        if mode not in MODES:
            raise ApiError(422, "invalid_mode", f"mode is one of {', '.join(MODES)}.", "mode")
        latency_ms = body.get("latency_ms", 0)
        error_rate = body.get("error_rate", 0.0)
        if not isinstance(latency_ms, int) or isinstance(latency_ms, bool) or latency_ms < 0:
            raise ApiError(422, "invalid", "latency_ms is a non-negative integer.", "latency_ms")
        if not isinstance(error_rate, int | float) or not 0 <= error_rate <= 1:
            raise ApiError(422, "invalid", "error_rate is between 0 and 1.", "error_rate")
        faults = Faults(mode=mode, latency_ms=latency_ms, error_rate=float(error_rate))
        self.faults.set(faults)
        return json_response(200, faults.as_wire())

    def _ledger(self, request: httpx.Request) -> httpx.Response:
        page, per_page = _paging(request, default=100, maximum=1000)
        conn = self.store.conn()
        total = conn.execute("SELECT count(*) FROM ledger").fetchone()[0]
        rows = conn.execute(
            "SELECT external_id, creation_requests FROM ledger ORDER BY first_seen, external_id "
            "LIMIT ? OFFSET ?",
            (per_page, (page - 1) * per_page),
        ).fetchall()
        items = []
        for row in rows:
            registered = conn.execute(
                "SELECT number, status FROM prescriptions WHERE external_id = ? ORDER BY number",
                (row["external_id"],),
            ).fetchall()
            lookups = conn.execute(
                "SELECT resends_without_lookup FROM ledger_lookups WHERE external_id = ?",
                (row["external_id"],),
            ).fetchone()
            keys = conn.execute(
                "SELECT idempotency_key FROM ledger_keys WHERE external_id = ? "
                "ORDER BY idempotency_key",
                (row["external_id"],),
            ).fetchall()
            items.append(
                {
                    "externalId": row["external_id"],
                    "creationRequests": row["creation_requests"],
                    "resendsWithoutLookup": lookups["resends_without_lookup"] if lookups else 0,
                    "idempotencyKeys": [k["idempotency_key"] for k in keys],
                    "registered": len(registered),
                    "numbers": [r["number"] for r in registered],
                    "cancelled": sum(1 for r in registered if r["status"] == "cancelled"),
                }
            )
        return json_response(200, envelope(page, per_page, int(total), items))

    def _dispense(self, request: httpx.Request, number: str) -> httpx.Response:
        body = self._object(request)
        partial = body.get("partial", False)
        if not isinstance(partial, bool):
            raise ApiError(422, "invalid", "partial is a boolean.", "partial")
        default_status = "partial" if partial else "full"
        statuses = {s.value for s in contract.LineDispensingState}
        with self.store.write() as conn:
            row = self._prescription_row(number, column="number")
            if row["status"] == "cancelled":
                raise ApiError(409, "cancelled", "A cancelled prescription cannot be dispensed.")
            dispensing = json.loads(row["dispensing"])
            known = {line["lineId"]: line for line in dispensing["lines"]}
            requested = body.get("lines") or list(known)
            if not isinstance(requested, list):
                raise ApiError(422, "invalid", "lines is a list.", "lines")
            now = self._now()
            for item in requested:
                line_id = item.get("lineId") if isinstance(item, dict) else item
                status = (
                    item.get("status", default_status) if isinstance(item, dict) else default_status
                )
                if line_id not in known:
                    raise ApiError(422, "unknown_line", f"Unknown line {line_id}.", "lines")
                if status not in statuses:
                    raise ApiError(422, "invalid_status", f"Unknown status {status}.", "lines")
                known[line_id].update({"status": status, "dispensedAt": now})
            dispensing["status"] = overall_dispensing([line["status"] for line in known.values()])
            dispensing["updatedAt"] = now
            conn.execute(
                "UPDATE prescriptions SET dispensing = ?, updated_at = ? WHERE id = ?",
                (json.dumps(dispensing), now, row["id"]),
            )
            row = self._prescription_row(row["id"])
        self._notify(contract.WebhookEventType.DISPENSING_UPDATED, row)
        return json_response(200, self._status_wire(row))

    def _reset(self, request: httpx.Request) -> httpx.Response:
        with self.store.write() as conn:
            for table in RESET_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.execute("DELETE FROM professionals")
        self._seed_professionals()
        self.faults.set(Faults())
        self.webhook = self._startup_webhook
        return json_response(200, {"status": "reset"})

    def _webhook_get(self, request: httpx.Request) -> httpx.Response:
        return json_response(200, {"url": self.webhook.url if self.webhook else None})

    def _webhook_drain(self, request: httpx.Request) -> httpx.Response:
        """Wait until every webhook queued so far was delivered (or given up), at most
        ``timeout`` seconds (default 10): a test ends only once nothing more will reach it."""
        timeout = self._object(request).get("timeout", 10.0)
        if not isinstance(timeout, int | float) or not 0 <= timeout <= 60:
            raise ApiError(422, "invalid_timeout", "timeout is 0 to 60 seconds.", "timeout")
        return json_response(200, {"pending": self.webhooks.join(float(timeout))})

    def _webhook_set(self, request: httpx.Request) -> httpx.Response:
        body = self._object(request)
        url, secret = body.get("url"), body.get("secret")
        if url is None:
            self.webhook = None
            return json_response(200, {"url": None})
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ApiError(422, "invalid_url", "url is an http(s) URL.", "url")
        if not isinstance(secret, str) or not secret:
            raise ApiError(422, "required", "secret is required.", "secret")
        self.webhook = WebhookTarget(url=url, secret=secret)
        return json_response(200, {"url": url})


def overall_dispensing(line_statuses: list[str]) -> str:
    delivered = {"full", "substituted"}
    if (
        line_statuses
        and all(s in delivered | {"not_delivered"} for s in line_statuses)
        and any(s in delivered for s in line_statuses)
    ):
        return "full"
    if any(s in delivered | {"partial"} for s in line_statuses):
        return "partial"
    return "none"


def qr_payload(number: str) -> str:
    """What the paper copy's QR code carries: the unique prescription number, prefixed."""
    return f"ORDONNANCE-NUMERIQUE:{number}"


def _resolve_dci(index: int, group: str, line: LineIn) -> engine.ResolvedDrug:
    """A line prescribed in DCI (contract.DrugRef): its substances, dosages and form, analysed
    like a product of that composition; the route follows from the form."""
    names = [n.strip() for n in line.drug.code.split("+") if n.strip()]
    dosages = [d.strip() for d in line.drug.dosage.split("+")] if len(names) > 1 else []
    if len(names) == 1:
        dosages = [line.drug.dosage.strip()]
    if not names or len(dosages) != len(names):
        raise ApiError(
            422,
            "invalid_dci",
            "A DCI line gives its substances and one dosage per substance, joined by ' + '.",
            f"{group}.{index}.drug",
        )
    keys = [canonical_substance(name) for name in names]
    unknown = [name for name, key in zip(names, keys, strict=True) if not key]
    if unknown:
        raise ApiError(
            422,
            "unknown_substance",
            f"Substance inconnue de la base : {', '.join(unknown)}.",
            f"{group}.{index}.drug.code",
        )
    dosage = " + ".join(dosages)
    label = f"{' + '.join(names)} {dosage}".strip()
    if line.drug.form.strip():
        label = f"{label}, {line.drug.form.strip()}"
    return engine.ResolvedDrug(
        cis=f"dci:{'+'.join(keys)}|{dosage}|{fold(line.drug.form)}",
        label=label,
        substances=tuple(
            engine.Substance(key=key, name=name, dosage=d)
            for key, name, d in zip(keys, names, dosages, strict=True)
        ),
        routes=(route_of_form(line.drug.form),),
    )
