"""Whatever happens to a fund, its ledger adds up.

A Hypothesis state machine plays dues payments and their corrections (the fund's share in
and back out), gifts, applications approved by the committee, payouts (some posted twice,
some the fund cannot afford) and reversals of failed payouts (with or without the fee),
then checks after every step (LendingMachine adds arrears taken from payouts, loans and
their repayments):

- the balance is what the test itself expects, and the sum of the ledger;
- each dues payment's share is the rule's share, and a corrected payment's shares sum to 0;
- an application is paid exactly when it has one unreversed payout, which is never more
  than one; a payout's rows are its amount and its fee, and a reversal returns them;
- no payout or fee ever left the fund below zero at the moment it was written.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from dues import money
from dues.models import LedgerEntry
from dues.services import ledger, plans, runs
from dues.welfare import selectors
from dues.welfare.models import (
    ApplicationStatus,
    FundEntry,
    FundRule,
    Payout,
    PayoutStatus,
    Purpose,
    WelfareApplication,
)
from dues.welfare.services import applications, funds, loans, payouts
from tests.conftest import _officer
from tests.factories import BranchFactory, MemberFactory
from union.models import Role

pytestmark = pytest.mark.django_db

SHARE_BP = 2500


class FundMachine(RuleBasedStateMachine):
    national = None  # the national branch, set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        self.branch = BranchFactory(parent=self.national)
        plans.set_dues_plan(
            actor=None,
            branch=self.branch,
            monthly_amount=1000,
            solidarity_amount=500,
            confirm_threshold=10**9,
        )
        self.fund = funds.create_fund(actor=None, branch=self.branch, purpose=Purpose.EMERGENCY)
        FundRule.objects.create(
            fund=self.fund,
            effective_from=date(2026, 1, 1),
            share_bp=SHARE_BP,
            good_standing_required=False,
        )
        self.treasurer = _officer(self.branch, Role.TREASURER).user
        self.committee = [_officer(self.branch, Role.WELFARE_COMMITTEE).user for _ in range(2)]
        self.member = MemberFactory(branch=self.branch, joined_on=date(2020, 1, 1), with_login=True)
        self.today = money.local_today(self.branch.time_zone)
        self.expected = 0
        self.receipts = 0
        self.dues: list[LedgerEntry] = []
        self.applications: list[WelfareApplication] = []

    # --- money in ---------------------------------------------------------------------

    @rule(amount=st.integers(1, 20_000))
    def pay_dues(self, amount: int) -> None:
        self.receipts += 1
        entry = ledger.record_payment(
            actor=self.treasurer,
            member=self.member,
            amount=amount,
            currency="XOF",
            method="cash",
            receipt_number=f"R{self.receipts}",
            paid_on=self.today,
        )
        self.dues.append(entry)
        self.expected += amount * SHARE_BP // 10_000

    @precondition(lambda self: self.dues)
    @rule(data=st.data())
    def correct_dues(self, data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from(self.dues))
        already = LedgerEntry.objects.filter(reverses=entry).exists()
        ledger.reverse_entry(actor=self.treasurer, entry=entry, reason="mistake")
        if not already:
            self.expected -= entry.magnitude * SHARE_BP // 10_000

    @rule(amount=st.integers(1, 30_000))
    def gift(self, amount: int) -> None:
        funds.record_gift(
            actor=self.treasurer,
            fund=self.fund,
            amount=amount,
            currency="XOF",
            source="donor",
            received_on=self.today,
        )
        self.expected += amount

    # --- money out --------------------------------------------------------------------

    @rule(amount=st.integers(1, 15_000))
    def approve_one(self, amount: int) -> None:
        application = applications.submit_application(
            actor=self.member.user, member=self.member, purpose=Purpose.EMERGENCY, amount=amount
        )
        for decider in self.committee:
            application = applications.approve_application(
                actor=decider,
                application=application,
                amount=amount,
                reason="ok",
                over_available=True,
            )
        assert application.status == ApplicationStatus.APPROVED
        self.applications.append(application)

    @precondition(lambda self: self.applications)
    @rule(data=st.data(), fee=st.integers(0, 300), twice=st.booleans())
    def pay(self, data: st.DataObject, fee: int, twice: bool) -> None:
        application = data.draw(st.sampled_from(self.applications))
        application.refresh_from_db()
        before = application.status
        balance = selectors.fund_balance(self.fund.pk)
        try:
            payout = payouts.pay_application(
                actor=self.treasurer,
                application=application,
                method="cash",
                paid_on=self.today,
                fee=fee,
            )
        except ValidationError:
            assert before != ApplicationStatus.APPROVED or balance < application.amount + fee
            return
        if before == ApplicationStatus.APPROVED:
            assert balance >= application.amount + fee
            # Arrears taken for her dues leave the fund and bring back their dues share.
            self.expected -= payout.amount + payout.fee + _net_arrears(payout)
        else:
            assert before == ApplicationStatus.PAID  # a second post: the first payout back
        if twice:
            again = payouts.pay_application(
                actor=self.treasurer,
                application=application,
                method="cash",
                paid_on=self.today,
                fee=fee,
            )
            assert again.pk == payout.pk

    @precondition(lambda self: Payout.objects.filter(fund_id=self.fund.pk).exists())
    @rule(data=st.data(), fee_returned=st.booleans())
    def reverse(self, data: st.DataObject, fee_returned: bool) -> None:
        payout = data.draw(
            st.sampled_from(list(Payout.objects.filter(fund_id=self.fund.pk).order_by("id")))
        )
        was_paid = payout.status == PayoutStatus.PAID
        payouts.reverse_payout(
            actor=self.treasurer, payout=payout, reason="failed", fee_returned=fee_returned
        )
        if was_paid:
            self.expected += payout.amount + (payout.fee if fee_returned else 0)
            self.expected += _net_arrears(payout)

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def balance_is_expected_and_the_sum_of_the_ledger(self) -> None:
        total = FundEntry.objects.filter(fund=self.fund).aggregate(t=Sum("amount"))["t"] or 0
        assert selectors.fund_balance(self.fund.pk) == total == self.expected

    @invariant()
    def shares_follow_their_payments(self) -> None:
        for entry in self.dues:
            due = entry.magnitude * SHARE_BP // 10_000
            shares = FundEntry.objects.filter(fund=self.fund, dues_entry=entry).first()
            if due == 0:
                assert shares is None  # a share that rounds to nothing is not written
                continue
            assert shares is not None and shares.amount == due
            back = FundEntry.objects.filter(reverses=shares).aggregate(t=Sum("amount"))["t"]
            if LedgerEntry.objects.filter(reverses=entry).exists():
                assert back == -shares.amount
            else:
                assert back is None

    @invariant()
    def paid_means_one_live_payout(self) -> None:
        for application in WelfareApplication.objects.filter(fund=self.fund):
            live = Payout.objects.filter(application=application, status=PayoutStatus.PAID)
            assert live.count() <= 1
            assert (application.status == ApplicationStatus.PAID) == live.exists()
            for payout in Payout.objects.filter(application=application):
                rows = dict(FundEntry.objects.filter(payout=payout).values_list("kind", "amount"))
                assert rows["payout"] == -payout.amount
                assert rows.get("fee", 0) == -payout.fee
                assert rows.get("arrears", 0) == -payout.arrears
                if payout.arrears:  # the same amount paid into her dues ledger
                    assert payout.arrears_entry is not None
                    assert payout.arrears_entry.amount == -payout.arrears
                if payout.status == PayoutStatus.REVERSED:
                    assert rows["payout_reversal"] == payout.amount
                    assert rows.get("fee_reversal", 0) == (payout.fee if payout.fee_returned else 0)
                    assert rows.get("arrears_return", 0) == payout.arrears

    @invariant()
    def no_payout_left_the_fund_below_zero(self) -> None:
        running = 0
        for kind, amount in (
            FundEntry.objects.filter(fund=self.fund).order_by("id").values_list("kind", "amount")
        ):
            running += amount
            if kind in ("payout", "fee", "arrears"):
                assert running >= 0


def _net_arrears(payout: Payout) -> int:
    """What a payout's arrears cost the fund: the arrears, less the fund's share of that
    dues payment (which flows back in, like the share of any dues payment)."""
    return payout.arrears - payout.arrears * SHARE_BP // 10_000


class LendingMachine(FundMachine):
    """The same fund under a rule of today that takes up to 30 % of a grant for the
    member's arrears and lends: months are charged to her, some applications are loans,
    loans are repaid in part. Also checked after every step: what she owes on a loan is
    the grant less her repayments, never below zero, and every repayment is in the fund."""

    def __init__(self) -> None:
        super().__init__()
        FundRule.objects.create(
            fund=self.fund,
            effective_from=self.today,
            share_bp=SHARE_BP,
            good_standing_required=False,
            arrears_bp=3000,
            loans=True,
        )
        self.months = 0

    @precondition(lambda self: self.months < 10)
    @rule()
    def charge_a_month(self) -> None:
        self.months += 1
        runs.charge_period(period=date(2026, self.months, 1), branch=self.branch)

    @rule(amount=st.integers(1, 15_000))
    def lend(self, amount: int) -> None:
        application = applications.submit_application(
            actor=self.member.user,
            member=self.member,
            purpose=Purpose.EMERGENCY,
            amount=amount,
            loan=True,
        )
        for decider in self.committee:
            application = applications.approve_application(
                actor=decider,
                application=application,
                amount=amount,
                reason="ok",
                over_available=True,
            )
        self.applications.append(application)

    @precondition(lambda self: any(a.loan for a in self.applications))
    @rule(data=st.data())
    def repay(self, data: st.DataObject) -> None:
        application = data.draw(st.sampled_from([a for a in self.applications if a.loan]))
        application.refresh_from_db()
        owed = selectors.loan_outstanding(application)
        if owed <= 0:
            return
        amount = data.draw(st.integers(1, owed))
        loans.record_repayment(
            actor=self.treasurer,
            application=application,
            amount=amount,
            method="cash",
            paid_on=self.today,
        )
        self.expected += amount

    @invariant()
    def loans_owe_the_grant_less_repayments(self) -> None:
        for application in WelfareApplication.objects.filter(fund=self.fund, loan=True):
            repaid = application.repayments.aggregate(t=Sum("amount"))["t"] or 0
            in_fund = FundEntry.objects.filter(repayment__application=application).aggregate(
                t=Sum("amount")
            )["t"]
            assert (in_fund or 0) == repaid
            if application.status == ApplicationStatus.PAID:
                assert (
                    selectors.loan_outstanding(application) == application.amount_granted - repaid
                )
                assert selectors.loan_outstanding(application) >= 0


def test_any_sequence_keeps_the_fund_ledger_consistent(national):
    FundMachine.national = national
    run_state_machine_as_test(
        FundMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_arrears_and_loans_keep_both_ledgers_consistent(national):
    LendingMachine.national = national
    run_state_machine_as_test(
        LendingMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=14,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
