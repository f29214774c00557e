"""Money in at the counter (cash and mobile money) and its second-officer confirmation.

Every function locks the member (all writes to one member's ledger are serialised on
that row), writes new ledger rows only, lets them count (dues.services.ledger.counting),
writes the audit entry, and queues any message in the outbox, which sends it after commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from dues import money, providers
from dues.audit import DuesAction
from dues.models import CashBookClose, EntryKind, LedgerEntry, Method, PaymentConfirmation
from dues.services.common import lock_member
from dues.services.ledger.counting import (
    apply_reversal,
    audit_target,
    branch_plan,
    check_amount,
    counts,
    notify_payment,
    start_counting,
)
from union.models import Branch, Member, MemberStatus
from union.permissions import Perm, require, require_another_officer
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RECEIPT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/]{0,19}$")
# An officer may enter a payment taken earlier, but not one from another year.
BACKDATE_LIMIT = timedelta(days=92)


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
            target=audit_target(booked.entry),
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
    plan = branch_plan(member)
    check_amount(amount, currency, plan)
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
        member = start_counting(member, entry)
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
        notify_payment(booked.member, entry)
        return
    tell_officers(
        queue="dues.confirmations",
        branch_id=entry.branch_id,
        perm=Perm.CONFIRM_PAYMENT,
        about=audit_target(entry),
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
        if entry.kind == EntryKind.REVERSAL and (corrected is None or not counts(corrected)):
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
            apply_reversal(member, corrected=corrected, reversal=entry)
        else:
            member = start_counting(member, entry)
            notify_payment(member, entry)
        record_access(
            actor=actor, action=DuesAction.CONFIRM, target=audit_target(entry), branch=entry.branch
        )
    return entry
