"""The local drug memory (:class:`~prescriptions.models.KnownDrug`): writes and reads.

Every product Ordoclic returns is kept, written only when its facts changed (or, for the time it
was last seen, at most every ``SEEN_REFRESH``), so that a search costs one read when nothing is
new. ``drugs_import`` loads the public BDPM files; what Ordoclic said of a product wins over the
files (the import fills what Ordoclic has not shown yet). The search from memory matches word
prefixes, accents and case ignored, on brand, common name and substances, through a PostgreSQL
full-text index over folded words (``KnownDrug.search_vector``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone
from psycopg.types.json import Jsonb

from ordoclic_client import contract
from ordoclic_client.text import words

from ..models import DrugSource, KnownDrug
from .units import unit_for_form

# How stale "last seen at Ordoclic" may get before a search writes it again.
SEEN_REFRESH = timedelta(hours=6)
IMPORT_BATCH = 2000

_FACTS = [
    "label",
    "common_name",
    "substance",
    "dosage",
    "form",
    "routes",
    "default_unit",
    "atc",
    "marketed",
    "holder",
    "substances",
    "presentations",
    "cip13s",
    "generic_group",
    "prescription_conditions",
    "conditions",
    "search_text",
    "name_key",
    "fingerprint",
]


def substance_of(drug: contract.Drug) -> str:
    """The DCI as a line keeps it: "amoxicilline, acide clavulanique"."""
    return ", ".join(s.name.lower() for s in drug.substances)


def _search_text(drug: contract.Drug) -> str:
    parts = [drug.label, drug.common_name, *(s.name for s in drug.substances)]
    return " ".join(dict.fromkeys(w for part in parts for w in words(part)))


def _row(drug: contract.Drug, *, source: str, now: datetime) -> KnownDrug:
    wire = drug.model_dump(mode="json", by_alias=True)
    facts = drug.model_dump_json(by_alias=True)
    return KnownDrug(
        cis=drug.cis,
        label=drug.label[:255],
        common_name=drug.common_name[:500],
        substance=substance_of(drug)[:255],
        dosage=" + ".join(s.dosage for s in drug.substances if s.dosage)[:255],
        form=drug.form[:120],
        routes=list(drug.routes),
        default_unit=unit_for_form(drug.form, drug.routes[0] if drug.routes else "", drug.label),
        atc=drug.atc[:16],
        marketed=drug.marketed,
        holder=drug.holder[:255],
        substances=wire["substances"],
        presentations=wire["presentations"],
        cip13s=[p.cip13 for p in drug.presentations],
        generic_group=wire["genericGroup"],
        prescription_conditions=list(drug.prescription_conditions),
        conditions=wire["conditions"],
        search_text=_search_text(drug),
        name_key=" ".join(words(drug.label))[:64],
        fingerprint=hashlib.blake2b(facts.encode(), digest_size=16).hexdigest(),
        source=source,
        last_seen_at=now if source == DrugSource.ORDOCLIC else None,
        updated_at=now,
    )


def _upsert(rows: Sequence[KnownDrug], fields: list[str]) -> None:
    """Insert or update (on the CIS) a few rows: an answer of Ordoclic's."""
    if not rows:
        return
    KnownDrug.objects.bulk_create(
        sorted(rows, key=lambda row: row.cis),  # one lock order: concurrent upserts never deadlock
        update_conflicts=True,
        unique_fields=["cis"],
        update_fields=fields,
    )


_JSON_FIELDS = {"substances", "presentations", "generic_group", "conditions"}


def _upsert_many(rows: Sequence[KnownDrug], fields: list[str]) -> None:
    """The same for thousands of rows (an import): COPY into a temporary table, then one
    INSERT ... ON CONFLICT. Building an INSERT of a thousand rows through the ORM costs more
    than the database's work; COPY streams the values as they are."""
    if not rows:
        return
    columns = ["cis", *fields]
    table = KnownDrug._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    updates = ", ".join(
        f"{connection.ops.quote_name(c)} = EXCLUDED.{connection.ops.quote_name(c)}" for c in fields
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE known_drug_import ON COMMIT DROP AS "  # noqa: S608 - names from the model
            f"SELECT {quoted} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY known_drug_import ({quoted}) FROM STDIN") as copy:
            for row in sorted(rows, key=lambda row: row.cis):
                copy.write_row(
                    [
                        Jsonb(getattr(row, c)) if c in _JSON_FIELDS else getattr(row, c)
                        for c in columns
                    ]
                )
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM known_drug_import "  # noqa: S608
            f"ON CONFLICT (cis) DO UPDATE SET {updates}"
        )


