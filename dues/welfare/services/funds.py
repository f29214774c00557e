"""Funds, their rules, the branches' decision rules, donations and transfers between funds.

Every function checks the actor's right, runs in one transaction, writes new ledger or
rule rows only, and leaves an audit row.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dues import money
from dues.welfare import selectors
from dues.welfare.audit import WelfareAction
from dues.welfare.models import (
    FeePayer,
    Fund,
    FundEntry,
    FundEntryKind,
    FundRule,
    FundTransfer,
    Purpose,
    TransferApproval,
    TransferStatus,
    WelfarePolicy,
)
from dues.welfare.services.common import check_amount, deciding_member, lock_funds
from union.models import Branch
from union.permissions import Perm, require
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

GIFT_BACKDATE = timedelta(days=92)


def _national() -> Branch | None:
    return Branch.objects.filter(is_national=True).first()


def create_fund(*, actor: User | None, branch: Branch, purpose: str) -> Fund:
    """Open a fund of `branch` (or of the national level) for one purpose; the same fund
    again is returned as it is. It takes no share of dues until it has a rule."""
    if actor is not None:
        require(actor, Perm.MANAGE_WELFARE_FUNDS, branch)
    if purpose not in Purpose.values:
        raise ValidationError({"purpose": _("Choose what the fund is for.")}, code="purpose")
    with transaction.atomic():
        fund, created = Fund.objects.get_or_create(
            branch=branch,
            purpose=purpose,
            defaults={"currency": branch.currency, "created_by": actor},
        )
        if created:
            record_access(
                actor=actor,
                action=WelfareAction.FUND,
                target=f"fund:{fund.public_id}",
                branch=branch,
            )
    return fund


def _share_total(branch_ids: list[int], currency: str, day: date, *, replacing: int) -> int:
    """Basis points of a dues payment that funds of these branches take on `day`, with the
    fund `replacing` left out (its new rule is added by the caller)."""
    total = 0
    for fund in Fund.objects.filter(branch_id__in=branch_ids, currency=currency).exclude(
        pk=replacing
    ):
        rule = selectors.rule_in_force(fund.pk, day)
        total += rule.share_bp if rule else 0
    return total


def set_fund_rule(
    *,
    actor: User | None,
    fund: Fund,
    effective_from: date,
    share_bp: int,
    max_payout: int | None = None,
    max_per_member_year: int | None = None,
    waiting_months: int = 0,
    good_standing_required: bool = True,
    fee_payer: str = FeePayer.FUND,
    arrears_bp: int = 0,
    per_dependant: int = 0,
    max_dependants: int = 0,
    loans: bool = False,
) -> FundRule:
    """Give a fund new rules from a date on (today or later: shares already booked keep
    the rule they were booked under). The shares of all funds a payment flows into may
    not exceed the whole payment. A rule may take the member's dues arrears from a payout
    (up to arrears_bp of the grant), raise both caps by per_dependant for each of up to
    max_dependants dependants, and let the fund lend interest-free."""
    branch = fund.branch
    if actor is not None:
        require(actor, Perm.MANAGE_WELFARE_FUNDS, branch)
    today = money.local_today(branch.time_zone)
    errors: dict[str, str] = {}
    if effective_from < today:
        errors["effective_from"] = _("Rules apply from today or a later day, never before.")
    if not 0 <= share_bp <= 10000:
        errors["share_bp"] = _("The share is between 0 and 100 %.")
    for field, value in (("max_payout", max_payout), ("max_per_member_year", max_per_member_year)):
        if value is not None and value <= 0:
            errors[field] = _("Enter an amount greater than zero, or leave it empty.")
    if not 0 <= waiting_months <= 120:
        errors["waiting_months"] = _("Enter a number of months between 0 and 120.")
    if fee_payer not in FeePayer.values:
        errors["fee_payer"] = _("Say who bears provider fees.")
    if not 0 <= arrears_bp < 10000:
        errors["arrears_bp"] = _("The share taken for arrears is between 0 and 99.99 %.")
    if per_dependant < 0:
        errors["per_dependant"] = _("Enter an amount of zero or more.")
    if not 0 <= max_dependants <= 20:
        errors["max_dependants"] = _("Enter a number of dependants between 0 and 20.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # One lock for every change of shares: two funds' new rules cannot together pass
        # the 100 % check.
        national = _national()
        Branch.objects.select_for_update().filter(pk=(national or branch).pk).first()
        if branch.is_national:
            affected = list(
                Branch.objects.filter(is_national=False, currency=fund.currency).values_list(
                    "pk", flat=True
                )
            ) or [branch.pk]
        else:
            affected = [branch.pk]
        for branch_id in affected:
            ids = [branch_id] + ([national.pk] if national and national.pk != branch_id else [])
            if (
                _share_total(ids, fund.currency, effective_from, replacing=fund.pk) + share_bp
                > 10000
            ):
                raise ValidationError(
                    {"share_bp": _("Together the funds would take more than the whole payment.")},
                    code="share_total",
                )
        try:
            with transaction.atomic():
                rule = FundRule.objects.create(
                    fund=fund,
                    effective_from=effective_from,
                    share_bp=share_bp,
                    max_payout=max_payout,
                    max_per_member_year=max_per_member_year,
                    waiting_months=waiting_months,
                    good_standing_required=good_standing_required,
                    fee_payer=fee_payer,
                    arrears_bp=arrears_bp,
                    per_dependant=per_dependant,
                    max_dependants=max_dependants,
                    loans=loans,
                    created_by=actor,
                )
        except IntegrityError as exc:
            raise ValidationError(
                {"effective_from": _("This fund already has rules from that day. Choose another.")},
                code="same_day",
            ) from exc
        record_access(
            actor=actor, action=WelfareAction.RULE, target=f"fund:{fund.public_id}", branch=branch
        )
    return rule


def set_welfare_policy(
    *,
    actor: User | None,
    branch: Branch,
    approvals_required: int,
    emergency_max_payout: int = 0,
    emergency_max_per_coordinator_month: int = 0,
    emergency_max_per_member_year: int = 0,
) -> WelfarePolicy:
    """How many committee members must approve in this branch, and the crisis
    coordinator's emergency limits (0: no emergency path)."""
    if actor is not None:
        require(actor, Perm.MANAGE_WELFARE_FUNDS, branch)
    if not 1 <= approvals_required <= 7:
        raise ValidationError(
            {"approvals_required": _("Between 1 and 7 approvals.")}, code="approvals"
        )
    limits = (
        emergency_max_payout,
        emergency_max_per_coordinator_month,
        emergency_max_per_member_year,
    )
    if any(value < 0 for value in limits):
        raise ValidationError(_("Limits cannot be negative."), code="limits")
    with transaction.atomic():
        found, _created = WelfarePolicy.objects.select_for_update().get_or_create(branch=branch)
        found.approvals_required = approvals_required
        (
            found.emergency_max_payout,
            found.emergency_max_per_coordinator_month,
            found.emergency_max_per_member_year,
        ) = limits
        found.updated_at = timezone.now()
        found.updated_by = actor
        found.save()
        record_access(
            actor=actor, action=WelfareAction.POLICY, target=f"branch:{branch.code}", branch=branch
        )
    return found


