"""Money in at the counter, second-officer confirmation, waivers and corrections.

Every function locks the member (all writes to one member's ledger are serialised on
that row), writes new ledger rows only, settles the oldest open charges, re-checks good
standing (lapsing or reinstating the member), writes the audit entry, and queues any
message in the outbox, which sends it after commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Subquery, Sum
from django.utils.translation import gettext as _

from dues import money, providers
from dues.audit import DuesAction
from dues.models import (
    CashBookClose,
    DuesAccount,
    DuesPlan,
    EntryKind,
    LedgerEntry,
    Method,
    PaymentConfirmation,
)
from dues.selectors import counts_q
from dues.services import allocation
from dues.services.common import lock_member, sync_standing, sync_standings
from dues.welfare.services.shares import record_dues_share, record_dues_shares
from union.models import AuditEvent, Branch, Member, MemberStatus
from union.permissions import Perm, require, require_another_officer
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RECEIPT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/]{0,19}$")
# An officer may enter a payment taken earlier, but not one from another year.
BACKDATE_LIMIT = timedelta(days=92)


def _target(entry: LedgerEntry) -> str:
    return f"entry:{entry.public_id}"


def _plan(member: Member) -> DuesPlan:
    plan = DuesPlan.objects.filter(branch_id=member.branch_id).first()
    if plan is None:
        raise ValidationError(_("This branch has no dues plan yet."), code="no_plan")
    return plan


def _check_amount(amount: int, currency: str, plan: DuesPlan) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationError({"amount": _("Enter an amount greater than zero.")}, code="amount")
    if currency != plan.currency:
        raise ValidationError(
            {"amount": _("This branch takes dues in %(currency)s.") % {"currency": plan.currency}},
            code="currency",
        )


def _notify_payment(member: Member, entry: LedgerEntry) -> None:
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


def _counted(member: Member, entry: LedgerEntry) -> Member:
    """The entry now counts: the welfare funds take their share (or give it back), then
    settle what it can and re-check the member's standing."""
    record_dues_share(entry)
    allocation.settle(member.pk)
    return sync_standing(member)


# --- cash and mobile money -----------------------------------------------------------


def record_payment(
    *,
    actor: User,
    member: Member,
    amount: int,
    currency: str,
    method: str,
    receipt_number: str,
    paid_on: date,
    provider: str = "",
    external_id: str = "",
) -> LedgerEntry:
    """Record cash or mobile money taken by an officer, against the branch's receipt book.

    Above the branch's threshold the entry counts only once a second officer confirms it.
    Recording the same receipt again for the same member and amount returns the first
    entry (a double submission); any other reuse of a receipt number is refused.
    Side effects: settles open charges, may reinstate a lapsed member, queues a
    payment message to members who agreed to be contacted.
    """
    require(actor, Perm.RECORD_PAYMENT, member.branch_id)
    require_another_officer(actor, member)
    slip = _validate_counter_payment(
        method=method, receipt_number=receipt_number, provider=provider, external_id=external_id
    )
    with transaction.atomic():
        booked = _book_counter_payment(
            actor=actor,
            member_id=member.pk,
            slip=slip,
            amount=amount,
            currency=currency,
            paid_on=paid_on,
        )
        if booked.repeat:
            return booked.entry
        _after_counter_payment(booked)
        record_access(
            actor=actor,
            action=DuesAction.PAYMENT,
            target=_target(booked.entry),
            branch=booked.entry.branch,
        )
    return booked.entry


@dataclass(frozen=True)
class _CounterSlip:
    """What the officer wrote on the counter form, checked and normalised."""

    method: str
    provider: str
    external_id: str
    receipt_number: str


@dataclass(frozen=True)
class _Booked:
    entry: LedgerEntry
    member: Member  # as the entry left them: paying may have reinstated them
    repeat: bool  # the same receipt was recorded before: nothing new was written


def _validate_counter_payment(
    *, method: str, receipt_number: str, provider: str, external_id: str
) -> _CounterSlip:
    """The checks that need only the form: a counter method, its details, a receipt number."""
    method_provider = providers.PROVIDERS.get(method)
    if method_provider is None or not method_provider.at_counter:
        raise ValidationError({"method": _("Choose cash or mobile money.")}, code="method")
    details = method_provider.clean_details(provider=provider, external_id=external_id)
    receipt_number = receipt_number.strip().upper()
    # Mobile money carries its own proof (the operator's reference): the receipt book is
    # for cash, and for mobile money only when the officer wrote a receipt anyway.
    optional = method == Method.MOBILE_MONEY and not receipt_number
    if not optional and not RECEIPT_NUMBER.match(receipt_number):
        raise ValidationError(
            {"receipt_number": _("Enter the number printed on the receipt (letters and digits).")},
            code="receipt",
        )
    return _CounterSlip(
        method=method,
        provider=details.provider,
        external_id=details.external_id,
        receipt_number=receipt_number,
    )


