"""Decisions, submission attempts and audit events are append-only: the database itself refuses
any UPDATE or DELETE on them, whatever the code (or a psql session) tries."""

from django.db import migrations

APPEND_ONLY_TABLES = [
    "prescriptions_alertdecision",
    "prescriptions_auditevent",
    "prescriptions_submissionattempt",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION prescriptions_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'append-only table %: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

forward = [FUNCTION] + [
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    f"FOR EACH ROW EXECUTE FUNCTION prescriptions_refuse_change();"
    for table in APPEND_ONLY_TABLES
]
backward = [
    f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in APPEND_ONLY_TABLES
] + ["DROP FUNCTION IF EXISTS prescriptions_refuse_change();"]


class Migration(migrations.Migration):
    dependencies = [("prescriptions", "0001_initial")]

    operations = [migrations.RunSQL(sql=forward, reverse_sql=backward)]
