"""TRUNCATE skips row triggers: a statement-level trigger refuses it on account events too."""

from django.db import migrations

SQL = """
CREATE TRIGGER practitioners_account_event_append_only_truncate
    BEFORE TRUNCATE ON practitioners_accountevent
    FOR EACH STATEMENT EXECUTE FUNCTION practitioners_account_event_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS practitioners_account_event_append_only_truncate
    ON practitioners_accountevent;
"""


class Migration(migrations.Migration):
    dependencies = [("practitioners", "0005_username_normalised")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
