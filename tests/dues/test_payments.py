"""Cash and mobile money at the counter: settling oldest first, the second officer, bad input.

Personas: treasurer (BKO) records, secretary (BKO) confirms, other_secretary is in Ségou.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from dues import money, selectors
from dues.audit import DuesAction
from dues.models import (
    Allocation,
    CashBookClose,
    EntryKind,
    LedgerEntry,
    PaymentConfirmation,
)
from dues.services import cashbook, ledger
from tests.dues.conftest import JOINED, MONTHLY, THRESHOLD, charge, pay
from tests.factories import MemberFactory
from union.models import AuditEvent, Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def awa(bamako, bko_plan) -> Member:
    return MemberFactory(branch=bamako, working_name="Awa Counter", joined_on=JOINED)


def _settled(entry: LedgerEntry) -> int:
    return sum(a.amount for a in Allocation.objects.filter(debit=entry))


def test_a_payment_settles_the_oldest_month_first(treasurer, awa, bamako):
    charge(bamako, "2026-09", "2026-10", "2026-11")
    pay(treasurer, awa, 1500, "R1")
    sep, octo, nov = LedgerEntry.objects.filter(member=awa, kind=EntryKind.CHARGE).order_by(
        "period"
    )
    assert (_settled(sep), _settled(octo), _settled(nov)) == (1000, 500, 0)
    summary = selectors.summary(awa)
    assert summary.balance == 1500
    assert summary.months_paid == 1
    assert summary.months_owed == 2
    assert summary.oldest_owed == octo.period


def test_a_payment_in_advance_settles_months_as_they_are_charged(treasurer, awa, bamako):
    charge(bamako, "2026-11")
    pay(treasurer, awa, 3000, "R1")
    assert selectors.summary(awa).months_ahead == 2
    charge(bamako, "2026-12")
    from dues.services.runs import settle_credit

    settle_credit(branch=bamako)
    december = LedgerEntry.objects.get(member=awa, period="2026-12-01")
    assert _settled(december) == MONTHLY
    summary = selectors.summary(awa)
    assert summary.balance == -1000
    assert summary.months_owed == 0


def test_mobile_money_needs_the_operator_and_its_reference(treasurer, awa):
    with pytest.raises(ValidationError) as exc:
        pay(treasurer, awa, 1000, "R1", method="mobile_money")
    assert set(exc.value.error_dict) == {"provider", "external_id"}
    entry = pay(
        treasurer, awa, 1000, "R1", method="mobile_money", provider="Orange Money",
        external_id="OM-123456",
    )  # fmt: skip
    assert (entry.provider, entry.external_id) == ("Orange Money", "OM-123456")
    with pytest.raises(ValidationError, match="already recorded"):
        pay(
            treasurer, awa, 1000, "R2", method="mobile_money", provider="Orange Money",
            external_id="OM-123456",
        )  # fmt: skip


def test_above_the_threshold_an_entry_counts_only_once_a_second_officer_confirms(
    treasurer, secretary, awa, bamako
):
    charge(bamako, "2026-11")
    entry = pay(treasurer, awa, THRESHOLD + 1000, "R9")
    assert entry.needs_confirmation
    assert selectors.summary(awa).balance == MONTHLY  # not counted yet
    assert selectors.summary(awa).pending == 1

    ledger.confirm_payment(actor=secretary.user, entry=entry)
    assert selectors.summary(awa).balance == MONTHLY - THRESHOLD - 1000
    assert selectors.summary(awa).pending == 0


def test_a_second_confirmation_is_a_no_op(treasurer, secretary, national_coordinator, awa):
    entry = pay(treasurer, awa, THRESHOLD + 1, "R9")
    ledger.confirm_payment(actor=secretary.user, entry=entry)
    ledger.confirm_payment(actor=national_coordinator.user, entry=entry)
    assert PaymentConfirmation.objects.filter(entry=entry).count() == 1
    assert PaymentConfirmation.objects.get(entry=entry).confirmed_by == secretary.user
    assert selectors.summary(awa).balance == -(THRESHOLD + 1)


def test_an_officer_cannot_confirm_their_own_entry(treasurer, awa):
    entry = pay(treasurer, awa, THRESHOLD + 1, "R9")
    with pytest.raises(ValidationError, match="recorded it yourself"):
        ledger.confirm_payment(actor=treasurer.user, entry=entry)
    assert not PaymentConfirmation.objects.exists()


def test_the_database_refuses_a_self_confirmation_even_around_the_service(treasurer, awa):
    entry = pay(treasurer, awa, THRESHOLD + 1, "R9")
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentConfirmation.objects.create(
            entry=entry, recorded_by=treasurer.user, confirmed_by=treasurer.user
        )


@pytest.mark.vendor("postgresql")  # a trigger (dues 0002)
def test_the_database_refuses_a_confirmation_that_lies_about_the_recorder(
    treasurer, secretary, awa
):
    entry = pay(treasurer, awa, THRESHOLD + 1, "R9")
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentConfirmation.objects.create(
            entry=entry, recorded_by=secretary.user, confirmed_by=treasurer.user
        )


@pytest.mark.vendor("postgresql")  # triggers (dues 0002)
def test_the_ledger_cannot_be_edited_or_deleted_in_the_database(treasurer, awa):
    entry = pay(treasurer, awa, 1000, "R1")
    with pytest.raises(TypeError):
        entry.save()
    for sql in (
        "UPDATE dues_ledgerentry SET amount = -1 WHERE id = %s",
        "DELETE FROM dues_ledgerentry WHERE id = %s",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == -1000


@pytest.mark.parametrize("amount", [0, -500])
def test_zero_or_negative_amounts_are_refused(treasurer, awa, amount):
    with pytest.raises(ValidationError, match="greater than zero"):
        pay(treasurer, awa, amount, "R1")
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()


def test_a_wrong_currency_is_refused(treasurer, awa):
    with pytest.raises(ValidationError, match="XOF"):
        ledger.record_payment(
            actor=treasurer.user,
            member=awa,
            amount=1000,
            currency="ZAR",
            method="cash",
            receipt_number="R1",
            paid_on=money.local_today("Africa/Bamako"),
        )
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()


def test_a_receipt_number_is_used_once_per_branch(treasurer, awa, bamako):
    other = MemberFactory(branch=bamako)
    first = pay(treasurer, awa, 1000, "R1")
    # The same form sent twice returns the first entry.
    assert pay(treasurer, awa, 1000, "r1") == first
    with pytest.raises(ValidationError, match="already used"):
        pay(treasurer, other, 1000, "R1")
    with pytest.raises(ValidationError, match="already used"):
        pay(treasurer, awa, 2000, "R1")
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1


def test_the_same_receipt_number_may_exist_in_another_branch(treasurer, other_secretary, awa):
    from union.models import Role, RoleAssignment

    seg_treasurer = MemberFactory(branch=other_secretary.branch, with_login=True)
    RoleAssignment.objects.create(
        member=seg_treasurer,
        role=Role.TREASURER,
        branch=other_secretary.branch,
        starts_on=money.local_today("UTC") - timedelta(days=1),
    )
    from dues.services import plans

    plans.set_dues_plan(
        actor=None,
        branch=other_secretary.branch,
        monthly_amount=1000,
        solidarity_amount=500,
        confirm_threshold=5000,
    )
    pay(treasurer, awa, 1000, "R1")
    pay(seg_treasurer, MemberFactory(branch=other_secretary.branch), 1000, "R1")
    assert LedgerEntry.objects.filter(receipt_number="R1").count() == 2


def test_a_payment_for_a_member_of_another_branch_is_refused(treasurer, segou, seg_plan):
    stranger = MemberFactory(branch=segou)
    with pytest.raises(PermissionDenied, match="another branch"):
        pay(treasurer, stranger, 1000, "R1")
    assert not LedgerEntry.objects.filter(member=stranger).exists()


def test_officers_without_the_right_cannot_record(secretary, crisis_responder, awa):
    for officer in (secretary, crisis_responder):
        with pytest.raises(PermissionDenied):
            pay(officer, awa, 1000, "R1")


def test_a_correction_points_at_the_entry_and_cannot_itself_be_corrected(treasurer, awa, bamako):
    charge(bamako, "2026-11")
    entry = pay(treasurer, awa, 1000, "R1")
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="wrong member")
    assert reversal.reverses == entry
    assert reversal.amount == 1000
    assert selectors.summary(awa).balance == MONTHLY
    # Correcting the same entry again returns the first correction.
    assert ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="again") == reversal
    with pytest.raises(ValidationError, match="cannot itself be corrected"):
        ledger.reverse_entry(actor=treasurer.user, entry=reversal, reason="undo")
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1


def test_correcting_a_charge_frees_the_payment_for_the_next_month(treasurer, awa, bamako):
    charge(bamako, "2026-10", "2026-11")
    pay(treasurer, awa, 1000, "R1")
    october = LedgerEntry.objects.get(member=awa, period="2026-10-01")
    ledger.reverse_entry(actor=treasurer.user, entry=october, reason="was on leave")
    november = LedgerEntry.objects.get(member=awa, period="2026-11-01")
    assert _settled(november) == MONTHLY
    assert selectors.summary(awa).balance == 0


def test_correcting_an_unconfirmed_entry_leaves_the_balance_alone(treasurer, secretary, awa):
    entry = pay(treasurer, awa, THRESHOLD + 1, "R9")
    ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="typo")
    assert selectors.summary(awa).balance == 0
    with pytest.raises(ValidationError, match="corrected"):
        ledger.confirm_payment(actor=secretary.user, entry=entry)


def test_a_waiver_needs_a_reason_and_covers_at_most_what_is_owed(treasurer, awa, bamako):
    charge(bamako, "2026-10", "2026-11")
    with pytest.raises(ValidationError):
        ledger.grant_waiver(actor=treasurer.user, member=awa, amount=1000, reason=" ")
    with pytest.raises(ValidationError, match="at most"):
        ledger.grant_waiver(actor=treasurer.user, member=awa, amount=2001, reason="hospital")
    waiver = ledger.grant_waiver(actor=treasurer.user, member=awa, amount=1000, reason="hospital")
    assert LedgerEntry.objects.get(pk=waiver.pk).reason == "hospital"
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM dues_ledgerentry WHERE id = %s", [waiver.pk])
        assert "hospital" not in cursor.fetchone()[0]  # stored encrypted
    assert selectors.summary(awa).balance == MONTHLY


def test_every_write_leaves_an_audit_row(treasurer, secretary, awa, bamako):
    charge(bamako, "2026-11")
    entry = pay(treasurer, awa, THRESHOLD + 1, "R9")
    ledger.confirm_payment(actor=secretary.user, entry=entry)
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="typo")
    ledger.confirm_payment(actor=secretary.user, entry=reversal)
    ledger.grant_waiver(actor=treasurer.user, member=awa, amount=500, reason="hardship")
    actions = list(
        AuditEvent.objects.filter(action__startswith="dues.").values_list("action", flat=True)
    )
    assert sorted(actions) == sorted(
        [
            DuesAction.PAYMENT,
            DuesAction.CONFIRM,
            DuesAction.REVERSAL,
            DuesAction.CONFIRM,
            DuesAction.WAIVER,
            DuesAction.PLAN,
        ]
    )
    assert all(":" in t for t in AuditEvent.objects.values_list("target", flat=True))


def test_closing_the_cash_book_totals_cash_per_officer(treasurer, secretary, awa, bamako):
    from union.models import Role, RoleAssignment

    second = MemberFactory(branch=bamako, with_login=True)
    RoleAssignment.objects.create(
        member=second,
        role=Role.TREASURER,
        branch=bamako,
        starts_on=money.local_today("UTC") - timedelta(days=1),
    )
    today = money.local_today(bamako.time_zone)
    pay(treasurer, awa, 1000, "R1")
    pay(treasurer, awa, 2000, "R2")
    pay(second, awa, 500, "R3")
    pay(
        second, awa, 700, "R4", method="mobile_money", provider="Orange Money",
        external_id="OM1",
    )  # fmt: skip
    waiting = pay(second, awa, THRESHOLD + 1, "R5")
    with pytest.raises(ValidationError, match="for a second officer"):
        cashbook.close_cash_book(actor=treasurer.user, branch=bamako, day=today)
    ledger.confirm_payment(actor=secretary.user, entry=waiting)

    close = cashbook.close_cash_book(actor=treasurer.user, branch=bamako, day=today)
    assert close.cash_total == 1000 + 2000 + 500 + THRESHOLD + 1
    assert close.mobile_money_total == 700
    per_officer = {row["user_id"]: row for row in close.per_officer}
    assert per_officer[treasurer.user.pk]["cash"] == 3000
    assert per_officer[second.user.pk]["cash"] == 500 + THRESHOLD + 1
    assert per_officer[second.user.pk]["mobile_money"] == 700
    # Closing again is a no-op, and the closed day takes no more cash.
    assert cashbook.close_cash_book(actor=treasurer.user, branch=bamako, day=today) == close
    assert CashBookClose.objects.count() == 1
    with pytest.raises(ValidationError, match="closed"):
        pay(treasurer, awa, 1000, "R6")


def test_after_the_close_a_cash_entry_of_the_day_cannot_be_corrected(treasurer, awa, bamako):
    entry = pay(treasurer, awa, 1000, "R1")
    cashbook.close_cash_book(
        actor=treasurer.user, branch=bamako, day=money.local_today(bamako.time_zone)
    )
    with pytest.raises(ValidationError, match="cash book is closed"):
        ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="typo")
    assert not LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).exists()