def record_gift(
    *,
    actor: User,
    fund: Fund,
    amount: int,
    currency: str,
    kind: str = FundEntryKind.DONATION,
    source: str,
    received_on: date,
    restricted: bool = False,
) -> FundEntry:
    """Record a donation or a grant into a fund, with who gave it. A restricted gift may be
    spent only by this fund: it can never be transferred out."""
    require(actor, Perm.MANAGE_WELFARE_FUNDS, fund.branch_id)
    if kind not in (FundEntryKind.DONATION, FundEntryKind.GRANT):
        raise ValidationError({"kind": _("Choose donation or grant.")}, code="kind")
    check_amount(amount, currency, fund.currency)
    source = source.strip()
    if not source:
        raise ValidationError(
            {"source": _("Say who gave it (or write: anonymous).")}, code="source"
        )
    today = money.local_today(fund.branch.time_zone)
    if received_on > today or received_on < today - GIFT_BACKDATE:
        raise ValidationError(
            {"received_on": _("The date must be today or within the last three months.")},
            code="date",
        )
    with transaction.atomic():
        entry = FundEntry.objects.create(
            fund=fund,
            kind=kind,
            amount=amount,
            currency=currency,
            booked_on=received_on,
            source=source,
            restricted=restricted,
            recorded_by=actor,
        )
        record_access(
            actor=actor,
            action=WelfareAction.DONATION,
            target=f"fund:{fund.public_id}",
            branch=fund.branch,
        )
    return entry


# --- transfers ---------------------------------------------------------------------------


