"""The two-officer rule both ways, in the database itself (PostgreSQL).

An officer's cash or mobile-money payment above the branch's threshold, and an officer's
correction of any row above it, must wait for a second officer (needs_confirmation): a
row that would count at once is refused. A confirmation of a correction must be of one
whose corrected row counts: the correction of a row that never counted never counts.
"""

from importlib import import_module

from django.db import migrations

THRESHOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION dues_second_officer_above_threshold() RETURNS trigger AS $$
BEGIN
  IF NEW.recorded_by_id IS NOT NULL AND NOT NEW.needs_confirmation
     AND NEW.kind IN ('payment', 'reversal')
     AND abs(NEW.amount) > (
       SELECT p.confirm_threshold FROM dues_duesplan p WHERE p.branch_id = NEW.branch_id
     )
  THEN
    RAISE EXCEPTION 'above the threshold an entry waits for a second officer'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

CONFIRMATION_FUNCTION = """
CREATE OR REPLACE FUNCTION dues_confirmation_matches_entry() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM dues_ledgerentry e
    WHERE e.id = NEW.entry_id AND e.needs_confirmation
      AND e.recorded_by_id IS NOT DISTINCT FROM NEW.recorded_by_id
      AND (e.kind <> 'reversal' OR EXISTS (
        SELECT 1 FROM dues_ledgerentry o
        WHERE o.id = e.reverses_id AND (NOT o.needs_confirmation OR EXISTS (
          SELECT 1 FROM dues_paymentconfirmation c WHERE c.entry_id = o.id
        ))
      ))
  ) THEN
    RAISE EXCEPTION 'confirmation does not match its entry' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# Going back restores 0002's function.
OLD_CONFIRMATION_FUNCTION = import_module(
    "dues.migrations.0002_append_only_triggers"
).CONFIRMATION_FUNCTION


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(THRESHOLD_FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER dues_second_officer_above_threshold BEFORE INSERT ON dues_ledgerentry "
        "FOR EACH ROW EXECUTE FUNCTION dues_second_officer_above_threshold();"
    )
    schema_editor.execute(CONFIRMATION_FUNCTION, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS dues_second_officer_above_threshold ON dues_ledgerentry;"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS dues_second_officer_above_threshold();")
    schema_editor.execute(OLD_CONFIRMATION_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [("dues", "0003_append_only_on_sqlite")]
    operations = [migrations.RunPython(forwards, backwards)]
