"""Whatever happens to an account, the ledger adds up.

Hypothesis plays random sequences of charges, cash payments (some above the threshold),
confirmations, waivers and corrections on a fresh branch and member, then checks:
the balance is the sum of the rows that count; it equals what is open minus what is free;
no allocation takes more than a charge (or a payment) holds; credit never sits free while
a month is open; and the summary shown to people agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dues import money, selectors
from dues.models import Allocation, EntryKind, LedgerEntry
from dues.selectors import counts_q
from dues.services import ledger, plans, runs
from tests.conftest import _officer
from tests.factories import BranchFactory, MemberFactory
from union.models import Role

pytestmark = pytest.mark.django_db

BASE = date(2026, 6, 1)
THRESHOLD = 2500

operations = st.lists(
    st.one_of(
        st.tuples(st.just("charge"), st.integers(0, 5)),
        st.tuples(st.just("pay"), st.integers(1, 4000)),
        st.tuples(st.just("confirm"), st.integers(0, 20)),
        st.tuples(st.just("waive"), st.integers(1, 3000)),
        st.tuples(st.just("reverse"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=14,
)


def _check(member_id: int) -> None:
    counted = LedgerEntry.objects.filter(member_id=member_id).filter(counts_q())
    balance = counted.aggregate(total=Sum("amount"))["total"] or 0
    settled: dict[int, int] = {}
    used: dict[int, int] = {}
    for row in Allocation.objects.filter(member_id=member_id):
        settled[row.debit_id] = settled.get(row.debit_id, 0) + row.amount
        used[row.credit_id] = used.get(row.credit_id, 0) + row.amount
    pairs = (
        Allocation.objects.filter(member_id=member_id)
        .values("credit_id", "debit_id")
        .annotate(total=Sum("amount"))
    )
    assert all(p["total"] >= 0 for p in pairs), "a release took back more than was settled"
    counted_ids = set(counted.values_list("id", flat=True))
    open_total = free_total = 0
    for entry in LedgerEntry.objects.filter(member_id=member_id):
        if entry.id not in counted_ids:
            assert not settled.get(entry.id) and not used.get(entry.id)
            continue
        if entry.amount > 0:
            assert 0 <= settled.get(entry.id, 0) <= entry.amount, "over-allocated debit"
            open_total += entry.amount - settled.get(entry.id, 0)
        else:
            assert 0 <= used.get(entry.id, 0) <= -entry.amount, "over-allocated credit"
            free_total += -entry.amount - used.get(entry.id, 0)
    assert balance == open_total - free_total
    assert open_total == 0 or free_total == 0, "credit left free while a month is open"
    member = LedgerEntry.objects.filter(member_id=member_id).first()
    if member is not None:
        summary = selectors.summary(member.member, today=date(2026, 11, 15))
        assert summary.balance == balance
        open_charges = selectors.open_charges().filter(member_id=member_id).count()
        assert summary.months_owed == open_charges


@dataclass
class Row:
    """What the test itself believes about one ledger row."""

    amount: int
    kind: str
    counts: bool
    pending: bool = False
    reversed: bool = False
    confirmed: bool = False


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_any_sequence_keeps_the_ledger_consistent(ops, national):
    branch = BranchFactory(parent=national)
    plans.set_dues_plan(
        actor=None,
        branch=branch,
        monthly_amount=1000,
        solidarity_amount=500,
        confirm_threshold=THRESHOLD,
    )
    treasurer = _officer(branch, Role.TREASURER).user
    secretary = _officer(branch, Role.SECRETARY).user
    member = MemberFactory(branch=branch, joined_on=date(2020, 1, 1))
    today = money.local_today(branch.time_zone)
    model: dict[int, Row] = {}
    receipts = 0

    def balance() -> int:
        return sum(row.amount for row in model.values() if row.counts)

    for op, value in ops:
        ids = sorted(model)
        if op == "charge":
            period = money.add_months(BASE, value)
            runs.charge_period(period=period, branch=branch)
            runs.settle_credit(branch=branch)
            charged = LedgerEntry.objects.filter(member=member, period=period).first()
            member.refresh_from_db()
            if charged is None:
                assert member.status == "lapsed"  # lapsed members are not charged
            else:
                model.setdefault(charged.pk, Row(1000, EntryKind.CHARGE, counts=True))
        elif op == "pay":
            receipts += 1
            entry = ledger.record_payment(
                actor=treasurer,
                member=member,
                amount=value,
                currency=branch.currency,
                method="cash",
                receipt_number=f"R{receipts}",
                paid_on=today,
            )
            above = value > THRESHOLD
            model[entry.pk] = Row(-value, EntryKind.PAYMENT, counts=not above, pending=above)
        elif op == "confirm" and ids:
            target = ids[value % len(ids)]
            row = model[target]
            ok = row.pending and not row.reversed
            try:
                ledger.confirm_payment(actor=secretary, entry=LedgerEntry.objects.get(pk=target))
            except ValidationError:
                assert not ok
            else:
                assert ok or row.confirmed  # a second confirmation is a no-op
                row.counts, row.pending, row.confirmed = True, False, True
        elif op == "waive":
            owed = max(balance(), 0)
            try:
                entry = ledger.grant_waiver(
                    actor=treasurer, member=member, amount=value, reason="test"
                )
            except ValidationError:
                assert value > owed
            else:
                assert value <= owed
                model[entry.pk] = Row(-value, EntryKind.WAIVER, counts=True)
        elif op == "reverse" and ids:
            target = ids[value % len(ids)]
            row = model[target]
            try:
                entry = ledger.reverse_entry(
                    actor=treasurer, entry=LedgerEntry.objects.get(pk=target), reason="test"
                )
            except ValidationError:
                assert row.kind == EntryKind.REVERSAL
            else:
                assert row.kind != EntryKind.REVERSAL
                if not row.reversed:
                    # A big correction of a row that counts waits for a second officer.
                    above = abs(row.amount) > THRESHOLD
                    model[entry.pk] = Row(
                        -row.amount,
                        EntryKind.REVERSAL,
                        counts=row.counts and not above,
                        pending=row.counts and above,
                    )
                    row.reversed, row.pending = True, False
        _check(member.pk)
        counted = LedgerEntry.objects.filter(member=member).filter(counts_q())
        assert (counted.aggregate(total=Sum("amount"))["total"] or 0) == balance()