def request_transfer(
    *, actor: User, from_fund: Fund, to_fund: Fund, amount: int, reason: str
) -> FundTransfer:
    """Ask to move money from one fund to another (same currency). Nothing moves until
    the committee of the paying fund approves it as it would an application."""
    require(actor, Perm.MANAGE_WELFARE_FUNDS, from_fund.branch_id)
    if from_fund.pk == to_fund.pk:
        raise ValidationError({"to_fund": _("Choose another fund.")}, code="same_fund")
    check_amount(amount, from_fund.currency, to_fund.currency)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the money should move.")}, code="reason")
    with transaction.atomic():
        transfer = FundTransfer.objects.create(
            from_fund=from_fund,
            to_fund=to_fund,
            amount=amount,
            currency=from_fund.currency,
            reason=reason,
            requested_by=actor,
        )
        record_access(
            actor=actor,
            action=WelfareAction.TRANSFER,
            target=f"transfer:{transfer.public_id}",
            branch=from_fund.branch,
        )
    return transfer


def _lock_transfer(transfer: FundTransfer) -> FundTransfer:
    return (
        FundTransfer.objects.select_for_update()
        .select_related("from_fund__branch", "to_fund__branch")
        .get(pk=transfer.pk)
    )


def approve_transfer(*, actor: User, transfer: FundTransfer) -> FundTransfer:
    """One committee approval of a transfer; with enough distinct approvers (as for an
    application of the paying fund's branch) it is carried out: two ledger rows sharing
    the transfer's id and summing to zero. The requester cannot approve; approving twice
    is a no-op; restricted gifts never leave their fund."""
    require(actor, Perm.DECIDE_WELFARE, transfer.from_fund.branch_id)
    with transaction.atomic():
        transfer = _lock_transfer(transfer)
        if transfer.status != TransferStatus.PENDING:
            return transfer
        if transfer.requested_by_id == actor.pk:
            raise ValidationError(
                _("Someone else must approve a transfer you asked for."), code="own_transfer"
            )
        deciding_member(actor)
        TransferApproval.objects.get_or_create(
            transfer=transfer, approved_by=actor, defaults={"requested_by": transfer.requested_by}
        )
        required = selectors.policy(transfer.from_fund.branch_id).approvals_required
        if transfer.approvals.count() < required:
            record_access(
                actor=actor,
                action=WelfareAction.TRANSFER_DECIDE,
                target=f"transfer:{transfer.public_id}",
                branch=transfer.from_fund.branch,
            )
            return transfer
        lock_funds([transfer.from_fund_id, transfer.to_fund_id])
        balance = selectors.fund_balance(transfer.from_fund_id)
        free = balance - selectors.restricted_unspent(transfer.from_fund_id)
        if transfer.amount > free:
            raise ValidationError(
                _("The fund does not have %(amount)s it may transfer.")
                % {"amount": money.format_money(transfer.amount, transfer.currency)},
                code="too_much",
            )
        today = money.local_today(transfer.from_fund.branch.time_zone)
        FundEntry.objects.bulk_create(
            [
                FundEntry(
                    fund_id=transfer.from_fund_id,
                    kind=FundEntryKind.TRANSFER,
                    amount=-transfer.amount,
                    currency=transfer.currency,
                    booked_on=today,
                    transfer=transfer,
                    recorded_by=actor,
                ),
                FundEntry(
                    fund_id=transfer.to_fund_id,
                    kind=FundEntryKind.TRANSFER,
                    amount=transfer.amount,
                    currency=transfer.currency,
                    booked_on=today,
                    transfer=transfer,
                    recorded_by=actor,
                ),
            ]
        )
        transfer.status = TransferStatus.DONE
        transfer.decided_on = today
        transfer.save(update_fields=["status", "decided_on"])
        record_access(
            actor=actor,
            action=WelfareAction.TRANSFER_DECIDE,
            target=f"transfer:{transfer.public_id}",
            branch=transfer.from_fund.branch,
        )
    return transfer


def reject_transfer(*, actor: User, transfer: FundTransfer) -> FundTransfer:
    """A committee member turns a pending transfer down; nothing moves."""
    require(actor, Perm.DECIDE_WELFARE, transfer.from_fund.branch_id)
    with transaction.atomic():
        transfer = _lock_transfer(transfer)
        if transfer.status != TransferStatus.PENDING:
            return transfer
        transfer.status = TransferStatus.REJECTED
        transfer.decided_on = money.local_today(transfer.from_fund.branch.time_zone)
        transfer.save(update_fields=["status", "decided_on"])
        record_access(
            actor=actor,
            action=WelfareAction.TRANSFER_DECIDE,
            target=f"transfer:{transfer.public_id}",
            branch=transfer.from_fund.branch,
        )
    return transfer
