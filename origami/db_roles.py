"""Least privilege in the database: the app's role may read and write rows, nothing more.

Two PostgreSQL roles (created by scripts/db_roles.sh): the owner (POSTGRES_OWNER_USER) owns the
schema and runs the migrations (`manage.py migrate --database owner`); the app
(POSTGRES_USER) owns nothing, is no superuser (so it cannot set `session_replication_role` to
skip the triggers), has no TRUNCATE anywhere, and no UPDATE or DELETE on the append-only tables
(the trail of decisions, attempts, audit and account events). After every migration, the grants
below are applied again, by the owner, to whatever tables exist then.

Append-only tables are found by their row trigger (named `*_append_only`, see
prescriptions/migrations/0002_append_only.py and practitioners/migrations/
0003_account_event_append_only.py): a new append-only table is covered as soon as it has one.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

APPEND_ONLY_TABLES_SQL = """
SELECT DISTINCT c.relname
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgname LIKE '%%append_only%%' AND n.nspname = 'public'
ORDER BY 1
"""


def append_only_tables(*, using: str = "default") -> list[str]:
    with connections[using].cursor() as cursor:
        cursor.execute(APPEND_ONLY_TABLES_SQL)
        return [row[0] for row in cursor.fetchall()]


def database_grants_apply(*, using: str) -> list[str]:
    """Grant the app's role what it needs on every table and sequence, and take back UPDATE,
    DELETE and TRUNCATE on the append-only tables. Returns those tables. Does nothing when
    connected as the app's role itself (it owns nothing and could grant nothing) or when that
    role does not exist on this server."""
    connection = connections[using]
    app_role = settings.DATABASE_APP_ROLE
    if not app_role or connection.settings_dict.get("USER") == app_role:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        if cursor.fetchone() is None:
            logger.warning("database role for the app missing: run scripts/db_roles.sh")
            return []
        role = connection.ops.quote_name(app_role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        cursor.execute(
            f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role}"
        )
        tables = append_only_tables(using=using)
        for table in tables:
            cursor.execute(
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {connection.ops.quote_name(table)} FROM {role}"
            )
    return tables


def grants_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (connected once, in OrigamiConfig.ready)."""
    if connections[using].vendor == "postgresql":
        database_grants_apply(using=using)
