"""The audit trail cannot be emptied: connected as the app's database role (POSTGRES_USER), no
TRUNCATE, no UPDATE or DELETE on the append-only tables, no way to switch the triggers off with
`session_replication_role`, and nothing owned; and even the owner's TRUNCATE is refused by a
statement-level trigger."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError
from psycopg import sql

from origami.db_roles import append_only_tables

pytestmark = pytest.mark.django_db

APPEND_ONLY = [
    "prescriptions_alertdecision",
    "prescriptions_auditevent",
    "prescriptions_submissionattempt",
    "practitioners_accountevent",
]


@pytest.fixture
def app_db() -> Iterator[psycopg.Connection[Any]]:
    """A connection to the test database as the role the app runs as."""
    params = connection.settings_dict
    conn = psycopg.connect(
        dbname=params["NAME"],
        user=settings.DATABASE_APP_ROLE,
        password=os.environ.get("POSTGRES_PASSWORD", ""),
        host=params["HOST"],
        port=params["PORT"],
        autocommit=True,
        connect_timeout=10,
    )
    # The test's own transaction must never make these statements wait.
    conn.execute("SET lock_timeout = '5s'")
    yield conn
    conn.close()


def _refused(conn: psycopg.Connection[Any], statement: str, table: str = "") -> str:
    query = sql.SQL(statement).format(sql.Identifier(table)) if table else sql.SQL(statement)
    with pytest.raises(psycopg.Error) as refused:
        conn.execute(query)
    return str(refused.value)


def test_the_append_only_tables_are_all_found():
    assert set(APPEND_ONLY) <= set(append_only_tables())


def test_the_app_role_is_no_superuser_and_owns_nothing(app_db):
    row = app_db.execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles "
        "WHERE rolname = current_user"
    ).fetchone()
    assert row == (False, False, False, False)
    owned = app_db.execute(
        "SELECT count(*) FROM pg_class WHERE relowner = "
        "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ).fetchone()
    assert owned == (0,)
    assert app_db.execute("SELECT current_user").fetchone() == (settings.DATABASE_APP_ROLE,)


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_the_app_role_cannot_truncate_update_or_delete_the_trail(app_db, table):
    assert "permission denied" in _refused(app_db, "TRUNCATE {}", table)
    assert "permission denied" in _refused(app_db, "DELETE FROM {}", table)
    assert "permission denied" in _refused(app_db, "UPDATE {} SET id = id", table)
    # It still reads and appends.
    app_db.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    assert app_db.execute(
        "SELECT has_table_privilege(current_user, %s, 'INSERT')", [table]
    ).fetchone() == (True,)


def test_the_app_role_cannot_switch_the_triggers_off(app_db):
    message = _refused(app_db, "SET session_replication_role = replica")
    assert "permission denied" in message
    with app_db.transaction():
        assert "permission denied" in _refused(
            app_db, "SET LOCAL session_replication_role = replica"
        )


def test_the_app_role_cannot_truncate_other_tables_nor_change_the_schema(app_db):
    assert "permission denied" in _refused(app_db, "TRUNCATE prescriptions_prescription")
    assert "must be owner" in _refused(app_db, "DROP TABLE prescriptions_auditevent")
    assert "must be owner" in _refused(
        app_db, "ALTER TABLE prescriptions_auditevent DISABLE TRIGGER USER"
    )
    assert "permission denied" in _refused(app_db, "CREATE TABLE evil (id int)")


def test_the_app_role_still_writes_the_working_tables(app_db):
    for table in ("prescriptions_prescription", "patients_patient", "django_session"):
        assert app_db.execute(
            "SELECT has_table_privilege(current_user, %s, 'INSERT, UPDATE, DELETE')", [table]
        ).fetchone() == (True,)


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_truncate_is_refused_by_trigger_even_for_the_owner(table):
    # The test suite connects as the owner, who has every right on its tables.
    statement = f"TRUNCATE {connection.ops.quote_name(table)} CASCADE"
    with (
        pytest.raises(DatabaseError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert "append-only" in str(refused.value)
