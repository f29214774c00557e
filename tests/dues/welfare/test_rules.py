"""Fund rules that take dues arrears from a payout, raise caps for dependants, and lend.

Personas: awa (BKO member helped), committee_a/b approve, treasurer pays. The BKO
emergency fund takes 20 % of dues; its rules from 2026-01-01 cap a payout at 50 000 XOF
and a member at 80 000 XOF in 12 months (tests/dues/welfare/conftest.py). Each test here
puts a newer rule in force from today, which the decision (today) is judged by.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from dues import money
from dues.models import EntryKind, LedgerEntry, Method
from dues.services import ledger
from dues.welfare import selectors
from dues.welfare.models import (
    ApplicationStatus,
    FundEntry,
    FundEntryKind,
    FundRule,
    LoanRepayment,
    Payout,
)
from dues.welfare.services import applications, loans, payouts
from tests.conftest import _officer
from tests.dues.conftest import MONTHLY, charge
from tests.dues.welfare.conftest import MAX_PAYOUT, approve, submit
from tests.dues.welfare.test_payouts import _race
from union.models import Role

pytestmark = pytest.mark.django_db


def _today():
    return money.local_today("Africa/Bamako")


def _rule(fund, *, day=None, **fields) -> FundRule:
    """A rule in force from `day` (today), keeping the fixture's caps unless given."""
    values = {
        "share_bp": 2000,
        "max_payout": MAX_PAYOUT,
        "max_per_member_year": 80_000,
        "good_standing_required": False,
        **fields,
    }
    return FundRule.objects.create(fund=fund, effective_from=day or _today(), **values)


def _pay(treasurer, application, **kwargs) -> Payout:
    return payouts.pay_application(
        actor=treasurer.user,
        application=application,
        method=kwargs.pop("method", Method.CASH),
        paid_on=_today(),
        **kwargs,
    )


def _owes(months: int, branch) -> None:
    today = _today()
    periods = []
    for back in range(months):
        first = (today.replace(day=1) - timedelta(days=31 * back)).replace(day=1)
        periods.append(f"{first:%Y-%m}")
    charge(branch, *sorted(periods))


# --- arrears -----------------------------------------------------------------------------


def test_arrears_are_taken_from_the_payout_into_both_ledgers(
    bamako, awa, funded, committee_a, committee_b, treasurer
):
    _rule(funded, arrears_bp=5000)
    _owes(3, bamako)
    owed = ledger.owed(awa.pk)
    assert owed == 3 * MONTHLY
    application = approve(submit(awa, 10_000), committee_a, committee_b)

    payout = _pay(treasurer, application)

    assert (payout.amount, payout.arrears) == (10_000 - owed, owed)
    rows = dict(FundEntry.objects.filter(payout=payout).values_list("kind", "amount"))
    assert rows == {FundEntryKind.PAYOUT: -(10_000 - owed), FundEntryKind.ARREARS: -owed}
    dues_row = LedgerEntry.objects.get(pk=payout.arrears_entry_id)
    assert (dues_row.member_id, dues_row.kind, dues_row.method, dues_row.amount) == (
        awa.pk,
        EntryKind.PAYMENT,
        Method.WELFARE,
        -owed,
    )
    assert ledger.owed(awa.pk) == 0
    # The fund paid the grant in full (to the payee and to her dues) and, as with every
    # dues payment, took its 20 % share of the arrears back in.
    assert selectors.fund_balance(funded.pk) == 100_000 - 10_000 + owed * 2000 // 10000


def test_the_pay_page_says_what_goes_to_the_arrears(
    client, login, bamako, awa, funded, committee_a, committee_b, treasurer
):
    _rule(funded, arrears_bp=5000)
    _owes(2, bamako)
    application = approve(submit(awa, 10_000), committee_a, committee_b)
    login(client, treasurer)
    page = client.get(reverse("dues:welfare_pay", args=[application.public_id]))
    taken = money.format_money(2 * MONTHLY, "XOF")
    assert f"The fund's rules take {taken} of the grant" in page.content.decode()


def test_arrears_never_take_more_than_the_rule_allows(
    bamako, awa, funded, committee_a, committee_b, treasurer
):
    _rule(funded, arrears_bp=1000)  # at most 10 % of the grant
    _owes(3, bamako)
    application = approve(submit(awa, 10_000), committee_a, committee_b)

    payout = _pay(treasurer, application)

    assert (payout.amount, payout.arrears) == (9_000, 1_000)
    assert ledger.owed(awa.pk) == 3 * MONTHLY - 1_000


def test_a_rule_without_arrears_sends_the_whole_grant(
    bamako, awa, funded, committee_a, committee_b, treasurer
):
    _owes(2, bamako)
    application = approve(submit(awa, 10_000), committee_a, committee_b)
    payout = _pay(treasurer, application)
    assert (payout.amount, payout.arrears, payout.arrears_entry_id) == (10_000, 0, None)
    assert ledger.owed(awa.pk) == 2 * MONTHLY


