"""The funds' share of dues: written with the dues row that counts, in its transaction.

dues.services.ledger calls `record_dues_share` once, where a ledger row starts to count
(a cash payment without a second officer, a confirmation, a card payment, a correction,
a card refund). Each case is one INSERT ... SELECT: the rules in force on the payment's
business date are read by the same statement that writes the shares, so recording the
share adds one statement to a dues payment, and nothing when no fund takes a share.

A correction copies the recorded shares with the opposite sign (never a recomputation
under today's rules); a partial card refund takes back the same fraction of each share,
rounded so that refunds of the whole payment take back exactly the whole share. These are
involuntary: written even when they leave a fund below zero (the fund then pays nothing
until it is back above).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from dues.models import EntryKind, LedgerEntry
from dues.welfare.models import Fund, FundEntry, FundRule
from union.models import Branch

_ENTRY = FundEntry._meta.db_table
_FUND = Fund._meta.db_table
_RULE = FundRule._meta.db_table
_BRANCH = Branch._meta.db_table
_LEDGER = LedgerEntry._meta.db_table

_COLUMNS = (
    "fund_id, kind, amount, currency, booked_on, dues_entry_id, reverses_id, "
    "source, restricted, recorded_at"
)

# Each fund of the member's branch and of the national level, in the payment's currency,
# with the rule in force on the payment's date; integer shares, rounded down.
SHARES_SQL = f"""
INSERT INTO {_ENTRY} ({_COLUMNS})
SELECT f.id, 'share', (CAST(%s AS BIGINT) * r.share_bp) / 10000, f.currency, %s, %s, NULL,
       '', %s, %s
FROM {_FUND} f
JOIN {_RULE} r ON r.fund_id = f.id
WHERE f.currency = %s
  AND (f.branch_id = %s OR f.branch_id IN (SELECT b.id FROM {_BRANCH} b WHERE b.is_national))
  AND r.effective_from = (
    SELECT MAX(r2.effective_from) FROM {_RULE} r2
    WHERE r2.fund_id = f.id AND r2.effective_from <= %s
  )
  AND (CAST(%s AS BIGINT) * r.share_bp) / 10000 > 0
"""  # noqa: S608 - table names from the models, values as parameters

REVERSAL_SQL = f"""
INSERT INTO {_ENTRY} ({_COLUMNS})
SELECT s.fund_id, 'share_reversal', -s.amount, s.currency, %s, %s, s.id, '', %s, %s
FROM {_ENTRY} s
WHERE s.dues_entry_id = %s AND s.kind = 'share'
"""  # noqa: S608

# What is due back on each share after this refund: share x refunded so far / paid,
# less what earlier refunds took back.
REFUND_SQL = f"""
INSERT INTO {_ENTRY} ({_COLUMNS})
SELECT d.fund_id, 'share_reversal', d.already - d.due, d.currency, %s, %s, d.id, '', %s, %s
FROM (
  SELECT s.id, s.fund_id, s.currency,
    (s.amount * CAST((SELECT SUM(x.amount) FROM {_LEDGER} x WHERE x.refund_of_id = %s) AS BIGINT))
      / (SELECT -p.amount FROM {_LEDGER} p WHERE p.id = %s) AS due,
    CAST(COALESCE((SELECT -SUM(y.amount) FROM {_ENTRY} y WHERE y.reverses_id = s.id), 0)
      AS BIGINT) AS already
  FROM {_ENTRY} s
  WHERE s.dues_entry_id = %s AND s.kind = 'share'
) d
WHERE d.due > d.already
"""  # noqa: S608


def record_dues_share(entry: LedgerEntry) -> None:
    """Write the funds' rows for a dues ledger row that has just started to count.

    Call inside the transaction that made it count (under the member's lock). Payments
    bring shares in; corrections of payments and card refunds take them back. Other rows
    (charges, waivers, corrections of charges) touch no fund and cost no statement.
    """
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    day = ops.adapt_datefield_value(entry.booked_on)
    if entry.kind == EntryKind.PAYMENT:
        paid = -entry.amount
        params = [paid, day, entry.pk, False, now, entry.currency, entry.branch_id, day, paid]
        sql = SHARES_SQL
    elif entry.kind == EntryKind.REVERSAL and entry.reverses_id and entry.amount > 0:
        params = [day, entry.pk, False, now, entry.reverses_id]
        sql = REVERSAL_SQL
    elif entry.kind == EntryKind.REFUND and entry.refund_of_id:
        payment = entry.refund_of_id
        params = [day, entry.pk, False, now, payment, payment, payment]
        sql = REFUND_SQL
    else:
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# SHARES_SQL for many payments in one statement: the same funds, rules and rounding, each
# payment's row of parameters joined in from a list of values.
_PAYMENT_ROW = "(CAST(%s AS BIGINT), %s, CAST(%s AS BIGINT), %s, CAST(%s AS BIGINT))"
MANY_SHARES_SQL = f"""
WITH p (paid, day, entry_id, currency, branch_id) AS (VALUES {{rows}})
INSERT INTO {_ENTRY} ({_COLUMNS})
SELECT f.id, 'share', (p.paid * r.share_bp) / 10000, f.currency, p.day, p.entry_id, NULL,
       '', %s, %s
FROM p
JOIN {_FUND} f ON f.currency = p.currency
  AND (f.branch_id = p.branch_id
       OR f.branch_id IN (SELECT b.id FROM {_BRANCH} b WHERE b.is_national))
JOIN {_RULE} r ON r.fund_id = f.id
WHERE r.effective_from = (
    SELECT MAX(r2.effective_from) FROM {_RULE} r2
    WHERE r2.fund_id = f.id AND r2.effective_from <= p.day
  )
  AND (p.paid * r.share_bp) / 10000 > 0
"""  # noqa: S608 - table names from the models, values as parameters


def record_dues_shares(payments: list[LedgerEntry]) -> None:
    """record_dues_share for payments that have just started to count, in one statement
    whatever their number (a batch of card payments). Call as record_dues_share."""
    if not payments:
        return
    if any(entry.kind != EntryKind.PAYMENT for entry in payments):
        raise ValueError("record_dues_shares takes payments only")
    ops = connection.ops
    params: list[Any] = []
    for entry in payments:
        day = ops.adapt_datefield_value(entry.booked_on)
        params += [-entry.amount, day, entry.pk, entry.currency, entry.branch_id]
    params += [False, ops.adapt_datetimefield_value(timezone.now())]
    sql = MANY_SHARES_SQL.replace("{rows}", ", ".join([_PAYMENT_ROW] * len(payments)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