def _book_counter_payment(
    *, actor: User, member_id: int, slip: _CounterSlip, amount: int, currency: str, paid_on: date
) -> _Booked:
    """Write the payment row under the member's lock, after the checks that need the
    database, and let it count at once when it is below the confirmation threshold.
    Call inside the caller's transaction."""
    member = lock_member(member_id)
    plan = _plan(member)
    _check_amount(amount, currency, plan)
    slip = _branch_operator(member.branch, slip)
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.LAPSED):
        raise ValidationError(_("Only active or lapsed members pay dues."), code="status")
    today = money.local_today(member.branch.time_zone)
    if paid_on > today or paid_on < today - BACKDATE_LIMIT:
        raise ValidationError(
            {"paid_on": _("The date must be today or within the last three months.")},
            code="date",
        )
    # The branch lock orders this entry against a close of the cash book: either the
    # entry is in the day's totals or it is refused, never counted after them.
    Branch.objects.select_for_update(no_key=True).filter(pk=member.branch_id).first()
    if CashBookClose.objects.filter(branch_id=member.branch_id, day=paid_on).exists():
        raise ValidationError(
            {"paid_on": _("The cash book for that day is closed.")}, code="closed"
        )
    earlier = _earlier_entry(member=member, slip=slip, amount=amount)
    if earlier is not None:
        return _Booked(entry=earlier, member=member, repeat=True)
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                member=member,
                branch_id=member.branch_id,
                kind=EntryKind.PAYMENT,
                amount=-amount,
                currency=currency,
                booked_on=paid_on,
                method=slip.method,
                provider=slip.provider,
                external_id=slip.external_id,
                receipt_number=slip.receipt_number,
                needs_confirmation=amount > plan.confirm_threshold,
                recorded_by=actor,
            )
    except IntegrityError as exc:
        # Another officer used the number (or reference) a moment ago.
        raise ValidationError(
            _("This receipt number or reference was just recorded by someone else."),
            code="conflict",
        ) from exc
    if not entry.needs_confirmation:
        member = _counted(member, entry)
    return _Booked(entry=entry, member=member, repeat=False)


def _is_this_payment(
    entry: LedgerEntry, *, member: Member, slip: _CounterSlip, amount: int
) -> bool:
    """The same form sent again: same member, amount, method, receipt and reference."""
    return (
        entry.member_id == member.pk
        and entry.amount == -amount
        and entry.method == slip.method
        and entry.receipt_number == slip.receipt_number
        and entry.external_id == slip.external_id
    )


def _branch_operator(branch: Branch, slip: _CounterSlip) -> _CounterSlip:
    """Mobile money goes through one of the operators the branch set up, spelt its way:
    never free text (it is shown on screens and exported to spreadsheets)."""
    if slip.method != Method.MOBILE_MONEY:
        return slip
    if not branch.mobile_money_providers:
        raise ValidationError(
            {
                "provider": _(
                    "This branch has no mobile-money operators set up yet. Ask the "
                    "administrator to add them to the branch."
                )
            },
            code="no_operators",
        )
    operator = branch.mobile_money_provider(slip.provider)
    if operator is None:
        raise ValidationError(
            {
                "provider": _("Choose one of this branch's mobile-money operators: %(names)s.")
                % {"names": ", ".join(branch.mobile_money_providers)}
            },
            code="operator",
        )
    return replace(slip, provider=operator)


def _earlier_entry(*, member: Member, slip: _CounterSlip, amount: int) -> LedgerEntry | None:
    """The entry this very payment was recorded as before (a double submission), or None
    if its receipt number and reference are unused; ValidationError if either was used for
    something else."""
    same_receipt = (
        LedgerEntry.objects.filter(branch_id=member.branch_id, receipt_number=slip.receipt_number)
        .exclude(receipt_number="")
        .first()
    )
    if same_receipt is not None:
        if _is_this_payment(same_receipt, member=member, slip=slip, amount=amount):
            return same_receipt
        raise ValidationError(
            {
                "receipt_number": _("Receipt number %(number)s is already used in this branch.")
                % {"number": slip.receipt_number}
            },
            code="receipt_used",
        )
    same_reference = (
        LedgerEntry.objects.filter(
            method=slip.method,
            provider=slip.provider,
            external_id=slip.external_id,
            kind=EntryKind.PAYMENT,
        ).first()
        if slip.external_id
        else None
    )
    if same_reference is not None:
        if _is_this_payment(same_reference, member=member, slip=slip, amount=amount):
            return same_reference
        raise ValidationError(
            {"external_id": _("This transaction reference is already recorded.")},
            code="reference_used",
        )
    return None