def test_a_failed_payout_gives_the_arrears_back_and_a_new_payout_takes_them_again(
    bamako, awa, funded, committee_a, committee_b, treasurer
):
    _rule(funded, arrears_bp=5000)
    _owes(2, bamako)
    owed = 2 * MONTHLY
    application = approve(submit(awa, 10_000), committee_a, committee_b)
    first = _pay(treasurer, application, method="mobile_money", provider="Orange", reference="OM7")

    payouts.reverse_payout(actor=treasurer.user, payout=first, reason="Wrong number")

    returned = FundEntry.objects.get(payout=first, kind=FundEntryKind.ARREARS_REVERSAL)
    assert returned.amount == owed  # the recorded amount, copied
    correction = LedgerEntry.objects.get(reverses_id=first.arrears_entry_id)
    assert correction.amount == owed
    assert ledger.owed(awa.pk) == owed
    assert selectors.fund_balance(funded.pk) == 100_000  # shares reversed with the payment
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED

    second = _pay(treasurer, application, method="mobile_money", provider="Orange", reference="OM8")
    assert (second.amount, second.arrears) == (10_000 - owed, owed)
    assert ledger.owed(awa.pk) == 0


def test_a_payout_failing_halfway_leaves_neither_ledger_touched(
    bamako, awa, funded, committee_a, committee_b, treasurer, monkeypatch
):
    _rule(funded, arrears_bp=5000)
    _owes(2, bamako)
    application = approve(submit(awa, 10_000), committee_a, committee_b)

    def broken(*args, **kwargs):
        raise IntegrityError("the disk is full")

    monkeypatch.setattr(FundEntry.objects, "bulk_create", broken)
    with pytest.raises(ValidationError):
        _pay(treasurer, application)
    monkeypatch.undo()

    assert not LedgerEntry.objects.filter(method=Method.WELFARE).exists()
    assert not Payout.objects.exists()
    assert ledger.owed(awa.pk) == 2 * MONTHLY
    assert selectors.fund_balance(funded.pk) == 100_000
    # ... and it can be retried cleanly.
    assert _pay(treasurer, application).arrears == 2 * MONTHLY


# --- dependants --------------------------------------------------------------------------


def test_dependants_raise_the_cap_up_to_the_rules_number(awa, funded, committee_a, committee_b):
    _rule(funded, per_dependant=10_000, max_dependants=2)
    many = submit(awa, 70_000, dependants=3)  # counted as 2: cap 70 000
    assert approve(many, committee_a, committee_b).status == ApplicationStatus.APPROVED

    with pytest.raises(ValidationError) as refused:
        submit(awa, 60_001, dependants=1)  # cap 60 000
    assert refused.value.error_dict["amount"][0].messages == [
        f"This fund pays at most {money.format_money(60_000, 'XOF')} at a time."
    ]


def test_without_dependants_the_cap_stays(awa, funded):
    _rule(funded, per_dependant=10_000, max_dependants=2)
    with pytest.raises(ValidationError, match="at most"):
        submit(awa, MAX_PAYOUT + 1)


def test_the_cap_is_the_rules_on_the_decision_date(awa, funded, committee_a, committee_b):
    application = submit(awa, 50_000, dependants=1)  # within today's 50 000
    later = _today() + timedelta(days=3)
    new_rule = _rule(funded, day=later, max_payout=40_000, per_dependant=5_000, max_dependants=4)

    with time_machine.travel(later + timedelta(hours=12)):
        with pytest.raises(ValidationError, match="45"):
            approve(application, committee_a, amount=50_000)
        approved = approve(application, committee_a, committee_b, amount=45_000)

    assert approved.status == ApplicationStatus.APPROVED
    assert approved.rule_id == new_rule.pk
    assert approved.decided_on == later


def test_changing_the_dependants_after_an_approval_cancels_it(
    awa, funded, committee_a, committee_b
):
    _rule(funded, per_dependant=10_000, max_dependants=2)
    application = approve(submit(awa, 20_000), committee_a)
    assert len(selectors.approvals(application)) == 1
    edited = applications.edit_application(actor=awa.user, application=application, dependants=2)
    assert edited.version == application.version + 1
    assert len(selectors.approvals(edited)) == 0


def test_a_bad_number_of_dependants_is_refused(awa, funded):
    with pytest.raises(ValidationError) as refused:
        submit(awa, 1_000, dependants=-1)
    assert "dependants" in refused.value.error_dict


# --- loans -------------------------------------------------------------------------------


@pytest.fixture
def lending(funded):
    _rule(funded, loans=True)
    return funded


@pytest.fixture
def loan(awa, lending, committee_a, committee_b, treasurer):
    application = approve(submit(awa, 9_000, loan=True), committee_a, committee_b)
    _pay(treasurer, application)
    application.refresh_from_db()
    return application


