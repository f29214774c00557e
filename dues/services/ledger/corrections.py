"""Waivers and corrections: new rows that take back what a member owes, or undo a row.

Each locks the member, writes new ledger rows only (a correction points at the row it
corrects), lets them count once they may, and writes the audit entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dues import money
from dues.audit import DuesAction
from dues.models import CashBookClose, DuesPlan, EntryKind, LedgerEntry, Method
from dues.services.common import lock_member
from dues.services.ledger.counting import (
    apply_reversal,
    audit_target,
    branch_plan,
    check_amount,
    counts,
    owed,
    start_counting,
)
from union.models import Branch, Member
from union.permissions import Perm, require, require_another_officer
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def grant_waiver(*, actor: User, member: Member, amount: int, reason: str) -> LedgerEntry:
    """Waive part or all of what a member owes (hardship), with a reason kept encrypted.

    Side effects: settles the oldest open charges; may reinstate a lapsed member.
    """
    require(actor, Perm.GRANT_WAIVER, member.branch_id)
    require_another_officer(actor, member)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for the waiver.")}, code="reason")
    with transaction.atomic():
        member = lock_member(member.pk)
        plan = branch_plan(member)
        check_amount(amount, plan.currency, plan)
        outstanding = owed(member.pk)
        if amount > outstanding:
            raise ValidationError(
                {
                    "amount": _("A waiver can cover at most what the member owes (%(owed)s).")
                    % {"owed": money.format_money(outstanding, plan.currency)}
                },
                code="too_much",
            )
        entry = LedgerEntry.objects.create(
            member=member,
            branch_id=member.branch_id,
            kind=EntryKind.WAIVER,
            amount=-amount,
            currency=plan.currency,
            booked_on=money.local_today(member.branch.time_zone),
            reason=reason,
            recorded_by=actor,
        )
        start_counting(member, entry)
        record_access(
            actor=actor, action=DuesAction.WAIVER, target=audit_target(entry), branch=entry.branch
        )
    return entry


def reverse_entry(*, actor: User, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Correct a mistaken row with a new row of the opposite amount that points at it.

    Correcting the same row again returns the first correction; a correction itself cannot
    be corrected, nor can a card payment (Stripe refunds those). The two-officer rule
    holds both ways: the correction of a row above the branch's threshold counts only once
    a second officer confirms it (confirm_payment), like the payment did. Side effects,
    once the correction counts: what the row settled is released and settled again oldest
    first; the member may lapse or be reinstated.
    """
    perm = (
        Perm.GRANT_WAIVER
        if entry.kind in (EntryKind.CHARGE, EntryKind.WAIVER)
        else Perm.RECORD_PAYMENT
    )
    require(actor, perm, entry.branch_id)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say what was wrong with the entry.")}, code="reason")
    with transaction.atomic():
        member = lock_member(entry.member_id)
        require_another_officer(actor, member)
        entry = LedgerEntry.objects.select_related("branch").get(pk=entry.pk)
        existing = LedgerEntry.objects.filter(reverses=entry).first()
        if existing is not None:
            return existing
        if entry.kind == EntryKind.REVERSAL:
            raise ValidationError(
                _("A correction cannot itself be corrected. Record a new entry instead."),
                code="reversal_of_reversal",
            )
        if entry.branch_id != member.branch_id or entry.kind in (
            EntryKind.CLOSING,
            EntryKind.OPENING,
        ):
            # Her account in a branch she left was closed, in its currency, when she moved:
            # reopening it would leave a balance nobody collects. A waiver corrects the
            # carried amount in the new branch.
            raise ValidationError(
                _(
                    "This entry belongs to an account closed when the member moved branch: "
                    "it cannot be corrected."
                ),
                code="moved",
            )
        if entry.method == Method.CARD:
            raise ValidationError(
                _("Card payments are corrected by a refund in Stripe."), code="card"
            )
        today = money.local_today(entry.branch.time_zone)
        if entry.method in (Method.CASH, Method.MOBILE_MONEY):
            Branch.objects.select_for_update(no_key=True).filter(pk=entry.branch_id).first()
            if CashBookClose.objects.filter(branch_id=entry.branch_id, day=today).exists():
                raise ValidationError(
                    _("Today's cash book is closed: correct this entry tomorrow."),
                    code="closed",
                )
        counted = counts(entry)
        plan = DuesPlan.objects.filter(branch_id=entry.branch_id).first()
        above = plan is not None and entry.magnitude > plan.confirm_threshold
        reversal = LedgerEntry.objects.create(
            member_id=entry.member_id,
            branch_id=entry.branch_id,
            kind=EntryKind.REVERSAL,
            amount=-entry.amount,
            currency=entry.currency,
            booked_on=today,
            method=entry.method,
            provider=entry.provider,
            reverses=entry,
            reason=reason,
            # The correction of an entry that never counted does not count either; that of
            # a big one waits for a second officer.
            needs_confirmation=not counted or above,
            recorded_by=actor,
        )
        if counted and not above:
            apply_reversal(member, corrected=entry, reversal=reversal)
        record_access(
            actor=actor,
            action=DuesAction.REVERSAL,
            target=audit_target(entry),
            branch=entry.branch,
        )
    return reversal
