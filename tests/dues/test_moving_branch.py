"""A member's dues account when she moves branch: it closes in the old branch and opens in
the new one, each ledger in its own currency.

Plans (tests/dues/conftest.py): Bamako 1 000 XOF a month, 3 grace months; Johannesburg
R50.00 (5 000 cents). The Johannesburg treasurer records 1 XOF = 0.0302 ZAR.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse

from dues.models import (
    AccountTransfer,
    Allocation,
    Closing,
    ConversionRate,
    EntryKind,
    LedgerEntry,
)
from dues.selectors import is_in_good_standing, summary
from dues.services import ledger
from dues.services import moves as dues_moves
from tests.conftest import _officer
from tests.dues.conftest import JOINED, charge, pay
from tests.factories import MemberFactory
from union.models import Member, MemberMove, MemberStatus, Role
from union.services import moves

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
NOW = "2026-11-15 12:00:00+00:00"


@pytest.fixture
def jhb_secretary(johannesburg) -> Member:
    return _officer(johannesburg, Role.SECRETARY)


@pytest.fixture
def jhb_treasurer(johannesburg) -> Member:
    return _officer(johannesburg, Role.TREASURER)


@pytest.fixture
def behind(bamako, bko_plan) -> Member:
    """Mariam owes July to November 2026 in Bamako: 5 000 XOF, July beyond the grace."""
    person = MemberFactory(branch=bamako, working_name="Mariam K.", joined_on=JOINED)
    charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
    person.refresh_from_db()
    return person


def _xof_to_zar(jhb_treasurer, bamako) -> ConversionRate:
    return dues_moves.record_rate(
        actor=_officer(bamako, Role.TREASURER).user,
        branch=bamako,
        to_currency="ZAR",
        rate=Decimal("0.0302"),
    )


def _move(officer, member, to_branch, closing, reason="") -> MemberMove:
    return moves.move_member(
        actor=officer.user,
        member=member,
        from_branch=member.branch,
        to_branch=to_branch,
        answers={"dues": {"closing": closing, "reason": reason}},
    )


def _branch_total(member, branch) -> tuple[set[str], int]:
    rows = LedgerEntry.objects.filter(member=member, branch=branch)
    return set(rows.values_list("currency", flat=True)), rows.aggregate(t=Sum("amount"))["t"]


@time_machine.travel(NOW, tick=False)
def test_bamako_arrears_carried_to_johannesburg_add_up_in_each_currency(
    behind, bamako, johannesburg, jhb_plan, jhb_secretary, jhb_treasurer, treasurer
):
    assert not is_in_good_standing(behind)  # July is beyond Bamako's grace
    _xof_to_zar(jhb_treasurer, bamako)

    _move(jhb_secretary, behind, johannesburg, Closing.CARRIED)

    # Bamako: 5 000 XOF charged, closed by one row of -5 000 XOF; every charge settled.
    assert _branch_total(behind, bamako) == ({"XOF"}, 0)
    closing = LedgerEntry.objects.get(member=behind, kind=EntryKind.CLOSING)
    assert (closing.amount, closing.currency, closing.branch) == (-5000, "XOF", bamako)
    settled = Allocation.objects.filter(credit=closing).aggregate(t=Sum("amount"))["t"]
    assert settled == 5000
    # Johannesburg: 5 000 XOF x 0.0302 = R151.00, owed since July.
    opening = LedgerEntry.objects.get(member=behind, kind=EntryKind.OPENING)
    assert (opening.amount, opening.currency, opening.branch) == (15100, "ZAR", johannesburg)
    assert opening.owed_since == date(2026, 7, 1)
    assert _branch_total(behind, johannesburg) == ({"ZAR"}, 15100)
    transfer = AccountTransfer.objects.get(member=behind)
    assert (transfer.old_balance, transfer.new_balance) == (5000, 15100)
    assert (transfer.rate.numerator, transfer.rate.denominator) == (151, 5000)
    # Her account is now the Johannesburg one; the July arrears keep her out of standing.
    behind.refresh_from_db()
    assert summary(behind).currency == "ZAR" and summary(behind).balance == 15100
    assert behind.status == MemberStatus.LAPSED and not is_in_good_standing(behind)

    # She pays R151.00 at the Johannesburg counter: reinstated, in good standing.
    pay(jhb_treasurer, behind, 15100, "JHB-1")
    behind.refresh_from_db()
    assert behind.status == MemberStatus.ACTIVE and is_in_good_standing(behind)
    assert _branch_total(behind, johannesburg) == ({"ZAR"}, 0)
    # Bamako's treasurer no longer takes her dues, nor corrects its closed account.
    with pytest.raises(ValidationError):
        ledger.reverse_entry(
            actor=treasurer.user,
            entry=LedgerEntry.objects.filter(member=behind, kind=EntryKind.CHARGE).first(),
            reason="mistake",
        )

    # December is charged in Johannesburg, in rand.
    with time_machine.travel("2026-12-02 12:00:00+00:00", tick=False):
        charge(johannesburg, "2026-12")
    december = LedgerEntry.objects.get(member=behind, period=date(2026, 12, 1))
    assert (december.amount, december.currency, december.branch) == (5000, "ZAR", johannesburg)


@time_machine.travel(NOW, tick=False)
def test_written_off_arrears_need_a_reason_and_reinstate_her(
    behind, bamako, johannesburg, jhb_plan, jhb_secretary
):
    with pytest.raises(ValidationError) as caught:
        _move(jhb_secretary, behind, johannesburg, Closing.WRITTEN_OFF, reason=" ")
    assert "reason" in caught.value.error_dict
    assert not MemberMove.objects.exists()

    _move(jhb_secretary, behind, johannesburg, Closing.WRITTEN_OFF, reason="Fled; no means")
    assert _branch_total(behind, bamako) == ({"XOF"}, 0)
    assert not LedgerEntry.objects.filter(member=behind, branch=johannesburg).exists()
    behind.refresh_from_db()
    assert behind.status == MemberStatus.ACTIVE and is_in_good_standing(behind)
    assert LedgerEntry.objects.get(kind=EntryKind.CLOSING).reason == "Fled; no means"


@time_machine.travel(NOW, tick=False)
def test_paid_ahead_is_carried_as_credit_rounded_her_way(
    bamako, bko_plan, johannesburg, jhb_plan, jhb_secretary, jhb_treasurer, treasurer
):
    ahead = MemberFactory(branch=bamako, joined_on=JOINED)
    charge(bamako, "2026-11")
    pay(treasurer, ahead, 1001, "B-1")  # 1 XOF paid ahead: 0.0302 ZAR, rounds to 3 cents
    _xof_to_zar(jhb_treasurer, bamako)
    with pytest.raises(ValidationError):
        _move(jhb_secretary, ahead, johannesburg, Closing.WRITTEN_OFF, reason="no")
    _move(jhb_secretary, ahead, johannesburg, Closing.CARRIED)
    opening = LedgerEntry.objects.get(member=ahead, kind=EntryKind.OPENING)
    assert (opening.amount, opening.currency, opening.owed_since) == (-3, "ZAR", None)


def test_conversion_is_exact_and_a_half_goes_the_members_way(bamako, treasurer):
    rate = ConversionRate(from_currency="XOF", to_currency="ZAR", numerator=1, denominator=200)
    assert dues_moves.convert(1, from_currency="XOF", to_currency="ZAR", rate=rate) == 0
    assert dues_moves.convert(-1, from_currency="XOF", to_currency="ZAR", rate=rate) == -1
    assert dues_moves.convert(3, from_currency="XOF", to_currency="ZAR", rate=rate) == 1
    back = ConversionRate(from_currency="ZAR", to_currency="XOF", numerator=3311, denominator=100)
    assert dues_moves.convert(15100, from_currency="ZAR", to_currency="XOF", rate=back) == 5000


@time_machine.travel(NOW, tick=False)
def test_bad_closings_are_refused_and_change_nothing(
    behind, bamako, johannesburg, jhb_plan, jhb_secretary
):
    for closing, field in ((Closing.CARRIED, "closing"), (Closing.SETTLED, "closing")):
        # No XOF -> ZAR rate recorded; not settled while she owes.
        with pytest.raises(ValidationError) as caught:
            _move(jhb_secretary, behind, johannesburg, closing)
        assert field in caught.value.error_dict
    behind.refresh_from_db()
    assert behind.branch == bamako
    assert not MemberMove.objects.exists() and not AccountTransfer.objects.exists()
    assert not LedgerEntry.objects.exclude(kind=EntryKind.CHARGE).exists()


@time_machine.travel(NOW, tick=False)
def test_a_payment_waiting_for_a_second_officer_stops_the_move(
    bamako, bko_plan, seg_plan, segou, other_secretary, treasurer
):
    member = MemberFactory(branch=bamako, joined_on=JOINED)
    pay(treasurer, member, 6000, "BIG-1")  # above 5 000 XOF: waits for a second officer
    with pytest.raises(ValidationError):
        _move(other_secretary, member, segou, Closing.CARRIED)
    member.refresh_from_db()
    assert member.branch == bamako


@time_machine.travel(NOW, tick=False)
def test_same_currency_moves_carry_without_a_rate(behind, bamako, segou, seg_plan, other_secretary):
    _move(other_secretary, behind, segou, Closing.CARRIED)
    assert _branch_total(behind, bamako) == ({"XOF"}, 0)
    assert _branch_total(behind, segou) == ({"XOF"}, 5000)
    assert AccountTransfer.objects.get().rate is None


@time_machine.travel(NOW, tick=False)
def test_one_move_closes_the_account_once(behind, johannesburg, jhb_plan, jhb_secretary):
    move = _move(jhb_secretary, behind, johannesburg, Closing.WRITTEN_OFF, reason="r")
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountTransfer.objects.create(
            move=move,
            member=behind,
            closing=Closing.SETTLED,
            old_balance=0,
            old_currency="XOF",
            new_balance=0,
            new_currency="ZAR",
        )


def test_rates_are_typed_by_a_treasurer_of_the_branch(
    bamako, johannesburg, treasurer, secretary, jhb_treasurer
):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        dues_moves.record_rate(
            actor=secretary.user, branch=bamako, to_currency="ZAR", rate=Decimal("0.03")
        )
    with pytest.raises(PermissionDenied):
        dues_moves.record_rate(
            actor=jhb_treasurer.user, branch=bamako, to_currency="ZAR", rate=Decimal("0.03")
        )
    for bad in (Decimal("0"), Decimal("-1"), Decimal("0.1234567890123")):
        with pytest.raises(ValidationError):
            dues_moves.record_rate(actor=treasurer.user, branch=bamako, to_currency="ZAR", rate=bad)
    with pytest.raises(ValidationError):
        dues_moves.record_rate(
            actor=treasurer.user, branch=bamako, to_currency="XOF", rate=Decimal("1")
        )
    assert not ConversionRate.objects.exists()
    dues_moves.record_rate(
        actor=treasurer.user, branch=bamako, to_currency="ZAR", rate=Decimal("0.0302")
    )
    back = dues_moves.latest_rate("ZAR", "XOF")
    assert back is not None and (back.numerator, back.denominator) == (5000, 151)


def test_the_treasurer_records_a_rate_on_her_screen(client, login, treasurer, bamako, johannesburg):
    login(client, treasurer)
    url = reverse("dues:exchange_rates", args=["BKO"])
    page = client.get(url)
    assert "XOF to ZAR: no rate recorded" in page.text
    bad = client.post(url, {"to_currency": "ZAR", "rate": "-2"})
    assert bad.status_code == 400 and not ConversionRate.objects.exists()
    client.post(url, {"to_currency": "ZAR", "rate": "0.0302"}, follow=True)
    assert "1 XOF = 0.0302 ZAR" in client.get(url).text
