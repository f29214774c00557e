"""Dues arrears taken from a payout, where the fund's rules say so.

The fund pays the member's arrears for her out of the grant: one row in her dues ledger
(a payment, method "welfare", which settles her oldest months like any payment and
brings the funds their share) and one row in the fund's ledger (kind "arrears", next to
the payout's own), both in the payout's transaction. A payout that fails gives both
back, copying the recorded amounts: a correction of the dues row and a return row in
the fund. Called by dues.welfare.services.payouts only, inside its transaction.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from dues import money
from dues.models import EntryKind, LedgerEntry, Method
from dues.services.common import lock_member
from dues.services.ledger.counting import apply_reversal, owed, start_counting
from dues.welfare.models import FundEntry, FundEntryKind, FundRule, Payout, WelfareApplication

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def arrears_to_take(application: WelfareApplication, rule: FundRule | None) -> int:
    """Minor units of the grant that go to the member's arrears: what she owes now, up to
    the rule's share of the grant (the rule of the decision date). Takes the member's lock
    when the rule deducts anything, so what she owes cannot change before it is booked."""
    if rule is None or not rule.arrears_bp:
        return 0
    limit = rule.arrears_limit(application.amount_granted or 0)
    if not limit:
        return 0
    lock_member(application.member_id)
    return min(owed(application.member_id), limit)


def arrears_preview(application: WelfareApplication) -> int:
    """What paying now would take for the member's arrears (for the pay page: read without
    a lock, so the payout itself may take a little less or more)."""
    rule = application.rule
    if rule is None or not rule.arrears_bp:
        return 0
    return min(owed(application.member_id), rule.arrears_limit(application.amount_granted or 0))


def pay_arrears(
    *, actor: User, application: WelfareApplication, amount: int, paid_on: date
) -> LedgerEntry:
    """Book `amount` of the grant as a dues payment in the member's ledger (the payout
    then points at it and writes the fund's "arrears" row beside its own)."""
    member = lock_member(application.member_id)
    entry = LedgerEntry.objects.create(
        member=member,
        branch_id=member.branch_id,
        kind=EntryKind.PAYMENT,
        amount=-amount,
        currency=application.currency,
        booked_on=paid_on,
        method=Method.WELFARE,
        recorded_by=actor,
    )
    start_counting(member, entry)
    return entry


def return_arrears(*, actor: User, payout: Payout, reason: str) -> None:
    """A failed payout's arrears go back: the dues payment is corrected and the fund gets
    the recorded amount back."""
    taken = FundEntry.objects.get(payout=payout, kind=FundEntryKind.ARREARS)
    assert payout.arrears_entry_id is not None  # noqa: S101 - payout_arrears_booked
    entry = LedgerEntry.objects.select_related("branch").get(pk=payout.arrears_entry_id)
    member = lock_member(entry.member_id)
    today = money.local_today(entry.branch.time_zone)
    correction = LedgerEntry.objects.create(
        member_id=entry.member_id,
        branch_id=entry.branch_id,
        kind=EntryKind.REVERSAL,
        amount=-entry.amount,
        currency=entry.currency,
        booked_on=today,
        method=Method.WELFARE,
        reverses=entry,
        reason=reason,
        recorded_by=actor,
    )
    FundEntry.objects.create(
        fund_id=payout.fund_id,
        kind=FundEntryKind.ARREARS_REVERSAL,
        amount=-taken.amount,
        currency=payout.currency,
        booked_on=today,
        payout=payout,
        reverses=taken,
        recorded_by=actor,
    )
    apply_reversal(member, corrected=entry, reversal=correction)
