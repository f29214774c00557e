"""The database keeps the new welfare promises too (0009's tables and kinds).

- Loan repayments and statement lines are append-only (PostgreSQL and SQLite).
- The arrears a payout takes for the member's dues are money the fund chooses to send:
  refused below zero like a payout; their return must reverse the payout's arrears row.
- A payout's one allowed change (paid -> reversed) leaves its arrears as they were.
- SQLite rebuilds a table to add a column, and its triggers go with it: those of the
  append-only tables 0009 changed, and the payout's (0008), are made again.
"""

from django.db import migrations

from union import append_only

TABLES = ["dues_loanrepayment", "dues_statementline"]
# Append-only tables 0009 adds columns to (SQLite rebuilds them without their triggers).
REBUILT = ["dues_cashbookclose", "dues_fundentry", "dues_fundrule", "dues_ledgerentry"]

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION dues_fundentry_check() RETURNS trigger AS $$
DECLARE
  fund_currency varchar;
BEGIN
  SELECT currency INTO fund_currency FROM dues_fund WHERE id = NEW.fund_id;
  IF fund_currency IS DISTINCT FROM NEW.currency THEN
    RAISE EXCEPTION 'fund entry not in its fund''s currency' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.reverses_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM dues_fundentry r
    WHERE r.id = NEW.reverses_id AND r.fund_id = NEW.fund_id
      AND r.payout_id IS NOT DISTINCT FROM NEW.payout_id
      AND (
        (NEW.kind = 'share_reversal' AND r.kind = 'share')
        OR (NEW.kind = 'payout_reversal' AND r.kind = 'payout')
        OR (NEW.kind = 'fee_reversal' AND r.kind = 'fee')
        OR (NEW.kind = 'arrears_return' AND r.kind = 'arrears')
      )
  ) THEN
    RAISE EXCEPTION 'a reversal must reverse a matching row of its fund'
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.payout_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM dues_payout p WHERE p.id = NEW.payout_id AND p.fund_id = NEW.fund_id
  ) THEN
    RAISE EXCEPTION 'payout row in another fund' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.repayment_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM dues_loanrepayment l
    JOIN dues_welfareapplication a ON a.id = l.application_id
    WHERE l.id = NEW.repayment_id AND a.fund_id = NEW.fund_id AND l.amount = NEW.amount
      AND a.loan
  ) THEN
    RAISE EXCEPTION 'a repayment row repays a loan of its fund' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION dues_payout_change_check() RETURNS trigger AS $$
BEGIN
  -- Key rotation re-encrypts the reversal reason in place, as the key-rotation role.
  IF TG_OP = 'UPDATE' AND current_user = '{append_only.ROTATION_ROLE}' THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.status = 'paid' AND NEW.status = 'reversed'
     AND (NEW.id, NEW.public_id, NEW.application_id, NEW.fund_id, NEW.amount, NEW.fee,
          NEW.arrears, NEW.arrears_entry_id,
          NEW.currency, NEW.method, NEW.provider, NEW.reference, NEW.paid_on,
          NEW.recorded_by_id, NEW.recorded_at)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.public_id, OLD.application_id, OLD.fund_id, OLD.amount, OLD.fee,
          OLD.arrears, OLD.arrears_entry_id,
          OLD.currency, OLD.method, OLD.provider, OLD.reference, OLD.paid_on,
          OLD.recorded_by_id, OLD.recorded_at) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'a payout can only be reversed, once' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

TRIGGER = """
DROP TRIGGER IF EXISTS dues_fund_not_below_zero ON dues_fundentry;
CREATE TRIGGER dues_fund_not_below_zero AFTER INSERT ON dues_fundentry
  FOR EACH ROW WHEN (NEW.amount < 0 AND NEW.kind IN ('payout', 'fee', 'arrears', 'transfer'))
  EXECUTE FUNCTION dues_fund_not_below_zero();
"""

OLD_TRIGGER = """
DROP TRIGGER IF EXISTS dues_fund_not_below_zero ON dues_fundentry;
CREATE TRIGGER dues_fund_not_below_zero AFTER INSERT ON dues_fundentry
  FOR EACH ROW WHEN (NEW.amount < 0 AND NEW.kind IN ('payout', 'fee', 'transfer'))
  EXECUTE FUNCTION dues_fund_not_below_zero();
"""


SQLITE_PAYOUT = (
    "CREATE TRIGGER IF NOT EXISTS dues_payout_never_deleted BEFORE DELETE ON dues_payout "
    f"WHEN NOT EXISTS (SELECT 1 FROM {append_only.LIFT_TABLE}) "
    "BEGIN SELECT RAISE(ABORT, 'dues_payout is append-only'); END"
)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only();"
            )
        schema_editor.execute(FUNCTIONS, params=None)
        schema_editor.execute(TRIGGER, params=None)
    elif vendor == "sqlite":
        for table in TABLES + REBUILT:
            for sql in append_only.sqlite_triggers_sql(table):
                schema_editor.execute(sql)
        schema_editor.execute(SQLITE_PAYOUT)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(OLD_TRIGGER, params=None)
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    elif vendor == "sqlite":
        for table in TABLES:
            for sql in append_only.sqlite_drop_triggers_sql(table):
                schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("dues", "0009_welfare_rules_loans_reconciliation")]
    operations = [migrations.RunPython(forwards, backwards)]
