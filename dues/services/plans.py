"""Dues plans of branches and the rate each member pays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dues.audit import DuesAction
from dues.models import DuesAccount, DuesPlan, Rate
from union.models import Branch, Member
from union.permissions import Perm, require, require_another_officer
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def set_dues_plan(
    *,
    actor: User | None,
    branch: Branch,
    monthly_amount: int,
    solidarity_amount: int,
    grace_months: int = 3,
    charge_joining_month: bool = True,
    confirm_threshold: int,
) -> DuesPlan:
    """Create or change a branch's plan (amounts in the branch currency's minor unit).

    Takes effect at the next monthly run; charges already made keep their amount.
    actor None is a setup command (the demo loader).
    """
    if actor is not None:
        require(actor, Perm.MANAGE_DUES_PLAN, branch.id)
    if branch.is_national:
        raise ValidationError(_("Dues plans belong to branches."), code="national")
    errors = {}
    if monthly_amount <= 0:
        errors["monthly_amount"] = _("Enter an amount greater than zero.")
    if not 0 < solidarity_amount <= max(monthly_amount, 1):
        errors["solidarity_amount"] = _(
            "The solidarity rate must be above zero and no more than the monthly dues."
        )
    if not 0 <= grace_months <= 24:
        errors["grace_months"] = _("Between 0 and 24 months.")
    if confirm_threshold < 0:
        errors["confirm_threshold"] = _("Enter zero or more.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Branch.objects.select_for_update().get(pk=branch.pk)
        plan = DuesPlan.objects.filter(branch=branch).first() or DuesPlan(branch=branch)
        plan.currency = branch.currency
        plan.monthly_amount = monthly_amount
        plan.solidarity_amount = solidarity_amount
        plan.grace_months = grace_months
        plan.charge_joining_month = charge_joining_month
        plan.confirm_threshold = confirm_threshold
        plan.updated_at = timezone.now()
        plan.updated_by = actor
        plan.save()
        record_access(
            actor=actor, action=DuesAction.PLAN, target=f"plan:{branch.code}", branch=branch
        )
    return plan


def account_for(member: Member) -> DuesAccount:
    """The member's dues account, created on first use (race-safe)."""
    account, _created = DuesAccount.objects.get_or_create(member=member)
    return account


def set_member_rate(*, actor: User, member: Member, rate: str) -> DuesAccount:
    """Put a member on the standard or the solidarity rate, from the next monthly run.
    Never one's own: another officer must (the rate decides standing, and so the vote)."""
    require(actor, Perm.GRANT_WAIVER, member.branch_id)
    require_another_officer(actor, member)
    if rate not in Rate.values:
        raise ValidationError({"rate": _("Choose a rate.")})
    with transaction.atomic():
        account = account_for(member)
        account = DuesAccount.objects.select_for_update().get(pk=account.pk)
        if account.rate == rate:
            return account
        account.rate = rate
        account.save(update_fields=["rate"])
        record_access(
            actor=actor,
            action=DuesAction.RATE,
            target=f"member:{member.public_id}",
            branch=member.branch,
        )
    return account
