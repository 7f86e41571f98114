# Account events are a trace: the database itself refuses to change or delete them.

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION practitioners_account_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'account events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER practitioners_account_event_append_only
    BEFORE UPDATE OR DELETE ON practitioners_accountevent
    FOR EACH ROW EXECUTE FUNCTION practitioners_account_event_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS practitioners_account_event_append_only ON practitioners_accountevent;
DROP FUNCTION IF EXISTS practitioners_account_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("practitioners", "0002_account_event")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
