"""The daily cash book of a branch and its close."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dues import money
from dues.audit import DuesAction
from dues.models import CashBookClose, LedgerEntry, Method
from dues.selectors import awaiting_q, counts_q
from union.models import Branch
from union.permissions import Perm, require
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def cash_payouts(branch: Branch, day: date) -> list[tuple[UUID, int]]:
    """(public id, minor units) of the welfare payouts paid in cash from the branch that
    day and not reversed."""
    from dues.welfare.models import Payout, PayoutMethod, PayoutStatus

    return list(
        Payout.objects.filter(
            application__branch=branch,
            paid_on=day,
            method=PayoutMethod.CASH,
            status=PayoutStatus.PAID,
        )
        .order_by("id")
        .values_list("public_id", "amount")
    )


def close_cash_book(*, actor: User, branch: Branch, day: date) -> CashBookClose:
    """Total the day's cash and mobile money per officer and close the day.

    The close also lists the welfare payouts paid in cash that day (the daily welfare
    reconciliation checks each cash payout against it). Closing twice returns the first
    close. Entries still waiting for a second officer must
    be confirmed or corrected first; after the close no cash can be entered for that day.
    """
    require(actor, Perm.RECORD_PAYMENT, branch.id)
    if day > money.local_today(branch.time_zone):
        raise ValidationError(_("A day can be closed once it has started."), code="future")
    with transaction.atomic():
        Branch.objects.select_for_update().get(pk=branch.pk)
        existing = CashBookClose.objects.filter(branch=branch, day=day).first()
        if existing is not None:
            return existing
        rows = LedgerEntry.objects.filter(
            branch=branch, booked_on=day, method__in=[Method.CASH, Method.MOBILE_MONEY]
        )
        waiting = rows.filter(awaiting_q()).count()
        if waiting:
            raise ValidationError(
                ngettext(
                    "%(count)s entry of this day still waits for a second officer. "
                    "Confirm or correct it first.",
                    "%(count)s entries of this day still wait for a second officer. "
                    "Confirm or correct them first.",
                    waiting,
                )
                % {"count": waiting},
                code="waiting",
            )
        per_officer: dict[int | None, dict[str, int]] = defaultdict(
            lambda: {"cash": 0, "mobile_money": 0, "entries": 0}
        )
        for recorded_by, method, amount in rows.filter(counts_q()).values_list(
            "recorded_by_id", "method", "amount"
        ):
            totals = per_officer[recorded_by]
            totals[method] -= amount  # payments are negative rows: money in is positive
            totals["entries"] += 1
        cash_out = cash_payouts(branch, day)
        try:
            with transaction.atomic():
                close = CashBookClose.objects.create(
                    branch=branch,
                    day=day,
                    currency=branch.currency,
                    cash_total=sum(t["cash"] for t in per_officer.values()),
                    mobile_money_total=sum(t["mobile_money"] for t in per_officer.values()),
                    entries=sum(t["entries"] for t in per_officer.values()),
                    cash_out_total=sum(amount for _id, amount in cash_out),
                    cash_payouts=[str(public_id) for public_id, _amount in cash_out],
                    per_officer=[
                        {"user_id": user_id, **totals}
                        for user_id, totals in sorted(
                            per_officer.items(), key=lambda item: item[0] or 0
                        )
                    ],
                    closed_by=actor,
                )
        except IntegrityError:  # closed by someone else a moment ago
            return CashBookClose.objects.get(branch=branch, day=day)
        record_access(
            actor=actor,
            action=DuesAction.CLOSE,
            target=f"cashbook:{branch.code}:{day.isoformat()}",
            branch=branch,
        )
    return close
