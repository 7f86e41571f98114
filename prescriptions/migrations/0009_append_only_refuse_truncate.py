"""TRUNCATE skips row triggers: a statement-level trigger refuses it on the append-only tables
too (the app's role has no TRUNCATE right either, see origami/db_roles.py)."""

from django.db import migrations

APPEND_ONLY_TABLES = [
    "prescriptions_alertdecision",
    "prescriptions_auditevent",
    "prescriptions_submissionattempt",
]

forward = [
    f"CREATE TRIGGER {table}_append_only_truncate BEFORE TRUNCATE ON {table} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION prescriptions_refuse_change();"
    for table in APPEND_ONLY_TABLES
]
backward = [
    f"DROP TRIGGER IF EXISTS {table}_append_only_truncate ON {table};"
    for table in APPEND_ONLY_TABLES
]


class Migration(migrations.Migration):
    dependencies = [("prescriptions", "0008_insight_fhir")]

    operations = [migrations.RunSQL(sql=forward, reverse_sql=backward)]
