"""Funds and their ledger: dues shares in and back out, gifts, transfers, database guarantees.

Personas: treasurer (BKO) records payments and gifts; committee_a/b approve transfers.
The shares are written by raw SQL, so their tests are marked `embedded`: they also run on
the embedded SQLite default.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, InternalError, connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext

from dues import money
from dues.models import DuesAccount, LedgerEntry
from dues.services import ledger
from dues.welfare import selectors
from dues.welfare.models import (
    FundEntry,
    FundEntryKind,
    FundRule,
    FundTransfer,
    Purpose,
    TransferStatus,
)
from dues.welfare.services import funds
from tests.dues.conftest import THRESHOLD, pay
from tests.dues.welfare.conftest import fill, make_fund

pytestmark = pytest.mark.django_db


def _shares(entry: LedgerEntry) -> dict[int, int]:
    return dict(FundEntry.objects.filter(dues_entry=entry).values_list("fund_id", "amount"))


@pytest.mark.embedded
def test_a_dues_payment_brings_each_funds_share(treasurer, awa, emergency_fund, legal_fund):
    entry = pay(treasurer, awa, 1000, "R1")
    assert _shares(entry) == {emergency_fund.pk: 200, legal_fund.pk: 50}
    row = FundEntry.objects.get(fund=emergency_fund)
    assert (row.kind, row.currency, row.booked_on) == ("share", "XOF", entry.booked_on)
    assert selectors.fund_balance(emergency_fund.pk) == 200


def test_shares_are_rounded_down_and_tiny_shares_are_not_written(treasurer, awa, emergency_fund):
    make_fund(awa.branch, Purpose.FUNERAL, 3)  # 0.03 %
    entry = pay(treasurer, awa, 999, "R1")
    assert _shares(entry) == {emergency_fund.pk: 199}  # 999 x 20 % = 199.8; 0.3 is not written


def test_a_fund_of_another_branch_or_currency_takes_nothing(
    treasurer, awa, emergency_fund, segou, johannesburg, national
):
    make_fund(segou, Purpose.EMERGENCY, 5000)
    make_fund(johannesburg, Purpose.EMERGENCY, 5000)
    entry = pay(treasurer, awa, 1000, "R1")
    assert _shares(entry) == {emergency_fund.pk: 200}


def test_recording_the_share_adds_one_statement_to_a_dues_payment(treasurer, awa, bamako, bko_plan):
    def statements(receipt: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            pay(treasurer, awa, 1000, receipt)
        return len(ctx.captured_queries)

    statements("R0")  # warm caches (roles, plan)
    without = statements("R1")
    make_fund(bamako, Purpose.EMERGENCY, 2000)
    make_fund(bamako, Purpose.MEDICAL, 1000)
    with_funds = statements("R2")
    assert with_funds == without  # the one INSERT ... SELECT runs with or without funds
    entry = LedgerEntry.objects.get(receipt_number="R2")
    assert len(_shares(entry)) == 2
    with CaptureQueriesContext(connection) as ctx:
        pay(treasurer, awa, 1000, "R3")
    fund_writes = [q for q in ctx.captured_queries if "dues_fundentry" in q["sql"]]
    assert len(fund_writes) == 1


@pytest.mark.embedded
def test_a_payment_waiting_for_a_second_officer_brings_its_share_once_confirmed(
    treasurer, secretary, awa, emergency_fund
):
    entry = pay(treasurer, awa, THRESHOLD + 1000, "R1")
    assert _shares(entry) == {}
    ledger.confirm_payment(actor=secretary.user, entry=entry)
    ledger.confirm_payment(actor=secretary.user, entry=entry)  # again: a no-op
    assert _shares(entry) == {emergency_fund.pk: 1200}


@pytest.mark.embedded
def test_a_correction_takes_back_the_recorded_share_not_todays(treasurer, awa, emergency_fund):
    entry = pay(treasurer, awa, 1000, "R1")
    today = money.local_today("Africa/Bamako")
    funds.set_fund_rule(
        actor=treasurer.user, fund=emergency_fund, effective_from=today, share_bp=5000
    )
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="wrong member")
    back = FundEntry.objects.get(dues_entry=reversal)
    assert (back.kind, back.amount) == (FundEntryKind.SHARE_REVERSAL, -200)
    assert back.reverses.dues_entry_id == entry.pk
    assert selectors.fund_balance(emergency_fund.pk) == 0
    ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="again")  # a no-op
    assert FundEntry.objects.filter(fund=emergency_fund).count() == 2


def test_correcting_an_unconfirmed_payment_touches_no_fund(treasurer, awa, emergency_fund):
    entry = pay(treasurer, awa, THRESHOLD + 1000, "R1")
    ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="typo")
    assert not FundEntry.objects.exists()


@pytest.mark.embedded
def test_card_refunds_take_back_the_same_fraction_and_all_of_it_in_the_end(awa, emergency_fund):
    account = DuesAccount.objects.create(member=awa)
    now = money.local_now("Africa/Bamako")
    payment, _ = ledger.book_card_payment(
        account=account, amount=1000, currency="XOF", external_id="pi_1", paid_at=now
    )
    assert _shares(payment) == {emergency_fund.pk: 200}
    first, _ = ledger.book_card_refund(
        payment=payment, amount=333, external_id="re_1", refunded_at=now
    )
    assert _shares(first) == {emergency_fund.pk: -66}  # 200 x 333 / 1000 = 66.6
    second, _ = ledger.book_card_refund(
        payment=payment, amount=667, external_id="re_2", refunded_at=now
    )
    assert _shares(second) == {emergency_fund.pk: -134}
    assert selectors.fund_balance(emergency_fund.pk) == 0


def test_the_fund_ledger_cannot_be_edited_or_deleted_in_the_database(
    treasurer, awa, emergency_fund
):
    entry = pay(treasurer, awa, 1000, "R1")
    row = FundEntry.objects.get(dues_entry=entry)
    with pytest.raises(TypeError):
        row.save()
    rule = FundRule.objects.get(fund=emergency_fund)
    for sql, pk in (
        ("UPDATE dues_fundentry SET amount = 1 WHERE id = %s", row.pk),
        ("DELETE FROM dues_fundentry WHERE id = %s", row.pk),
        ("UPDATE dues_fundrule SET share_bp = 10000 WHERE id = %s", rule.pk),
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [pk])
    assert FundEntry.objects.get(pk=row.pk).amount == 200


def test_a_row_in_another_currency_is_refused_by_the_database(emergency_fund):
    with pytest.raises(IntegrityError, match="currency"), transaction.atomic():
        FundEntry.objects.create(
            fund=emergency_fund,
            kind=FundEntryKind.GRANT,
            amount=100,
            currency="ZAR",
            booked_on=money.local_today("Africa/Bamako"),
            source="x",
        )


def test_rules_start_today_or_later_and_shares_never_exceed_the_whole_payment(
    treasurer, national_coordinator, bamako, national, emergency_fund, legal_fund
):
    today = money.local_today("Africa/Bamako")
    with pytest.raises(ValidationError) as past:
        funds.set_fund_rule(
            actor=treasurer.user,
            fund=emergency_fund,
            effective_from=today - timedelta(days=1),
            share_bp=100,
        )
    assert "effective_from" in past.value.error_dict
    medical = funds.create_fund(actor=treasurer.user, branch=bamako, purpose=Purpose.MEDICAL)
    with pytest.raises(ValidationError) as too_much:  # 20 % + 5 % + 76 %
        funds.set_fund_rule(actor=treasurer.user, fund=medical, effective_from=today, share_bp=7600)
    assert "share_bp" in too_much.value.error_dict
    funds.set_fund_rule(actor=treasurer.user, fund=medical, effective_from=today, share_bp=7500)
    with pytest.raises(ValidationError):  # the national fund would push Bamako over 100 %
        funds.set_fund_rule(
            actor=national_coordinator.user, fund=legal_fund, effective_from=today, share_bp=600
        )
    with pytest.raises(PermissionDenied):  # a branch treasurer cannot change a national fund
        funds.set_fund_rule(
            actor=treasurer.user, fund=legal_fund, effective_from=today, share_bp=100
        )


def test_a_gift_needs_a_source_and_a_recent_date(treasurer, emergency_fund):
    today = money.local_today("Africa/Bamako")
    for kwargs, field in (
        ({"source": " "}, "source"),
        ({"received_on": today + timedelta(days=1)}, "received_on"),
        ({"received_on": today - timedelta(days=100)}, "received_on"),
        ({"amount": 0}, "amount"),
        ({"currency": "ZAR"}, "amount"),
    ):
        data = {
            "amount": 5000,
            "currency": "XOF",
            "source": "Fondation X",
            "received_on": today,
            **kwargs,
        }
        with pytest.raises(ValidationError) as bad:
            funds.record_gift(actor=treasurer.user, fund=emergency_fund, **data)
        assert field in bad.value.error_dict
    gift = funds.record_gift(
        actor=treasurer.user,
        fund=emergency_fund,
        amount=5000,
        currency="XOF",
        source="Fondation X",
        received_on=today,
        kind=FundEntryKind.GRANT,
    )
    assert gift.source == "Fondation X"
    assert selectors.fund_balance(emergency_fund.pk) == 5000


def test_a_transfer_needs_committee_approval_and_is_two_rows_summing_to_zero(
    treasurer, committee_a, committee_b, bamako, emergency_fund
):
    medical = make_fund(bamako, Purpose.MEDICAL, 0)
    fill(emergency_fund, 10_000)
    transfer = funds.request_transfer(
        actor=treasurer.user,
        from_fund=emergency_fund,
        to_fund=medical,
        amount=4000,
        reason="medical is empty",
    )
    with pytest.raises(PermissionDenied):  # a treasurer does not decide
        funds.approve_transfer(actor=treasurer.user, transfer=transfer)
    funds.approve_transfer(actor=committee_a.user, transfer=transfer)
    funds.approve_transfer(actor=committee_a.user, transfer=transfer)  # twice: one approval
    assert not FundEntry.objects.filter(transfer=transfer).exists()
    done = funds.approve_transfer(actor=committee_b.user, transfer=transfer)
    assert done.status == TransferStatus.DONE
    rows = dict(FundEntry.objects.filter(transfer=transfer).values_list("fund_id", "amount"))
    assert rows == {emergency_fund.pk: -4000, medical.pk: 4000}
    assert selectors.fund_balance(emergency_fund.pk) == 6000


def test_the_database_refuses_a_transfer_that_does_not_sum_to_zero(
    treasurer, bamako, emergency_fund
):
    medical = make_fund(bamako, Purpose.MEDICAL, 0)
    fill(emergency_fund, 10_000)
    transfer = FundTransfer.objects.create(
        from_fund=emergency_fund,
        to_fund=medical,
        amount=100,
        currency="XOF",
        reason="x",
        requested_by=treasurer.user,
    )
    today = money.local_today("Africa/Bamako")
    with pytest.raises(IntegrityError, match="sum to zero"), transaction.atomic():
        for fund, amount in ((emergency_fund, -100), (medical, 90)):
            FundEntry.objects.create(
                fund=fund,
                kind="transfer",
                amount=amount,
                currency="XOF",
                booked_on=today,
                transfer=transfer,
            )
        with connection.cursor() as cursor:  # what COMMIT would do
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_restricted_gifts_never_leave_their_fund(
    treasurer, committee_a, committee_b, bamako, emergency_fund
):
    medical = make_fund(bamako, Purpose.MEDICAL, 0)
    today = money.local_today("Africa/Bamako")
    funds.record_gift(
        actor=treasurer.user,
        fund=emergency_fund,
        amount=8000,
        currency="XOF",
        source="Bail fund donors",
        received_on=today,
        restricted=True,
    )
    fill(emergency_fund, 1000)
    transfer = funds.request_transfer(
        actor=treasurer.user, from_fund=emergency_fund, to_fund=medical, amount=2000, reason="x"
    )
    funds.approve_transfer(actor=committee_a.user, transfer=transfer)
    with pytest.raises(ValidationError, match="may transfer"):
        funds.approve_transfer(actor=committee_b.user, transfer=transfer)
    assert not FundEntry.objects.filter(transfer__isnull=False).exists()


def test_the_requester_cannot_approve_their_own_transfer(
    committee_a, committee_b, bamako, emergency_fund
):
    from dues.welfare.models import TransferApproval
    from union.models import Role, RoleAssignment

    RoleAssignment.objects.create(
        member=committee_a, role=Role.TREASURER, branch=bamako, starts_on=money.local_today("UTC")
    )
    medical = make_fund(bamako, Purpose.MEDICAL, 0)
    transfer = funds.request_transfer(
        actor=committee_a.user, from_fund=emergency_fund, to_fund=medical, amount=10, reason="x"
    )
    with pytest.raises(ValidationError, match="Someone else"):
        funds.approve_transfer(actor=committee_a.user, transfer=transfer)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        TransferApproval.objects.create(
            transfer=transfer, approved_by=committee_a.user, requested_by=committee_a.user
        )
