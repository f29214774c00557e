"""Paying an approved application, and reversing a payout that failed.

The treasurer pays as a separate step, and never an application they submitted, approved
or benefit from. Paying locks the application (a second post of the same form finds it
paid and returns the first payout) and then the fund, and reads the balance again under
that lock: two payouts racing for the last money of a fund cannot both pass (PostgreSQL
checks it once more on insert). A failed payout is reversed, with or without its fee, and
the application is approved again, ready to be paid once more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dues import money
from dues.providers.payouts import payout_provider
from dues.welfare import selectors
from dues.welfare.audit import WelfareAction
from dues.welfare.models import (
    ApplicationStatus,
    FeePayer,
    FundEntry,
    FundEntryKind,
    Payout,
    PayoutMethod,
    PayoutStatus,
    WelfareApplication,
)
from dues.welfare.services.arrears import arrears_to_take, pay_arrears, return_arrears
from dues.welfare.services.common import audit, lock_application, lock_funds
from union.crypto import keyed_hash
from union.models import Member
from union.permissions import Perm, require, require_another_officer

if TYPE_CHECKING:
    from django.contrib.auth.models import User

BACKDATE_LIMIT = timedelta(days=92)


def _not_involved(actor: User, application: WelfareApplication) -> None:
    """Nobody pays a claim that is hers, that she submitted, or that she approved."""
    require_another_officer(actor, application.member)
    if application.submitted_by_id == actor.pk:
        raise ValidationError(
            _("You submitted this application: another treasurer pays it."), code="submitter"
        )
    if actor.pk in selectors.approvers(application):
        raise ValidationError(
            _("You approved this application: another treasurer pays it."), code="approver"
        )


def pay_application(
    *,
    actor: User,
    application: WelfareApplication,
    method: str,
    paid_on: date,
    provider: str = "",
    reference: str = "",
    fee: int = 0,
) -> Payout:
    """Record the payment of an approved application's grant from its fund.

    Provider fees are a ledger row of their own; the rule in force on the decision date
    says whether the fund pays them on top or they come out of the amount sent, and
    whether the member's dues arrears are taken from the grant first (up to its share of
    the grant): then one dues payment in her ledger and one "arrears" row in the fund's,
    in this transaction (dues.welfare.services.arrears). Posting
    the same payment again returns the first payout. Refused: an application that is not
    approved, a payer who took part in it, a reference already used, a fund that cannot
    afford it (or is below zero after a correction). Side effect: the member is told.
    """
    require(actor, Perm.PAY_WELFARE, application.branch_id)
    details = payout_provider(method).clean(provider=provider, reference=reference)
    if not isinstance(fee, int) or isinstance(fee, bool) or fee < 0:
        raise ValidationError({"fee": _("The fee is zero or more.")}, code="fee")
    with transaction.atomic():
        application = lock_application(application)
        if application.status == ApplicationStatus.PAID:
            live = selectors.live_payout(application)
            if live is not None:
                return live  # the same form posted twice: one payout
        if application.status != ApplicationStatus.APPROVED:
            raise ValidationError(
                _("Only an approved application can be paid."), code="not_approved"
            )
        _not_involved(actor, application)
        today = money.local_today(application.branch.time_zone)
        decided_on = application.decided_on or today
        if paid_on > today or paid_on < max(decided_on, today - BACKDATE_LIMIT):
            raise ValidationError(
                {"paid_on": _("The date must be between the decision and today.")}, code="date"
            )
        if (
            details.reference
            and Payout.objects.filter(
                method=method, provider=details.provider, reference=details.reference
            ).exists()
        ):
            raise ValidationError(
                {"reference": _("This transaction reference is already recorded.")},
                code="reference_used",
            )
        granted = application.amount_granted or 0
        rule = application.rule
        fee_payer = rule.fee_payer if rule else FeePayer.FUND
        arrears = arrears_to_take(application, rule)
        sent = granted - arrears - (fee if fee_payer == FeePayer.PAYEE else 0)
        if sent <= 0:
            raise ValidationError({"fee": _("The fee is larger than the grant.")}, code="fee")
        out = sent + fee + arrears
        lock_funds([application.fund_id])
        balance = selectors.fund_balance(application.fund_id)  # re-read under the lock
        if balance < out:
            raise ValidationError(
                _("The fund has %(balance)s: it cannot pay %(amount)s now.")
                % {
                    "balance": money.format_money(balance, application.currency),
                    "amount": money.format_money(out, application.currency),
                },
                code="balance",
            )
        try:
            with transaction.atomic():
                arrears_entry = (
                    pay_arrears(
                        actor=actor, application=application, amount=arrears, paid_on=paid_on
                    )
                    if arrears
                    else None
                )
                payout = Payout.objects.create(
                    application=application,
                    fund_id=application.fund_id,
                    amount=sent,
                    fee=fee,
                    arrears=arrears,
                    arrears_entry=arrears_entry,
                    currency=application.currency,
                    method=method,
                    provider=details.provider,
                    reference=details.reference,
                    paid_on=paid_on,
                    recorded_by=actor,
                )
                rows = [
                    FundEntry(
                        fund_id=application.fund_id,
                        kind=FundEntryKind.PAYOUT,
                        amount=-sent,
                        currency=application.currency,
                        booked_on=paid_on,
                        payout=payout,
                        recorded_by=actor,
                    )
                ]
                for kind, amount in ((FundEntryKind.FEE, fee), (FundEntryKind.ARREARS, arrears)):
                    if amount:
                        rows.append(
                            FundEntry(
                                fund_id=application.fund_id,
                                kind=kind,
                                amount=-amount,
                                currency=application.currency,
                                booked_on=paid_on,
                                payout=payout,
                                recorded_by=actor,
                            )
                        )
                FundEntry.objects.bulk_create(rows)
        except IntegrityError as exc:
            if "cannot afford" in str(exc):  # the database's own check (migration 0004)
                raise ValidationError(
                    _("The fund cannot pay this now: another payment took the money."),
                    code="balance",
                ) from exc
            raise ValidationError(
                _("This payment was just recorded by someone else, or its reference is used."),
                code="conflict",
            ) from exc
        application.status = ApplicationStatus.PAID
        application.paid_on = paid_on
        application.updated_at = timezone.now()
        application.save(update_fields=["status", "paid_on", "updated_at"])
        audit(actor, WelfareAction.PAY, application)
        from union.notifications.services import notify_member

        notify_member(
            member=application.member,
            kind="welfare_paid",
            dedupe_key=f"welfare_paid:{payout.pk}",
            context={
                "submitted_on": application.submitted_at.date().isoformat(),
                "amount": sent,
                "currency": application.currency,
            },
        )
    return payout


def reverse_payout(
    *, actor: User, payout: Payout, reason: str, fee_returned: bool = False
) -> Payout:
    """A payout that failed (a wrong number, money sent back): its rows are reversed (the
    fee too if the provider returned it; arrears it paid go back to the fund and the
    member's dues payment is corrected) and the application is approved again. Reversing
    twice is a no-op."""
    require(actor, Perm.PAY_WELFARE, payout.application.branch_id)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say what went wrong.")}, code="reason")
    with transaction.atomic():
        application = lock_application(payout.application)
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        if payout.status == PayoutStatus.REVERSED:
            return payout
        today = money.local_today(application.branch.time_zone)
        originals = {row.kind: row for row in FundEntry.objects.filter(payout=payout)}
        reversals = [
            FundEntry(
                fund_id=payout.fund_id,
                kind=FundEntryKind.PAYOUT_REVERSAL,
                amount=-originals[FundEntryKind.PAYOUT].amount,
                currency=payout.currency,
                booked_on=today,
                payout=payout,
                reverses=originals[FundEntryKind.PAYOUT],
                recorded_by=actor,
            )
        ]
        fee_row = originals.get(FundEntryKind.FEE)
        if fee_returned and fee_row is not None:
            reversals.append(
                FundEntry(
                    fund_id=payout.fund_id,
                    kind=FundEntryKind.FEE_REVERSAL,
                    amount=-fee_row.amount,
                    currency=payout.currency,
                    booked_on=today,
                    payout=payout,
                    reverses=fee_row,
                    recorded_by=actor,
                )
            )
        FundEntry.objects.bulk_create(reversals)
        if payout.arrears:
            return_arrears(actor=actor, payout=payout, reason=reason)
        payout.status = PayoutStatus.REVERSED
        payout.reversed_at = timezone.now()
        payout.reversed_by = actor
        payout.reversal_reason = reason
        payout.fee_returned = fee_returned and fee_row is not None
        payout.save(
            update_fields=[
                "status",
                "reversed_at",
                "reversed_by",
                "reversal_reason",
                "fee_returned",
            ]
        )
        application.status = ApplicationStatus.APPROVED
        application.paid_on = None
        application.updated_at = timezone.now()
        application.save(update_fields=["status", "paid_on", "updated_at"])
        audit(actor, WelfareAction.REVERSE, application)
    return payout


# --- payout details, for the treasurer ------------------------------------------------------


@dataclass(frozen=True)
class PayeeDetails:
    kind: str
    name: str
    method: str
    provider: str
    destination: str
    warnings: list[str]


def destination_warnings(application: WelfareApplication) -> list[str]:
    """Why the treasurer should look twice at where the money goes: the destination was
    used for another member, or is the phone of another member, of whoever submitted the
    application, or of someone who approved it."""
    if not application.payout_destination:
        return []
    warnings = []
    others = WelfareApplication.objects.filter(destination_hash=application.destination_hash)
    if others.exclude(member_id=application.member_id).exists():
        warnings.append(_("This destination was given for another member's application."))
    if application.payout_method == PayoutMethod.MOBILE_MONEY:
        phone = keyed_hash(application.payout_destination)
        owners = Member.objects.filter(phone_hash=phone).exclude(pk=application.member_id)
        submitter = owners.filter(user_id=application.submitted_by_id)
        approver = owners.filter(user_id__in=selectors.approvers(application))
        if submitter.exists():
            warnings.append(_("This number is the phone of whoever submitted the application."))
        if approver.exists():
            warnings.append(_("This number is the phone of someone who approved it."))
        if owners.exclude(user_id=application.submitted_by_id).exists() and not approver.exists():
            warnings.append(_("This number is the phone of another member."))
    return warnings


def reveal_payee(*, actor: User, application: WelfareApplication) -> PayeeDetails:
    """The payout details, decrypted for a treasurer of the branch. Side effect: an audit
    row (who looked at where a member's money goes)."""
    require(actor, Perm.PAY_WELFARE, application.branch_id)
    with transaction.atomic():
        audit(actor, WelfareAction.PAYEE, application)
    return PayeeDetails(
        kind=application.payee_kind,
        name=application.payee_name,
        method=application.payout_method,
        provider=application.payout_provider,
        destination=application.payout_destination,
        warnings=destination_warnings(application),
    )