def _after_counter_payment(booked: _Booked) -> None:
    """Tell the member, with the receipt number, once the payment counts: the message is
    an outbox row now and goes out after commit. A payment waiting for a second officer
    says nothing to the member yet (confirm_payment tells them); the officers who may
    confirm it are told it waits (those who agreed to messages)."""
    from union.notifications.services import tell_officers

    entry = booked.entry
    if not entry.needs_confirmation:
        _notify_payment(booked.member, entry)
        return
    tell_officers(
        queue="dues.confirmations",
        branch_id=entry.branch_id,
        perm=Perm.CONFIRM_PAYMENT,
        about=_target(entry),
        exclude_user_id=entry.recorded_by_id,
    )


def confirm_payment(*, actor: User, entry: LedgerEntry) -> LedgerEntry:
    """A second officer confirms an entry above the threshold (a payment, or the correction
    of an entry that counts); from now on it counts.

    Confirming twice is a no-op. The officer who recorded the entry cannot confirm it
    (the database refuses it too). Side effects as for record_payment; a confirmed
    correction releases what the corrected entry settled, and tells nobody.
    """
    require(actor, Perm.CONFIRM_PAYMENT, entry.branch_id)
    with transaction.atomic():
        member = lock_member(entry.member_id)
        require_another_officer(actor, member)
        entry = LedgerEntry.objects.select_related("branch", "reverses").get(pk=entry.pk)
        if PaymentConfirmation.objects.filter(entry=entry).exists():
            return entry
        if not entry.needs_confirmation or entry.kind not in (
            EntryKind.PAYMENT,
            EntryKind.REVERSAL,
        ):
            raise ValidationError(_("This entry needs no confirmation."), code="not_needed")
        corrected = entry.reverses  # set on reversals only (a database constraint)
        if entry.kind == EntryKind.REVERSAL and (corrected is None or not _counts(corrected)):
            raise ValidationError(
                _("This corrects an entry that never counted; there is nothing to confirm."),
                code="never_counted",
            )
        if entry.kind == EntryKind.PAYMENT and LedgerEntry.objects.filter(reverses=entry).exists():
            raise ValidationError(
                _("This entry was corrected; there is nothing to confirm."), code="reversed"
            )
        recorder = entry.recorded_by
        if recorder is None:  # the database requires a recorder on entries that need this
            raise ValidationError(_("This entry needs no confirmation."), code="not_needed")
        if recorder.pk == actor.pk:
            raise ValidationError(
                _("Another officer must confirm this: you recorded it yourself."),
                code="same_officer",
            )
        PaymentConfirmation.objects.create(entry=entry, recorded_by=recorder, confirmed_by=actor)
        if corrected is not None:
            _apply_reversal(member, corrected=corrected, reversal=entry)
        else:
            member = _counted(member, entry)
            _notify_payment(member, entry)
        record_access(
            actor=actor, action=DuesAction.CONFIRM, target=_target(entry), branch=entry.branch
        )
    return entry


def _counts(entry: LedgerEntry) -> bool:
    """The row counts: it needs no second officer, or has had one."""
    return not entry.needs_confirmation or PaymentConfirmation.objects.filter(entry=entry).exists()


# --- waivers and corrections ---------------------------------------------------------


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
        plan = _plan(member)
        _check_amount(amount, plan.currency, plan)
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
        _counted(member, entry)
        record_access(
            actor=actor, action=DuesAction.WAIVER, target=_target(entry), branch=entry.branch
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
        counted = _counts(entry)
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
            _apply_reversal(member, corrected=entry, reversal=reversal)
        record_access(
            actor=actor,
            action=DuesAction.REVERSAL,
            target=_target(entry),
            branch=entry.branch,
        )
    return reversal


def _apply_reversal(member: Member, *, corrected: LedgerEntry, reversal: LedgerEntry) -> None:
    """The correction now counts: undo what the corrected row settled and match the two."""
    if corrected.amount > 0:
        allocation.release_debit(corrected)
        allocation.allocate(credit=reversal, debit=corrected, amount=corrected.amount)
    else:
        allocation.release_credit(corrected)
        allocation.allocate(credit=corrected, debit=reversal, amount=-corrected.amount)
    _counted(member, reversal)


# --- card payments (booked by the system from Stripe events) -------------------------


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
            _check_amount(payment.amount, payment.currency, plan)
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
        AuditEvent(action=DuesAction.PAYMENT, target=_target(entry), branch_id=entry.branch_id)
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
        _counted(member, refund)
        record_access(
            actor=None,
            action=DuesAction.REVERSAL,
            target=_target(refund),
            branch=payment.branch,
        )
    return refund, True
