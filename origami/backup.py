"""Backups that are known to restore (README, "Sauvegarde et restauration").

- :func:`backup_dump`: ``pg_dump`` in the custom format, taken in a snapshot exported by a
  read-only repeatable-read transaction in which the manifest is read too: the row count of every
  table, the triggers, the registered prescriptions and a digest of their numbers, the last
  migration of each app. The manifest therefore describes exactly what the dump holds, however
  busy the database was while it ran.
- :func:`backup_restore`: ``pg_restore`` into a database that must not exist yet (never over a
  live one), then :func:`backup_verify`.
- :func:`backup_verify`: the restored database against the manifest; the append-only triggers
  must be there, enabled, and must refuse a change; every registered prescription must still
  have its number.
- :func:`submissions_after_restore`: before workers run on a restored database, every queued
  submission that had no attempt yet is marked as possibly sent, so that its next attempt looks
  it up at Ordoclic by our external id before sending (it may have been registered after the
  dump was taken). With the idempotency key reused, nothing is registered twice.

No patient data is read or printed: table names, counts, trigger names and a digest.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.utils import timezone

from prescriptions.models import TransmissionStatus

MANIFEST_SUFFIX = ".manifest.json"
# Tables whose rows the database itself refuses to change (append-only triggers).
APPEND_ONLY_TABLES = (
    "prescriptions_alertdecision",
    "prescriptions_auditevent",
    "prescriptions_submissionattempt",
    "practitioners_accountevent",
)


class BackupError(Exception):
    """What went wrong, in words an operator reads (no patient data)."""


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    tables: int = 0
    rows: int = 0
    registered: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _configured() -> dict[str, str]:
    db = settings.DATABASES["default"]
    return {key: str(db.get(key) or "") for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}


def _connection_kwargs(database: str) -> dict[str, Any]:
    db = _configured()
    return {
        "dbname": database,
        "user": db["USER"],
        "password": db["PASSWORD"] or None,
        "host": db["HOST"],
        "port": db["PORT"],
        "connect_timeout": 10,
    }


def _pg_env() -> dict[str, str]:
    db = _configured()
    env = dict(os.environ)
    env.update({"PGHOST": db["HOST"], "PGPORT": str(db["PORT"]), "PGUSER": db["USER"]})
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _run(args: list[str]) -> None:
    done = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, arguments we built
        args, env=_pg_env(), capture_output=True, text=True, timeout=3600, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{args[0]} a échoué : {done.stderr.strip()[-2000:]}")


# --- what a database holds --------------------------------------------------------------------


def _inventory(cursor: psycopg.Cursor[Any]) -> dict[str, Any]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from the catalogue
        counts[table] = int(cursor.fetchone()[0])  # type: ignore[index]
    cursor.execute(
        "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1, 2"
    )
    triggers = [{"table": r[0], "name": r[1], "enabled": r[2] != "D"} for r in cursor.fetchall()]
    registered, digest, missing = 0, "", 0
    if "prescriptions_prescription" in counts:
        # Every number Ordoclic ever gave (a cancelled or replaced prescription keeps its own).
        cursor.execute(
            "SELECT count(*), coalesce(md5(string_agg(number, ',' ORDER BY number)), '') "
            "FROM prescriptions_prescription WHERE number IS NOT NULL AND number <> ''"
        )
        registered, digest = cursor.fetchone()  # type: ignore[misc]
        cursor.execute(
            "SELECT count(*) FROM prescriptions_prescription "
            "WHERE transmission_status = %s AND (number IS NULL OR number = '')",
            [TransmissionStatus.REGISTERED.value],
        )
        missing = cursor.fetchone()[0]  # type: ignore[index]
    migrations: dict[str, str] = {}
    if "django_migrations" in counts:
        cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        migrations = {app: name for app, name in cursor.fetchall()}
    return {
        "tables": counts,
        "triggers": triggers,
        "registered_prescriptions": int(registered),
        "registered_numbers_md5": digest,
        "registered_without_number": int(missing),
        "migrations": migrations,
    }


# --- dump ---------------------------------------------------------------------------------


def backup_dump(*, output: Path, database: str | None = None) -> dict[str, Any]:
    """Dump ``database`` (the configured one by default) to ``output`` and write its manifest
    next to it (``<output>.manifest.json``). Returns the manifest."""
    database = database or _configured()["NAME"]
    output.parent.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(**_connection_kwargs(database)) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]  # type: ignore[index]
            manifest = _inventory(cursor)
            # pg_dump reads the same snapshot while this transaction keeps it alive.
            _run(["pg_dump", "-Fc", f"--snapshot={snapshot}", "-f", str(output), database])
        conn.rollback()
    manifest.update(
        {
            "database": database,
            "dump": output.name,
            "dump_sha256": _sha256(output),
            "taken_at": timezone.now().isoformat(),
            "software_version": settings.ORIGAMI_VERSION,
        }
    )
    Path(f"{output}{MANIFEST_SUFFIX}").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _manifest(dump: Path) -> dict[str, Any]:
    path = Path(f"{dump}{MANIFEST_SUFFIX}")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except OSError as exc:
        raise BackupError(f"Manifeste introuvable : {path}") from exc
    if _sha256(dump) != manifest.get("dump_sha256"):
        raise BackupError("La sauvegarde ne correspond pas à son manifeste (somme SHA-256).")
    return manifest


# --- restore and verification -------------------------------------------------------------


def backup_restore(*, dump: Path, database: str) -> Verification:
    """Restore ``dump`` into a new database ``database`` (refused if it exists) and verify it."""
    manifest = _manifest(dump)
    with psycopg.connect(**_connection_kwargs("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if exists:
            raise BackupError(
                f"La base {database} existe déjà : la restauration se fait dans une base neuve."
            )
        conn.execute(f'CREATE DATABASE "{database}"')
    _run(["pg_restore", "--no-owner", "--exit-on-error", "-d", database, str(dump)])
    return backup_verify(manifest=manifest, database=database)


def backup_verify(*, manifest: dict[str, Any], database: str) -> Verification:
    result = Verification()
    with psycopg.connect(**_connection_kwargs(database)) as conn, conn.cursor() as cursor:
        found = _inventory(cursor)
        conn.rollback()
        _refuses_changes(conn, found, result)
    expected_tables: dict[str, int] = manifest["tables"]
    for table, count in sorted(expected_tables.items()):
        restored = found["tables"].get(table)
        if restored is None:
            result.problems.append(f"table absente : {table}")
        elif restored != count:
            result.problems.append(f"{table} : {restored} lignes au lieu de {count}")
    for table in sorted(set(found["tables"]) - set(expected_tables)):
        result.problems.append(f"table inattendue : {table}")
    result.tables = len(found["tables"])
    result.rows = sum(found["tables"].values())

    triggers = {(t["table"], t["name"]): t["enabled"] for t in found["triggers"]}
    for trigger in manifest["triggers"]:
        key = (trigger["table"], trigger["name"])
        if key not in triggers:
            result.problems.append(f"déclencheur absent : {trigger['name']} ({trigger['table']})")
        elif trigger["enabled"] and not triggers[key]:
            result.problems.append(f"déclencheur désactivé : {trigger['name']}")
    for table in APPEND_ONLY_TABLES:
        if table in found["tables"] and not any(t == table for t, _ in triggers):
            result.problems.append(f"table {table} sans déclencheur « append-only »")

    result.registered = found["registered_prescriptions"]
    if found["registered_without_number"]:
        result.problems.append(
            f"{found['registered_without_number']} ordonnance(s) enregistrée(s) sans numéro"
        )
    if (found["registered_prescriptions"], found["registered_numbers_md5"]) != (
        manifest["registered_prescriptions"],
        manifest["registered_numbers_md5"],
    ):
        result.problems.append("les numéros des ordonnances enregistrées diffèrent de la source")
    if found["migrations"] != manifest["migrations"]:
        result.problems.append("les migrations appliquées diffèrent de la source")
    return result


def _refuses_changes(conn: psycopg.Connection[Any], found: dict[str, Any], result: Any) -> None:
    """Try to change one row of each append-only table (rolled back): the trigger must refuse."""
    for table in APPEND_ONLY_TABLES:
        if not found["tables"].get(table):
            continue  # empty: the catalogue check above is all there is to see
        try:
            with conn.transaction():
                conn.execute(
                    f'UPDATE "{table}" SET id = id WHERE id = (SELECT min(id) FROM "{table}")'  # noqa: S608
                )
                raise _Accepted
        except _Accepted:
            result.problems.append(f"{table} accepte une modification (append-only perdu)")
        except psycopg.Error:
            pass  # refused by the trigger, as it must be
        conn.rollback()


class _Accepted(Exception):
    pass


def backup_drop(*, database: str) -> None:
    """Drop a scratch database made by a verification run (never the configured one)."""
    if database == _configured()["NAME"]:
        raise BackupError("Refus de supprimer la base configurée.")
    with psycopg.connect(**_connection_kwargs("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
