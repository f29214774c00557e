"""Welfare benchmarks: a fund's balance and the members' monthly figures over 1,000,000
fund ledger rows, each against hand-written SQL in the same run; and what recording the
funds' share costs a dues payment.

    tests/with_services.sh .venv/bin/python -m tests.bench.welfare [--rows N]
    make bench BENCH_ARGS="--only welfare"

- balance: dues.welfare.selectors.fund_balance (the ORM aggregate every payout runs under
  its lock) against `SELECT SUM(amount) ... WHERE fund_id = %s`. Target >= 0.5x.
- office figures: selectors.funds_with_figures (balance, committed, available of every
  fund) against one hand-written GROUP BY. Target >= 0.5x.
- monthly figures: dues.welfare.transparency.fund_figures for a member's funds (the
  GROUP BY fund, month, kind and the suppression of small cells in Python) against the
  hand-written GROUP BY alone. Target >= 0.5x.
- share statements: the statements of a cash payment with two funds taking a share,
  against the same payment with none (target: at most 1 more).

The seed is written with SQL (dues payments spread over three years, four funds taking a
share of each): what is measured is reading, not seeding.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import connection

ROWS = 1_000_000
FUNDS = 4
REPEAT = 7
TARGET = 0.5


def _seed(rows: int) -> dict[str, Any]:
    from dues.models import LedgerEntry
    from dues.services import plans
    from dues.welfare.models import Fund, FundEntry, FundRule, Purpose
    from union.models import Branch, Member, MemberStatus, RegistrationSource

    national, _ = Branch.objects.get_or_create(
        code="BNAT", defaults={"name": "Bench national", "is_national": True}
    )
    branch, _ = Branch.objects.get_or_create(
        code="BWF", defaults={"name": "Bench welfare", "parent": national}
    )
    plans.set_dues_plan(
        actor=None,
        branch=branch,
        monthly_amount=1000,
        solidarity_amount=500,
        confirm_threshold=10**9,
    )
    members = Member.objects.bulk_create(
        Member(
            branch=branch,
            number=f"BWF-{i:07d}",
            working_name=f"Bench member {i}",
            status=MemberStatus.ACTIVE,
            joined_on=date(2020, 1, 1),
            source=RegistrationSource.IMPORT,
        )
        for i in range(200)
    )
    funds = []
    for purpose in list(Purpose)[:FUNDS]:
        owner = national if purpose == Purpose.LEGAL else branch
        fund = Fund.objects.create(branch=owner, purpose=purpose, currency="XOF")
        FundRule.objects.create(fund=fund, effective_from=date(2020, 1, 1), share_bp=500)
        funds.append(fund)
    payments = rows // FUNDS
    ledger, entries = LedgerEntry._meta.db_table, FundEntry._meta.db_table
    first, last = members[0].pk, members[-1].pk
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {entries} DISABLE TRIGGER USER")
        cursor.execute(
            f"""
            INSERT INTO {ledger} (public_id, member_id, branch_id, kind, amount, currency,
              booked_on, method, provider, external_id, receipt_number, reason,
              needs_confirmation, recorded_at)
            SELECT gen_random_uuid(), %s + (i %% (%s - %s + 1)), %s, 'payment',
              -(500 + (i %% 40) * 50), 'XOF', DATE '2024-01-01' + (i %% 1095), 'cash', '', '',
              '', '', false, now()
            FROM generate_series(1, %s) AS i
            """,  # noqa: S608
            [first, last, first, branch.pk, payments],
        )
        cursor.execute(
            f"""
            INSERT INTO {entries} (fund_id, kind, amount, currency, booked_on, dues_entry_id,
              source, restricted, recorded_at)
            SELECT f.id, 'share', (-e.amount * 500) / 10000, 'XOF', e.booked_on, e.id, '',
              false, now()
            FROM {ledger} e CROSS JOIN (SELECT unnest(%s::bigint[]) AS id) f
            WHERE e.branch_id = %s
            """,  # noqa: S608
            [[fund.pk for fund in funds], branch.pk],
        )
        cursor.execute(f"ALTER TABLE {entries} ENABLE TRIGGER USER")
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(f"SELECT COUNT(*) FROM {entries}")  # noqa: S608
        count = cursor.fetchone()[0]
    return {"branch": branch, "funds": funds, "rows": count, "members": members}


def _median(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _raw(sql: str, params: list[Any]) -> Callable[[], list[tuple[Any, ...]]]:
    def run() -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def _line(label: str, ours: float, hand: float) -> tuple[str, bool]:
    ratio = hand / ours if ours else 0.0
    ok = ratio >= TARGET
    return (
        f"   {label:<46}{ours * 1000:9.1f}{hand * 1000:9.1f}{ratio:8.2f}x  "
        f"{'meets' if ok else 'BELOW'} (>= {TARGET}x)",
        ok,
    )


def _share_statements() -> tuple[int, int]:
    """Statements of one cash payment as before the welfare funds (the hook switched off),
    and with two funds of the branch taking a share."""
    from django.test.utils import CaptureQueriesContext

    from dues import money
    from dues.services import ledger, plans
    from dues.services.ledger import counting
    from dues.welfare.models import Fund, FundRule, Purpose
    from tests.bench.data import make_officer
    from union.models import Branch, Member, MemberStatus, RegistrationSource, Role

    national = Branch.objects.get(code="BNAT")
    branch = Branch.objects.create(code="BWX", name="Bench shares", parent=national)
    plans.set_dues_plan(
        actor=None,
        branch=branch,
        monthly_amount=1000,
        solidarity_amount=500,
        confirm_threshold=10**9,
    )
    for purpose in (Purpose.EMERGENCY, Purpose.MEDICAL):
        fund = Fund.objects.create(branch=branch, purpose=purpose, currency="XOF")
        FundRule.objects.create(fund=fund, effective_from=date(2020, 1, 1), share_bp=1000)
    officer = make_officer(branch=branch, role=Role.TREASURER, scope=branch, number="BWX-1")
    member = Member.objects.create(
        branch=branch,
        number="BWX-2",
        working_name="Bench payer",
        status=MemberStatus.ACTIVE,
        joined_on=date(2020, 1, 1),
        source=RegistrationSource.IMPORT,
    )
    today = money.local_today(branch.time_zone)

    def statements(receipt: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            ledger.record_payment(
                actor=officer.user,  # type: ignore[arg-type]
                member=member,
                amount=1000,
                currency="XOF",
                method="cash",
                receipt_number=receipt,
                paid_on=today,
            )
        return len(ctx.captured_queries)

    statements("W0")  # warm the per-request caches (roles, plan)
    hook = counting.record_dues_share
    counting.record_dues_share = lambda entry: None  # type: ignore[assignment]
    try:
        before = statements("W1")
    finally:
        counting.record_dues_share = hook  # type: ignore[assignment]
    return before, statements("W2")


def run(rows: int = ROWS) -> list[dict[str, Any]]:
    from dues.welfare import selectors, transparency
    from dues.welfare.models import Fund, FundEntry, WelfareApplication

    start = time.perf_counter()
    seed = _seed(rows)
    print(
        f"Seeded {seed['rows']:,} fund ledger rows ({FUNDS} funds, three years) in "
        f"{time.perf_counter() - start:.1f} s.",
        flush=True,
    )
    entries = FundEntry._meta.db_table
    applications = WelfareApplication._meta.db_table
    fund = seed["funds"][0]
    ids = [f.pk for f in seed["funds"]]
    results = []
    lines = [
        "",
        f"== Welfare funds over {seed['rows']:,} ledger rows (median of {REPEAT}) ==",
        f"   {'':<46}{'ours ms':>9}{'hand ms':>9}{'ratio':>9}",
    ]

    ours = _median(lambda: selectors.fund_balance(fund.pk))
    hand = _median(
        _raw(f"SELECT COALESCE(SUM(amount), 0) FROM {entries} WHERE fund_id = %s", [fund.pk])  # noqa: S608
    )
    line, ok = _line("one fund's balance", ours, hand)
    lines.append(line)
    results.append({"name": "balance", "ours": ours, "hand": hand, "ok": ok})

    ours = _median(lambda: list(selectors.funds_with_figures(Fund.objects.filter(pk__in=ids))))
    hand = _median(
        _raw(
            f"""
            SELECT f.id, COALESCE(b.total, 0), COALESCE(c.total, 0)
            FROM dues_fund f
            LEFT JOIN (SELECT fund_id, SUM(amount) AS total FROM {entries}
                       WHERE fund_id = ANY(%s) GROUP BY fund_id) b ON b.fund_id = f.id
            LEFT JOIN (SELECT fund_id, SUM(amount_granted) AS total FROM {applications}
                       WHERE status = 'approved' GROUP BY fund_id) c ON c.fund_id = f.id
            WHERE f.id = ANY(%s)
            """,  # noqa: S608
            [ids, ids],
        )
    )
    line, ok = _line(f"office figures of {FUNDS} funds", ours, hand)
    lines.append(line)
    results.append({"name": "office", "ours": ours, "hand": hand, "ok": ok})

    member_funds = transparency.funds_for_member(seed["branch"])
    member_ids = [f.pk for f in member_funds]
    ours = _median(lambda: transparency.fund_figures(member_funds))
    hand = _median(
        _raw(
            f"""
            SELECT fund_id, date_trunc('month', booked_on) AS month, kind, SUM(amount), COUNT(*)
            FROM {entries} WHERE fund_id = ANY(%s) GROUP BY 1, 2, 3
            """,  # noqa: S608
            [member_ids],
        )
    )
    line, ok = _line(f"monthly figures of a member's {len(member_funds)} funds", ours, hand)
    lines.append(line)
    results.append({"name": "monthly", "ours": ours, "hand": hand, "ok": ok})

    without, with_funds = _share_statements()
    ok = with_funds - without <= 1
    lines.append(
        f"   a cash payment: {without} statements before the funds, {with_funds} with two "
        f"funds taking a share (+{with_funds - without}; target <= +1: "
        f"{'meets' if ok else 'ABOVE'})"
    )
    results.append({"name": "share statements", "without": without, "with": with_funds, "ok": ok})
    print("\n".join(lines), flush=True)
    return results


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.bench.welfare")
    parser.add_argument("--rows", type=int, default=ROWS)
    args = parser.parse_args()
    from tests.bench.standalone import fresh_test_database

    with fresh_test_database():
        results = run(rows=args.rows)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
