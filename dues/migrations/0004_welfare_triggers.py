"""On PostgreSQL, the welfare ledger and its decisions keep their promises by themselves.

- Fund rules, fund ledger rows, decisions, conflicts of interest, documents and transfer
  approvals refuse UPDATE and DELETE (the append-only function of union 0002).
- A fund ledger row is in its fund's currency; a reversal reverses a row of the same fund
  (and, for payouts, of the same payout).
- Money a fund chooses to send out (a payout, a fee, a transfer out) is refused when it
  would leave the fund below zero. The check locks the fund row and sums the fund again
  in a fresh snapshot, so two payouts racing for the last money cannot both pass.
  Reversals of dues shares are involuntary and always recorded.
- The two rows of a transfer sum to zero: checked at commit (a deferred constraint
  trigger), so both rows can be written in any order within the transaction.
- A payout is inserted only for an approved application of the same fund and currency,
  never for more than was granted; afterwards the only change allowed is paid -> reversed.
- A decision must repeat its application's member and submitter (whom CHECK constraints
  keep from deciding), and nobody who declared a conflict of interest may approve.
- A transfer approval must repeat the transfer's requester (who cannot approve it).
"""

from django.db import migrations

APPEND_ONLY = [
    "dues_fundrule",
    "dues_fundentry",
    "dues_decision",
    "dues_conflictofinterest",
    "dues_applicationdocument",
    "dues_transferapproval",
]

FUNCTIONS = """
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
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION dues_fund_not_below_zero() RETURNS trigger AS $$
DECLARE
  balance bigint;
BEGIN
  -- Serialise with every other payout from this fund, then sum in a fresh snapshot
  -- (READ COMMITTED: each statement here sees what the lock holder committed).
  PERFORM 1 FROM dues_fund WHERE id = NEW.fund_id FOR NO KEY UPDATE;
  SELECT COALESCE(SUM(amount), 0) INTO balance FROM dues_fundentry WHERE fund_id = NEW.fund_id;
  IF balance < 0 THEN
    RAISE EXCEPTION 'the fund cannot afford this' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION dues_transfer_balanced() RETURNS trigger AS $$
DECLARE
  total numeric;
  rows_count integer;
  currencies integer;
BEGIN
  SELECT COALESCE(SUM(amount), 0), COUNT(*), COUNT(DISTINCT currency)
    INTO total, rows_count, currencies
    FROM dues_fundentry WHERE transfer_id = NEW.transfer_id;
  IF total <> 0 OR rows_count <> 2 OR currencies <> 1 THEN
    RAISE EXCEPTION 'a transfer is two rows in one currency that sum to zero'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION dues_payout_insert_check() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM dues_welfareapplication a
    WHERE a.id = NEW.application_id AND a.status = 'approved'
      AND a.fund_id = NEW.fund_id AND a.currency = NEW.currency
      AND NEW.amount <= a.amount_granted
  ) THEN
    RAISE EXCEPTION 'a payout needs an approved application of its fund'
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status <> 'paid' THEN
    RAISE EXCEPTION 'a payout starts paid' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION dues_payout_change_check() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('solidaire.rewrap_keys', true) = 'on' THEN
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

CREATE OR REPLACE FUNCTION dues_decision_check() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM dues_welfareapplication a
    WHERE a.id = NEW.application_id AND a.member_id = NEW.applicant_id
      AND a.submitted_by_id = NEW.submitted_by_id
  ) THEN
    RAISE EXCEPTION 'decision does not match its application' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.verdict IN ('approve', 'emergency') AND EXISTS (
    SELECT 1 FROM dues_conflictofinterest c
    WHERE c.application_id = NEW.application_id AND c.member_id = NEW.decider_id
  ) THEN
    RAISE EXCEPTION 'a conflicted member cannot approve' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION dues_transfer_approval_check() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM dues_fundtransfer t
    WHERE t.id = NEW.transfer_id AND t.requested_by_id = NEW.requested_by_id
  ) THEN
    RAISE EXCEPTION 'approval does not match its transfer' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGERS = """
CREATE TRIGGER dues_fundentry_check BEFORE INSERT ON dues_fundentry
  FOR EACH ROW EXECUTE FUNCTION dues_fundentry_check();
CREATE TRIGGER dues_fund_not_below_zero AFTER INSERT ON dues_fundentry
  FOR EACH ROW WHEN (NEW.amount < 0 AND NEW.kind IN ('payout', 'fee', 'transfer'))
  EXECUTE FUNCTION dues_fund_not_below_zero();
CREATE CONSTRAINT TRIGGER dues_transfer_balanced AFTER INSERT ON dues_fundentry
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.transfer_id IS NOT NULL)
  EXECUTE FUNCTION dues_transfer_balanced();
CREATE TRIGGER dues_payout_insert_check BEFORE INSERT ON dues_payout
  FOR EACH ROW EXECUTE FUNCTION dues_payout_insert_check();
CREATE TRIGGER dues_payout_change_check BEFORE UPDATE OR DELETE ON dues_payout
  FOR EACH ROW EXECUTE FUNCTION dues_payout_change_check();
CREATE TRIGGER dues_decision_check BEFORE INSERT ON dues_decision
  FOR EACH ROW EXECUTE FUNCTION dues_decision_check();
CREATE TRIGGER dues_transfer_approval_check BEFORE INSERT ON dues_transferapproval
  FOR EACH ROW EXECUTE FUNCTION dues_transfer_approval_check();
"""

DROP = """
DROP TRIGGER IF EXISTS dues_transfer_approval_check ON dues_transferapproval;
DROP TRIGGER IF EXISTS dues_decision_check ON dues_decision;
DROP TRIGGER IF EXISTS dues_payout_change_check ON dues_payout;
DROP TRIGGER IF EXISTS dues_payout_insert_check ON dues_payout;
DROP TRIGGER IF EXISTS dues_transfer_balanced ON dues_fundentry;
DROP TRIGGER IF EXISTS dues_fund_not_below_zero ON dues_fundentry;
DROP TRIGGER IF EXISTS dues_fundentry_check ON dues_fundentry;
DROP FUNCTION IF EXISTS dues_transfer_approval_check();
DROP FUNCTION IF EXISTS dues_decision_check();
DROP FUNCTION IF EXISTS dues_payout_change_check();
DROP FUNCTION IF EXISTS dues_payout_insert_check();
DROP FUNCTION IF EXISTS dues_transfer_balanced();
DROP FUNCTION IF EXISTS dues_fund_not_below_zero();
DROP FUNCTION IF EXISTS dues_fundentry_check();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only();"
        )
    # params=None: the bodies hold literal % signs that are not placeholders.
    schema_editor.execute(FUNCTIONS, params=None)
    schema_editor.execute(TRIGGERS, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP, params=None)
    for table in APPEND_ONLY:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("dues", "0003_welfare")]
    operations = [migrations.RunPython(forwards, backwards)]