def drugs_remember(*, drugs: Iterable[contract.Drug], now: datetime | None = None) -> int:
    """Keep the products Ordoclic just returned; returns how many rows were written. One read
    when nothing changed; an ATC code Ordoclic once gave is kept if a later answer has none."""
    now = now or timezone.now()
    fresh = {drug.cis: drug for drug in drugs if drug.cis.isdigit() and len(drug.cis) == 8}
    if not fresh:
        return 0
    known = {
        cis: (fingerprint, seen)
        for cis, fingerprint, seen in KnownDrug.objects.filter(cis__in=fresh).values_list(
            "cis", "fingerprint", "last_seen_at"
        )
    }
    changed, seen_again = [], []
    for cis, drug in fresh.items():
        row = _row(drug, source=DrugSource.ORDOCLIC, now=now)
        fingerprint, seen = known.get(cis, (None, None))
        if fingerprint != row.fingerprint:
            changed.append(row)
        elif seen is None or seen < now - SEEN_REFRESH:
            seen_again.append(cis)
    if changed:
        fields = [*_FACTS, "source", "last_seen_at", "updated_at"]
        with transaction.atomic():
            # the ATC only when the answer has one (an answer without it keeps the one we had)
            _upsert([row for row in changed if row.atc], fields)
            _upsert([row for row in changed if not row.atc], [f for f in fields if f != "atc"])
    if seen_again:
        KnownDrug.objects.filter(cis__in=seen_again).update(last_seen_at=now)
    return len(changed) + len(seen_again)


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_from_ordoclic: int = 0  # products Ordoclic already described: left as it said

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged + self.kept_from_ordoclic


def drugs_import(
    *,
    drugs: Sequence[contract.Drug],
    progress: Callable[[int], Any] | None = None,
    batch: int = IMPORT_BATCH,
) -> ImportSummary:
    """Load products of the public BDPM files, in batches (one read and at most one upsert each).
    Idempotent: an unchanged product is not written. Products Ordoclic described are left as
    it described them; an ATC code known from Ordoclic is never erased."""
    summary = ImportSummary()
    now = timezone.now()
    for start in range(0, len(drugs), batch):
        chunk = drugs[start : start + batch]
        known = {
            cis: (fingerprint, source, atc)
            for cis, fingerprint, source, atc in KnownDrug.objects.filter(
                cis__in=[d.cis for d in chunk]
            ).values_list("cis", "fingerprint", "source", "atc")
        }
        writes = []
        for drug in chunk:
            fingerprint, source, atc = known.get(drug.cis, (None, None, ""))
            if source == DrugSource.ORDOCLIC:
                summary.kept_from_ordoclic += 1
                continue
            if atc and not drug.atc:
                drug = drug.model_copy(update={"atc": atc})
            row = _row(drug, source=DrugSource.BDPM, now=now)
            if fingerprint == row.fingerprint:
                summary.unchanged += 1
                continue
            if fingerprint is None:
                summary.added += 1
            else:
                summary.updated += 1
            writes.append(row)
        _upsert_many(writes, [*_FACTS, "source", "updated_at"])
        if progress is not None:
            progress(len(chunk))
    return summary


# --- reads ----------------------------------------------------------------------------------------


def drug_from_row(row: KnownDrug) -> contract.Drug:
    """The product in the contract's shape, as the search results and the line show it."""
    return contract.Drug.model_validate(
        {
            "cis": row.cis,
            "label": row.label,
            "form": row.form,
            "routes": row.routes,
            "atc": row.atc,
            "substances": row.substances
            or [{"name": name.strip()} for name in row.substance.split(",") if name.strip()],
            "commonName": row.common_name,
            "presentations": row.presentations,
            "genericGroup": row.generic_group,
            "marketed": row.marketed,
            "holder": row.holder,
            "prescriptionConditions": row.prescription_conditions,
            "conditions": row.conditions or {},
        }
    )


def _prefix_query(text: str) -> str:
    """Every word of the query as a prefix: "amox 1 g" -> "amox:* & 1:* & g:*". Folded words are
    made of [0-9a-z] only, so nothing in them is tsquery syntax."""
    return " & ".join(f"{word}:*" for word in words(text))


def drugs_recalled(*, text: str, limit: int) -> list[contract.Drug]:
    """The products of the memory whose words start with the query's words (brand, common name
    or substance; accents and case ignored). Those whose name starts with the first word typed
    come first, then the others; within each, marketed first, then those Ordoclic returned,
    then by label.

    The order is decided on narrow columns, then only the page's rows are read in full. The
    names are looked up first through their prefix index: a two-letter query matches most of
    the products by some word ("co": comprimé), and a page of names is found without them."""
    query = _prefix_query(text)
    if not query:
        return []
    first = words(text)[0]
    matching = KnownDrug.objects.filter(
        search_vector=SearchQuery(query, search_type="raw", config="simple")
    ).annotate(seen=ExpressionWrapper(Q(last_seen_at__isnull=False), BooleanField()))
    ranked = ("-marketed", "-seen", "label", "cis")
    named = matching.filter(name_key__startswith=first)
    page = list(named.order_by(*ranked).values_list("cis", flat=True)[:limit])
    if len(page) < limit:
        others = matching.exclude(name_key__startswith=first).order_by(*ranked)
        page += list(others.values_list("cis", flat=True)[: limit - len(page)])
    rows = KnownDrug.objects.defer("search_text", "search_vector").in_bulk(page)
    return [drug_from_row(rows[cis]) for cis in page]


def drug_remembered(*, code: str) -> KnownDrug | None:
    """The product origami knows under a CIS or one of its CIP13 codes."""
    code = code.strip()
    if len(code) == 8:
        return KnownDrug.objects.filter(cis=code).first()
    if len(code) == 13:
        return KnownDrug.objects.filter(cip13s__contains=[code]).first()
    return None


def known_drug_count() -> int:
    return KnownDrug.objects.count()
