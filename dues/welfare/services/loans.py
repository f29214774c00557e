"""Interest-free loans: a loan is paid like a grant and repaid in rows.

An application marked as a loan (where the fund's rule on its decision date lends) is
paid by the treasurer like any other. What the member paid back is a LoanRepayment and a
"repayment" row that brings the money back into the fund, both in one transaction;
what is still owed is the grant less the repayments, derived, never stored. A repayment
recorded by mistake is reversed (reverse_repayment): it stays on record, marked, and
counts no more.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dues import money
from dues.providers.payouts import payout_provider
from dues.welfare import selectors
from dues.welfare.audit import WelfareAction
from dues.welfare.models import ApplicationStatus, FundEntry, FundEntryKind, LoanRepayment
from dues.welfare.services.common import audit, check_amount, lock_application
from union.permissions import Perm, require, require_another_officer

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from dues.welfare.models import WelfareApplication


def record_repayment(
    *,
    actor: User,
    application: WelfareApplication,
    amount: int,
    method: str,
    paid_on: date,
    provider: str = "",
    reference: str = "",
    outstanding_seen: int | None = None,
) -> LoanRepayment:
    """Record money a member paid back on her loan; it goes back into the fund.

    `outstanding_seen` is what the form showed still owed: if it changed since (the same
    form posted twice, another treasurer a moment ago), nothing is recorded. Refused: an
    application that is not a paid loan, more than is still owed, a date before the
    payout or after today, a reference already used, the member herself recording it.
    Side effects: none beyond the rows and the audit entry.
    """
    require(actor, Perm.PAY_WELFARE, application.branch_id)
    details = payout_provider(method).clean(provider=provider, reference=reference)
    check_amount(amount, application.currency, application.currency)
    with transaction.atomic():
        application = lock_application(application)
        require_another_officer(actor, application.member)
        if not application.loan or application.status != ApplicationStatus.PAID:
            raise ValidationError(_("Only a paid loan can be repaid."), code="not_a_loan")
        outstanding = selectors.loan_outstanding(application)
        if outstanding_seen is not None and outstanding_seen != outstanding:
            raise ValidationError(
                _("A repayment was recorded since you opened this page: look again."),
                code="stale",
            )
        if amount > outstanding:
            raise ValidationError(
                {
                    "amount": _("Only %(left)s is still owed.")
                    % {"left": money.format_money(outstanding, application.currency)}
                },
                code="over_outstanding",
            )
        today = money.local_today(application.branch.time_zone)
        if paid_on > today or (application.paid_on and paid_on < application.paid_on):
            raise ValidationError(
                {"paid_on": _("The date must be between the payout and today.")}, code="date"
            )
        try:
            with transaction.atomic():
                repayment = LoanRepayment.objects.create(
                    application=application,
                    amount=amount,
                    currency=application.currency,
                    method=method,
                    provider=details.provider,
                    reference=details.reference,
                    paid_on=paid_on,
                    recorded_by=actor,
                )
                FundEntry.objects.create(
                    fund_id=application.fund_id,
                    kind=FundEntryKind.REPAYMENT,
                    amount=amount,
                    currency=application.currency,
                    booked_on=paid_on,
                    repayment=repayment,
                    recorded_by=actor,
                )
        except IntegrityError as exc:
            raise ValidationError(
                {"reference": _("This transaction reference is already recorded.")},
                code="reference_used",
            ) from exc
        audit(actor, WelfareAction.REPAY, application)
    return repayment


def reverse_repayment(*, actor: User, repayment: LoanRepayment, reason: str) -> LoanRepayment:
    """Undo a repayment recorded by mistake (the wrong loan, the wrong amount, money that
    never arrived): it is marked reversed with the reason, and a "repay_reversal" row takes
    its money back out of the fund, so the loan owes it again and its transaction
    reference can be recorded again. The fund may go below zero: the money was never there.

    Refused, changing nothing: no reason, a repayment already reversed (a form posted
    twice), the member herself. Side effects: the rows and the audit entry.
    """
    require(actor, Perm.PAY_WELFARE, repayment.application.branch_id)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say what went wrong.")}, code="reason")
    with transaction.atomic():
        application = lock_application(repayment.application)
        require_another_officer(actor, application.member)
        original = FundEntry.objects.get(repayment=repayment)
        marked = LoanRepayment.objects.filter(pk=repayment.pk, reversed_at__isnull=True).update(
            reversed_at=timezone.now(), reversed_by=actor, reversal_reason=reason
        )
        if not marked:
            raise ValidationError(_("This repayment is already reversed."), code="reversed")
        FundEntry.objects.create(
            fund_id=original.fund_id,
            kind=FundEntryKind.REPAYMENT_REVERSAL,
            amount=-original.amount,
            currency=original.currency,
            booked_on=money.local_today(application.branch.time_zone),
            reverses=original,
            recorded_by=actor,
        )
        audit(actor, WelfareAction.UNREPAY, application)
    return LoanRepayment.objects.get(pk=repayment.pk)
