"""A payout's one allowed rewrite follows key rotation's new rule, and SQLite guards it too.

PostgreSQL: key rotation now runs as the key-rotation role (union.append_only), no longer
with a session setting that any session could set; the payout trigger of 0004 lets that
role re-encrypt the reversal reason in place, and nothing else but paid -> reversed.
SQLite (the embedded default): a payout is never deleted (except by `flush`, which lifts
the append-only triggers for its one transaction).
"""

from django.db import migrations

from union import append_only

PAYOUT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION dues_payout_change_check() RETURNS trigger AS $$
BEGIN
  -- Key rotation re-encrypts the reversal reason in place, as the key-rotation role.
  IF TG_OP = 'UPDATE' AND current_user = '{append_only.ROTATION_ROLE}' THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.status = 'paid' AND NEW.status = 'reversed'
     AND (NEW.id, NEW.public_id, NEW.application_id, NEW.fund_id, NEW.amount, NEW.fee,
          NEW.currency, NEW.method, NEW.provider, NEW.reference, NEW.paid_on,
          NEW.recorded_by_id, NEW.recorded_at)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.public_id, OLD.application_id, OLD.fund_id, OLD.amount, OLD.fee,
          OLD.currency, OLD.method, OLD.provider, OLD.reference, OLD.paid_on,
          OLD.recorded_by_id, OLD.recorded_at) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'a payout can only be reversed, once' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

SQLITE_PAYOUT = (
    "CREATE TRIGGER IF NOT EXISTS dues_payout_never_deleted BEFORE DELETE ON dues_payout "
    f"WHEN NOT EXISTS (SELECT 1 FROM {append_only.LIFT_TABLE}) "
    "BEGIN SELECT RAISE(ABORT, 'dues_payout is append-only'); END"
)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PAYOUT_FUNCTION, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(append_only.sqlite_lift_table_sql())
        schema_editor.execute(SQLITE_PAYOUT)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS dues_payout_never_deleted")


class Migration(migrations.Migration):
    dependencies = [("dues", "0007_welfare_append_only_on_sqlite")]
    operations = [migrations.RunPython(forwards, backwards)]
