"""PostgreSQL as in production, except for the flush that empties the database between
transactional tests: it is a TRUNCATE, which the append-only tables refuse by trigger. The
owner (who runs the tests) turns those tables' user triggers off for the flush only, in the
flush's own transaction. Production never runs this code."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> list[str]:
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not statements:
            return statements
        from origami.db_roles import append_only_tables

        guarded = [
            self.quote_name(t)
            for t in append_only_tables(using=self.connection.alias)
            if t in set(tables)
        ]
        return (
            [f"ALTER TABLE {t} DISABLE TRIGGER USER;" for t in guarded]
            + statements
            + [f"ALTER TABLE {t} ENABLE TRIGGER USER;" for t in guarded]
        )


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
