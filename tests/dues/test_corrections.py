"""The two-officer rule both ways: above the branch's threshold, the correction of an entry
needs a second officer just as the payment did, and counts only from the confirmation.

Personas: treasurer (BKO) records and corrects, secretary (BKO) confirms. Bamako's
threshold is 5 000 XOF (tests/dues/conftest.py).
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from dues import money, selectors
from dues.models import Allocation, EntryKind, LedgerEntry, PaymentConfirmation
from dues.services import cashbook, ledger
from tests.dues.conftest import JOINED, MONTHLY, THRESHOLD, charge, pay
from tests.factories import MemberFactory
from union.models import Member

pytestmark = pytest.mark.django_db

BIG = THRESHOLD + 1000


@pytest.fixture
def awa(bamako, bko_plan) -> Member:
    return MemberFactory(branch=bamako, working_name="Awa Correct", joined_on=JOINED)


def _settled_on_charges(member: Member) -> int:
    rows = Allocation.objects.filter(debit__member=member, debit__kind=EntryKind.CHARGE)
    return sum(rows.values_list("amount", flat=True))


@pytest.fixture
def confirmed(treasurer, secretary, awa, bamako) -> LedgerEntry:
    """A big cash payment that counts: recorded by the treasurer, confirmed by the secretary."""
    charge(bamako, "2026-11")
    entry = pay(treasurer, awa, BIG, "R1")
    ledger.confirm_payment(actor=secretary.user, entry=entry)
    return entry


def test_a_correction_above_the_threshold_counts_only_once_a_second_officer_confirms(
    treasurer, secretary, awa, confirmed
):
    paid = selectors.summary(awa).balance
    assert paid == MONTHLY - BIG
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=confirmed, reason="wrong member")
    assert reversal.needs_confirmation
    assert selectors.summary(awa).balance == paid  # the payment still counts
    assert list(selectors.awaiting_confirmation(secretary.user)) == [reversal]

    ledger.confirm_payment(actor=secretary.user, entry=reversal)
    assert selectors.summary(awa).balance == MONTHLY
    assert not selectors.awaiting_confirmation(secretary.user).exists()
    assert _settled_on_charges(awa) == 0  # what the payment settled is open again


def test_the_officer_who_corrected_cannot_confirm_the_correction(treasurer, confirmed):
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=confirmed, reason="typo")
    with pytest.raises(ValidationError, match="recorded it yourself"):
        ledger.confirm_payment(actor=treasurer.user, entry=reversal)
    assert not PaymentConfirmation.objects.filter(entry=reversal).exists()


def test_a_correction_below_the_threshold_counts_at_once(treasurer, awa, bamako):
    charge(bamako, "2026-11")
    entry = pay(treasurer, awa, MONTHLY, "R1")
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="typo")
    assert not reversal.needs_confirmation
    assert selectors.summary(awa).balance == MONTHLY


def test_a_big_waiver_corrected_waits_for_a_second_officer_too(treasurer, secretary, awa, bamako):
    charge(bamako, *(f"2026-{m:02d}" for m in range(1, 10)))
    waiver = ledger.grant_waiver(actor=treasurer.user, member=awa, amount=BIG, reason="illness")
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=waiver, reason="not eligible")
    assert reversal.needs_confirmation
    owed = selectors.summary(awa).balance
    ledger.confirm_payment(actor=secretary.user, entry=reversal)
    assert selectors.summary(awa).balance == owed + BIG


def test_a_second_confirmation_of_a_correction_is_a_no_op(
    treasurer, secretary, national_coordinator, awa, confirmed
):
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=confirmed, reason="typo")
    ledger.confirm_payment(actor=secretary.user, entry=reversal)
    ledger.confirm_payment(actor=national_coordinator.user, entry=reversal)
    assert PaymentConfirmation.objects.filter(entry=reversal).count() == 1
    assert selectors.summary(awa).balance == MONTHLY


def test_the_correction_of_an_entry_that_never_counted_has_nothing_to_confirm(
    treasurer, secretary, awa
):
    waiting = pay(treasurer, awa, BIG, "R1")
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=waiting, reason="typo")
    with pytest.raises(ValidationError, match="never counted"):
        ledger.confirm_payment(actor=secretary.user, entry=reversal)
    assert selectors.summary(awa).balance == 0
    assert not selectors.awaiting_confirmation(secretary.user).exists()


def test_a_correction_waiting_for_a_second_officer_keeps_the_cash_book_open(
    treasurer, secretary, awa, bamako
):
    entry = pay(treasurer, awa, BIG, "R1")
    ledger.confirm_payment(actor=secretary.user, entry=entry)
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="typo")
    today = money.local_today(bamako.time_zone)
    with pytest.raises(ValidationError, match="for a second officer"):
        cashbook.close_cash_book(actor=treasurer.user, branch=bamako, day=today)
    ledger.confirm_payment(actor=secretary.user, entry=reversal)
    close = cashbook.close_cash_book(actor=treasurer.user, branch=bamako, day=today)
    assert close.cash_total == 0  # in, and out again


@pytest.mark.vendor("postgresql")
def test_the_database_refuses_a_big_correction_that_counts_at_once(treasurer, awa, confirmed):
    with pytest.raises(IntegrityError, match="second officer"), transaction.atomic():
        LedgerEntry.objects.create(
            member=awa,
            branch_id=awa.branch_id,
            kind=EntryKind.REVERSAL,
            amount=BIG,
            currency="XOF",
            booked_on=confirmed.booked_on,
            method=confirmed.method,
            reverses=confirmed,
            needs_confirmation=False,
            recorded_by=treasurer.user,
        )


@pytest.mark.vendor("postgresql")
def test_the_database_refuses_a_big_cash_payment_that_counts_at_once(treasurer, awa):
    with pytest.raises(IntegrityError, match="second officer"), transaction.atomic():
        LedgerEntry.objects.create(
            member=awa,
            branch_id=awa.branch_id,
            kind=EntryKind.PAYMENT,
            amount=-BIG,
            currency="XOF",
            booked_on=money.local_today("Africa/Bamako"),
            method="cash",
            needs_confirmation=False,
            recorded_by=treasurer.user,
        )


@pytest.mark.vendor("postgresql")
def test_the_database_refuses_to_confirm_the_correction_of_an_entry_that_never_counted(
    treasurer, secretary, awa
):
    waiting = pay(treasurer, awa, BIG, "R1")
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=waiting, reason="typo")
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentConfirmation.objects.create(
            entry=reversal, recorded_by=treasurer.user, confirmed_by=secretary.user
        )


@pytest.mark.vendor("postgresql")
@pytest.mark.django_db(transaction=True)
def test_two_officers_confirming_one_correction_at_once_confirm_it_once(
    treasurer, secretary, national_coordinator, awa, bamako
):
    charge(bamako, "2026-11")
    entry = pay(treasurer, awa, BIG, "R1")
    ledger.confirm_payment(actor=secretary.user, entry=entry)
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="typo")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def confirm(officer: Member) -> None:
        try:
            barrier.wait()
            ledger.confirm_payment(actor=officer.user, entry=reversal)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=confirm, args=(o,)) for o in (secretary, national_coordinator)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert PaymentConfirmation.objects.filter(entry=reversal).count() == 1
    assert selectors.summary(awa).balance == MONTHLY
    assert _settled_on_charges(awa) == 0


@pytest.mark.vendor("postgresql")
@pytest.mark.django_db(transaction=True)
def test_a_correction_racing_the_confirmation_of_its_payment_never_counts_alone(
    treasurer, secretary, awa, bamako
):
    """The payment is confirmed while it is being corrected: whichever comes first, the
    correction of a payment that counts waits for a second officer, and one that did not
    count never does."""
    charge(bamako, "2026-11")
    entry = pay(treasurer, awa, BIG, "R1")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(work) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            work()
        except ValidationError:
            pass  # the payment was corrected first: nothing to confirm
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run, args=(lambda: ledger.confirm_payment(actor=secretary.user, entry=entry),)
        ),
        threading.Thread(
            target=run,
            args=(lambda: ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="x"),),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    reversal = LedgerEntry.objects.get(reverses=entry)
    assert reversal.needs_confirmation
    assert not PaymentConfirmation.objects.filter(entry=reversal).exists()
    payment_counts = PaymentConfirmation.objects.filter(entry=entry).exists()
    # The correction alone never changed what she owes.
    assert selectors.summary(awa).balance == (MONTHLY - BIG if payment_counts else MONTHLY)
