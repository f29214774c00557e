"""On PostgreSQL the ledger cannot be edited or deleted, not even by hand in psql.

The ledger, its allocations, confirmations and cash-book closes reuse the append-only
trigger function of union 0002 (which lets key rotation re-encrypt tokens in place).
A confirmation must name the entry's real recorder, so the CHECK that the confirming
officer is someone else cannot be dodged by lying about who recorded it.
"""

from django.db import migrations

TABLES = ["dues_ledgerentry", "dues_allocation", "dues_paymentconfirmation", "dues_cashbookclose"]

CONFIRMATION_FUNCTION = """
CREATE OR REPLACE FUNCTION dues_confirmation_matches_entry() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM dues_ledgerentry e
    WHERE e.id = NEW.entry_id AND e.needs_confirmation
      AND e.recorded_by_id IS NOT DISTINCT FROM NEW.recorded_by_id
  ) THEN
    RAISE EXCEPTION 'confirmation does not match its entry' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only();"
        )
    schema_editor.execute(CONFIRMATION_FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER dues_confirmation_matches_entry BEFORE INSERT ON dues_paymentconfirmation "
        "FOR EACH ROW EXECUTE FUNCTION dues_confirmation_matches_entry();"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS dues_confirmation_matches_entry ON dues_paymentconfirmation;"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS dues_confirmation_matches_entry();")
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("dues", "0001_ledger"), ("union", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
