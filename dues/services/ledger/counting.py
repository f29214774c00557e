"""What makes a ledger row count, shared by the ways money comes in and goes out.

A row counts once it needs no second officer or has had one. When it starts counting
the welfare funds take their share (or give it back), the oldest open charges are
settled and the member's standing is re-checked. Call everything here under the
member's lock (dues.services.common.lock_member), inside the caller's transaction.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Subquery, Sum
from django.utils.translation import gettext as _

from dues.models import DuesPlan, LedgerEntry, PaymentConfirmation
from dues.selectors import counts_q
from dues.services import allocation
from dues.services.common import sync_standing
from dues.welfare.services.shares import record_dues_share
from union.models import Member


def audit_target(entry: LedgerEntry) -> str:
    """The audit log's opaque id for a ledger row."""
    return f"entry:{entry.public_id}"


def branch_plan(member: Member) -> DuesPlan:
    """The dues plan of the member's branch; ValidationError while it has none."""
    plan = DuesPlan.objects.filter(branch_id=member.branch_id).first()
    if plan is None:
        raise ValidationError(_("This branch has no dues plan yet."), code="no_plan")
    return plan


def check_amount(amount: int, currency: str, plan: DuesPlan) -> None:
    """A whole number of minor units above zero, in the plan's currency; else ValidationError."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationError({"amount": _("Enter an amount greater than zero.")}, code="amount")
    if currency != plan.currency:
        raise ValidationError(
            {"amount": _("This branch takes dues in %(currency)s.") % {"currency": plan.currency}},
            code="currency",
        )


def notify_payment(member: Member, entry: LedgerEntry) -> None:
    """Queue the receipt message (an outbox row, sent after commit) if the member agreed
    to be contacted."""
    from union.notifications.services import choose_channel, notify_member

    if not choose_channel(member):
        return
    notify_member(
        member=member,
        kind="dues_payment",
        dedupe_key=f"dues-payment:{entry.pk}",
        context={
            "amount": entry.magnitude,
            "currency": entry.currency,
            "receipt": entry.receipt_number,
        },
    )


def start_counting(member: Member, entry: LedgerEntry) -> Member:
    """The entry now counts: the welfare funds take their share (or give it back), then
    settle what it can and re-check the member's standing."""
    record_dues_share(entry)
    allocation.settle(member.pk)
    return sync_standing(member)


def counts(entry: LedgerEntry) -> bool:
    """The row counts: it needs no second officer, or has had one."""
    return not entry.needs_confirmation or PaymentConfirmation.objects.filter(entry=entry).exists()


def owed(member_id: int) -> int:
    """Minor units the member owes now (0 if paid ahead), from the rows that count."""
    # Her account in her current branch: a branch she left closed hers when she moved.
    branch = Member.objects.filter(pk=member_id).values("branch_id")
    total = (
        LedgerEntry.objects.filter(member_id=member_id, branch_id=Subquery(branch))
        .filter(counts_q())
        .aggregate(total=Sum("amount"))["total"]
    )
    return max(total or 0, 0)


def apply_reversal(member: Member, *, corrected: LedgerEntry, reversal: LedgerEntry) -> None:
    """The correction now counts: undo what the corrected row settled and match the two."""
    if corrected.amount > 0:
        allocation.release_debit(corrected)
        allocation.allocate(credit=reversal, debit=corrected, amount=corrected.amount)
    else:
        allocation.release_credit(corrected)
        allocation.allocate(credit=corrected, debit=reversal, amount=-corrected.amount)
    start_counting(member, reversal)
