"""Card payments and refunds, booked by the system from Stripe events (no acting user:
Stripe is the second party, so card payments count at once whatever the threshold).

The worker books payments in batches (book_card_payments): one statement per kind of
row for the whole batch, members locked in id order so two batches never deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from dues.audit import DuesAction
from dues.models import DuesAccount, DuesPlan, EntryKind, LedgerEntry, Method
from dues.services import allocation
from dues.services.common import lock_member, sync_standings
from dues.services.ledger.counting import audit_target, check_amount, start_counting
from dues.welfare.services.shares import record_dues_shares
from union.models import AuditEvent, Branch, Member
from union.services.audit import record_access


@dataclass(frozen=True)
class CardPayment:
    """One payment Stripe reported, to book for a member."""

    member_id: int
    amount: int  # minor units, positive
    currency: str
    external_id: str  # Stripe's payment intent or invoice id: booked once
    paid_at: datetime


def book_card_payments(
    payments: Sequence[CardPayment],
) -> list[tuple[LedgerEntry, bool] | ValidationError]:
    """book_card_payment for each of `payments`, in the caller's transaction: the rows of
    the whole batch written together, one statement per kind of row (the funds' shares
    too: one statement for the batch, as for a single booking).

    Returns, in the same order, (ledger row, created) for each payment (a Stripe id booked
    before, or twice in the batch, returns that row: a repeat books nothing) or the
    ValidationError that refused it (no dues plan, a wrong amount or currency; nothing is
    written for it). Members are locked in id order, so two batches never deadlock.
    Side effects as for book_card_payment: the funds' shares, settled charges, lapsed
    members reinstated, a receipt message queued for members who agreed to be contacted.
    """
    from union.notifications.services import choose_channel, notify_members

    if not payments:
        return []
    # The locks lock_member takes, in an order that cannot deadlock: the members by id,
    # then their branches by id (one member's booking locks the member, then the branch).
    members = {
        member.pk: member
        for member in Member.objects.select_for_update(of=("self",))
        .select_related("branch")
        .filter(pk__in={p.member_id for p in payments})
        .order_by("pk")
    }
    list(
        Branch.objects.select_for_update()
        .filter(pk__in={m.branch_id for m in members.values()})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    booked: dict[str, LedgerEntry] = {
        entry.external_id: entry
        for entry in LedgerEntry.objects.filter(
            method=Method.CARD,
            provider="stripe",
            kind=EntryKind.PAYMENT,
            external_id__in={p.external_id for p in payments},
        )
    }
    plans = {
        plan.branch_id: plan
        for plan in DuesPlan.objects.filter(branch_id__in={m.branch_id for m in members.values()})
    }
    results: list[tuple[LedgerEntry, bool] | ValidationError] = []
    new: list[LedgerEntry] = []
    for payment in payments:
        earlier = booked.get(payment.external_id)
        if earlier is not None:
            results.append((earlier, False))
            continue
        member = members[payment.member_id]
        plan = plans.get(member.branch_id)
        try:
            if plan is None:
                raise ValidationError(_("This branch has no dues plan yet."), code="no_plan")
            check_amount(payment.amount, payment.currency, plan)
        except ValidationError as exc:
            results.append(exc)
            continue
        entry = LedgerEntry(
            member=member,
            branch_id=member.branch_id,
            kind=EntryKind.PAYMENT,
            amount=-payment.amount,
            currency=payment.currency,
            booked_on=payment.paid_at.astimezone(ZoneInfo(member.branch.time_zone)).date(),
            method=Method.CARD,
            provider="stripe",
            external_id=payment.external_id,
        )
        booked[payment.external_id] = entry  # a second event for the same payment: this row
        new.append(entry)
        results.append((entry, True))
    if not new:
        return results
    LedgerEntry.objects.bulk_create(new)
    record_dues_shares(new)  # one statement for the batch
    paying = {entry.member_id for entry in new}
    allocation.settle_many(paying)
    now = sync_standings([members[pk] for pk in sorted(paying)])
    receipts = []
    for entry in new:
        member = now[entry.member_id]
        if choose_channel(member):
            receipts.append(
                (
                    member,
                    f"dues-payment:{entry.pk}",
                    {
                        "amount": entry.magnitude,
                        "currency": entry.currency,
                        "receipt": entry.receipt_number,
                    },
                )
            )
    if receipts:
        notify_members(kind="dues_payment", messages_for=receipts)
    # The audit rows record_access would write, in one statement (as the lapsing run does).
    AuditEvent.objects.bulk_create(
        AuditEvent(action=DuesAction.PAYMENT, target=audit_target(entry), branch_id=entry.branch_id)
        for entry in new
    )
    return results


def book_card_payment(
    *,
    account: DuesAccount,
    amount: int,
    currency: str,
    external_id: str,
    paid_at: datetime,
) -> tuple[LedgerEntry, bool]:
    """Book a Stripe payment once per Stripe id; (entry, created). Stripe is the second
    party here, so card payments count at once whatever the threshold."""
    payment = CardPayment(
        member_id=account.member_id,
        amount=amount,
        currency=currency,
        external_id=external_id,
        paid_at=paid_at,
    )
    with transaction.atomic():
        (result,) = book_card_payments([payment])
        if isinstance(result, ValidationError):
            raise result
    return result


def book_card_refund(
    *, payment: LedgerEntry, amount: int, external_id: str, refunded_at: datetime
) -> tuple[LedgerEntry, bool]:
    """Book a Stripe refund of a card payment once per refund id; (entry, created)."""
    with transaction.atomic():
        member = lock_member(payment.member_id)
        existing = LedgerEntry.objects.filter(
            method=Method.CARD, provider="stripe", external_id=external_id, kind=EntryKind.REFUND
        ).first()
        if existing is not None:
            return existing, False
        payment = LedgerEntry.objects.select_related("branch").get(pk=payment.pk)
        refunded = (
            LedgerEntry.objects.filter(refund_of=payment).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        if amount <= 0 or amount > payment.magnitude - refunded:
            raise ValidationError(_("The refund is larger than the payment."), code="refund")
        if LedgerEntry.objects.filter(reverses=payment).exists():
            raise ValidationError(_("This payment was corrected already."), code="reversed")
        refund = LedgerEntry.objects.create(
            member_id=payment.member_id,
            branch_id=payment.branch_id,
            kind=EntryKind.REFUND,
            amount=amount,
            currency=payment.currency,
            booked_on=refunded_at.astimezone(ZoneInfo(payment.branch.time_zone)).date(),
            method=Method.CARD,
            provider="stripe",
            external_id=external_id,
            refund_of=payment,
        )
        free = allocation.free_credit(payment)
        if amount > free:
            allocation.release_credit(payment, amount - free)
        allocation.allocate(credit=payment, debit=refund, amount=amount)
        start_counting(member, refund)
        record_access(
            actor=None,
            action=DuesAction.REVERSAL,
            target=audit_target(refund),
            branch=payment.branch,
        )
    return refund, True
