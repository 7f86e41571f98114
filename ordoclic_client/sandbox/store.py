"""The sandbox's own store: one SQLite file under the state directory.

It is another system than origami, so it never touches the app's PostgreSQL. One connection
per thread (the served mode answers several requests at once), WAL journal, busy timeout;
writes that must not interleave (registration, idempotency) run in ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS professionals (
    id TEXT PRIMARY KEY,
    rpps TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    profession TEXT NOT NULL DEFAULT '',
    activated INTEGER NOT NULL,
    deactivation_reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entity_members (
    entity_id TEXT NOT NULL REFERENCES entities(id),
    professional_id TEXT NOT NULL REFERENCES professionals(id),
    is_admin INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity_id, professional_id)
);
CREATE TABLE IF NOT EXISTS drugs (
    cis TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    form TEXT NOT NULL,
    routes TEXT NOT NULL,
    atc TEXT NOT NULL,
    common_name TEXT NOT NULL,
    generic_group TEXT,
    marketed INTEGER NOT NULL,
    holder TEXT NOT NULL,
    conditions TEXT NOT NULL,
    curated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS substances (
    cis TEXT NOT NULL,
    position INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    dosage TEXT NOT NULL,
    canonical TEXT NOT NULL,
    PRIMARY KEY (cis, position)
);
CREATE INDEX IF NOT EXISTS substances_canonical ON substances (canonical);
CREATE TABLE IF NOT EXISTS presentations (
    cip13 TEXT PRIMARY KEY,
    cis TEXT NOT NULL,
    cip7 TEXT NOT NULL,
    ucd13 TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL,
    reimbursement_rate TEXT NOT NULL,
    price_eur TEXT,
    marketed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS presentations_cis ON presentations (cis);
CREATE INDEX IF NOT EXISTS presentations_ucd ON presentations (ucd13);
CREATE VIRTUAL TABLE IF NOT EXISTS drug_search USING fts5(
    cis UNINDEXED, text, tokenize = "unicode61 remove_diacritics 2", prefix = '1 2 3'
);
CREATE TABLE IF NOT EXISTS prescriptions (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    external_id TEXT NOT NULL UNIQUE,
    rpps TEXT NOT NULL,
    request TEXT NOT NULL,
    line_ids TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    cancelled_at TEXT,
    cancel_reason TEXT NOT NULL DEFAULT '',
    cancel_comment TEXT NOT NULL DEFAULT '',
    dispensing TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    external_id TEXT PRIMARY KEY,
    creation_requests INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL
);
-- Per external id: whether a lookup by external id came since the last creation request, and
-- how many creation requests came again without one (the client's "look up before resending").
CREATE TABLE IF NOT EXISTS ledger_lookups (
    external_id TEXT PRIMARY KEY,
    looked_up INTEGER NOT NULL DEFAULT 0,
    resends_without_lookup INTEGER NOT NULL DEFAULT 0
);
-- The Idempotency-Key values each external id's creation requests carried.
CREATE TABLE IF NOT EXISTS ledger_keys (
    external_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    PRIMARY KEY (external_id, idempotency_key)
);
"""

# Tables emptied by POST /_sandbox/reset (the catalogue and the partner key survive).
RESET_TABLES = (
    "entity_members",
    "entities",
    "prescriptions",
    "idempotency",
    "ledger",
    "ledger_lookups",
    "ledger_keys",
)


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.conn().executescript(SCHEMA)

    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken at once (``BEGIN IMMEDIATE``): no lost update."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def get_meta(self, key: str) -> str | None:
        row = self.conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        self.conn().execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
