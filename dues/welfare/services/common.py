"""Small checks and locks shared by the welfare services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dues.welfare.models import Fund, WelfareApplication
from union.models import Member
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def check_amount(amount: object, currency: str, expected: str, field: str = "amount") -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationError({field: _("Enter an amount greater than zero.")}, code="amount")
    if currency != expected:
        raise ValidationError(
            {field: _("This fund is in %(currency)s.") % {"currency": expected}},
            code="currency",
        )


def deciding_member(actor: User) -> Member:
    """The member behind an officer's login: decisions are made by members."""
    member = Member.objects.filter(user=actor).first()
    if member is None:
        raise ValidationError(_("Only members of the union decide on welfare."), code="no_member")
    return member


def lock_funds(fund_ids: list[int]) -> None:
    """Lock funds in id order, so that two transactions locking the same funds cannot
    deadlock. NO KEY UPDATE: payouts wait for each other, but dues payments writing a
    share into the fund (a foreign-key share lock) never wait for a payout."""
    list(
        Fund.objects.select_for_update(no_key=True)
        .filter(pk__in=fund_ids)
        .order_by("pk")
        .values("pk")
    )


def lock_application(application: WelfareApplication) -> WelfareApplication:
    """Every change to an application holds its row: decisions, edits and payouts of one
    application are serialised, and each re-reads the state under the lock."""
    return (
        WelfareApplication.objects.select_for_update(of=("self",))
        .select_related("member", "branch", "fund__branch")
        .get(pk=application.pk)
    )


def audit(actor: User | None, action: str, application: WelfareApplication) -> None:
    """The audit row of a change to (or a look at) an application: its opaque id only."""
    record_access(
        actor=actor,
        action=action,
        target=f"welfare:{application.public_id}",
        branch=application.branch,
    )
