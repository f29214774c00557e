"""On PostgreSQL, the audit log and status history refuse UPDATE and DELETE.

Only key rotation may rewrite encrypted tokens, inside a transaction that sets
solidaire.rewrap_keys (see union/management/commands/rotate_field_keys.py).
"""

from django.db import migrations

TABLES = ["union_auditevent", "union_memberstatuschange"]

FUNCTION = """
CREATE OR REPLACE FUNCTION solidaire_append_only() RETURNS trigger AS $$
BEGIN
  -- The one exception: rotate_field_keys re-encrypts tokens in place (same plain values).
  IF TG_OP = 'UPDATE' AND current_setting('solidaire.rewrap_keys', true) = 'on' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # params=None: the function body contains a literal % that is not a placeholder.
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only();"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("union", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