def _repay(treasurer, application, amount, **kwargs):
    return loans.record_repayment(
        actor=treasurer.user,
        application=application,
        amount=amount,
        method=kwargs.pop("method", Method.CASH),
        paid_on=kwargs.pop("paid_on", _today()),
        **kwargs,
    )


def test_a_fund_that_does_not_lend_refuses_a_loan(awa, funded):
    with pytest.raises(ValidationError) as refused:
        submit(awa, 1_000, loan=True)
    assert refused.value.error_dict["loan"][0].messages == [
        "This fund does not lend: ask for help that is not repaid."
    ]


def test_a_loan_is_paid_like_a_grant_and_owed_in_full(loan, lending):
    assert loan.status == ApplicationStatus.PAID
    assert selectors.loan_outstanding(loan) == 9_000
    assert selectors.fund_balance(lending.pk) == 100_000 - 9_000


def test_repayments_flow_back_into_the_fund_and_lower_what_is_owed(loan, lending, treasurer):
    first = _repay(treasurer, loan, 4_000)
    _repay(treasurer, loan, 2_000, method="mobile_money", provider="Orange", reference="OMR1")

    assert selectors.loan_outstanding(loan) == 3_000
    entry = FundEntry.objects.get(repayment=first)
    assert (entry.kind, entry.amount, entry.fund_id) == ("repayment", 4_000, lending.pk)
    assert selectors.fund_balance(lending.pk) == 100_000 - 9_000 + 6_000
    assert list(selectors.loans_for(treasurer.user)) == [loan]
    _repay(treasurer, loan, 3_000)
    assert selectors.loan_outstanding(loan) == 0
    assert list(selectors.loans_for(treasurer.user)) == []


def test_more_than_is_owed_is_refused(loan, treasurer):
    with pytest.raises(ValidationError, match="9,000"):
        _repay(treasurer, loan, 9_001)
    assert not LoanRepayment.objects.exists()


def test_the_repayment_form_posted_twice_records_once(loan, treasurer):
    _repay(treasurer, loan, 1_000, outstanding_seen=9_000)
    with pytest.raises(ValidationError, match="since you opened"):
        _repay(treasurer, loan, 1_000, outstanding_seen=9_000)
    assert selectors.loan_outstanding(loan) == 8_000


def test_a_grant_cannot_be_repaid(awa, funded, committee_a, committee_b, treasurer):
    application = approve(submit(awa, 1_000), committee_a, committee_b)
    _pay(treasurer, application)
    application.refresh_from_db()
    with pytest.raises(ValidationError, match="Only a paid loan"):
        _repay(treasurer, application, 500)


def test_the_member_sees_what_she_still_owes(client, loan, treasurer, awa):
    _repay(treasurer, loan, 4_000)
    client.force_login(awa.user)
    page = client.get(reverse("dues:welfare_mine", args=[loan.public_id])).content.decode()
    left = money.format_money(5_000, "XOF")
    assert f"Still to pay back: {left}" in page
    listing = client.get(reverse("dues:welfare_my")).content.decode()
    assert f"still to pay back: {left}" in listing


def test_the_treasurer_records_a_repayment_from_the_loans_screen(client, login, loan, treasurer):
    login(client, treasurer)
    listing = client.get(reverse("dues:welfare_loans"))
    assert reverse("dues:welfare_repay", args=[loan.public_id]) in listing.content.decode()
    url = reverse("dues:welfare_repay", args=[loan.public_id])
    data = {
        "amount": "2000",
        "method": "cash",
        "paid_on": _today().isoformat(),
        "outstanding": "9000",
    }
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 400
    assert selectors.loan_outstanding(loan) == 7_000


def test_repayments_are_money_in_on_the_published_figures(loan, lending, treasurer):
    from dues.welfare import transparency

    _repay(treasurer, loan, 4_000)
    figures = transparency.fund_figures([lending])[0]
    assert sum(month.money_in for month in figures.months) == 100_000 + 4_000


# --- races --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_repayments_racing_for_what_is_owed_record_one(loan, bamako, treasurer):
    other = _officer(bamako, Role.TREASURER)
    results, errors = _race(
        lambda: _repay(treasurer, loan, 6_000), lambda: _repay(other, loan, 6_000)
    )
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and "still owed" in str(errors[0])
    assert selectors.loan_outstanding(loan) == 3_000
    assert FundEntry.objects.filter(kind="repayment").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_payouts_racing_take_the_arrears_once(
    bamako, awa, funded, committee_a, committee_b, treasurer
):
    _rule(funded, arrears_bp=5000)
    _owes(2, bamako)
    application = approve(submit(awa, 10_000), committee_a, committee_b)
    other = _officer(bamako, Role.TREASURER)
    results, errors = _race(lambda: _pay(treasurer, application), lambda: _pay(other, application))
    assert not errors
    assert len({payout.pk for payout in results}) == 1  # type: ignore[attr-defined]
    assert LedgerEntry.objects.filter(method=Method.WELFARE).count() == 1
    assert ledger.owed(awa.pk) == 0
