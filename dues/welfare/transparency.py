"""What members (and the public site) may know of the funds, without exposing anyone.

Members see each fund's balance, its money in and out month by month since it began, and
the number and totals of payouts by purpose (requested and granted). Never a name, and
never a figure that is one payout or a handful of them:

- a month's money out is hidden when fewer than SMALLEST_GROUP payouts make it;
- a single hidden month could be found again from the published balance (balance = all
  money in - all money out, and every month is published), so a second month is hidden
  with it (the one with the least out); if there is no other month to hide, the balance
  is hidden instead;
- a purpose row with fewer than SMALLEST_GROUP payouts is hidden, and so is a second row
  when only one is (the total would give it away), or the total when no other row can be.

Each fund's figures come from one GROUP BY over its ledger (fund, month, kind); the
balance is the sum of its months.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from cms.statistics import Figure
from dues import money
from dues.welfare.models import (
    INFLOW_KINDS,
    PAYOUT_KINDS,
    ApplicationStatus,
    Fund,
    FundEntry,
    Purpose,
    WelfareApplication,
)
from union.models import Branch

DEFAULT_SMALLEST_GROUP = 5


def smallest_group() -> int:
    """Counts below this are not shown. Never below 2: one payout is one person."""
    return max(int(getattr(settings, "WELFARE_SMALLEST_GROUP", DEFAULT_SMALLEST_GROUP)), 2)


# Which ledger rows are money in, transfers, and payouts (with their fees and reversals).
IN_KINDS = INFLOW_KINDS  # loan repayments come back in with dues shares and gifts
OUT_KINDS = PAYOUT_KINDS  # arrears taken from a payout are part of what it paid
EVENT_KINDS = ("payout", "payout_reversal", "fee_reversal")  # one per payout event


@dataclass
class Month:
    month: date
    money_in: int  # minor units: dues shares (net of corrections), donations, grants
    transfers: int  # minor units, net: in minus out
    money_out: int | None  # minor units paid out with fees, net of reversals; None: hidden
    events: int = 0  # payouts and reversals that make money_out (not shown)


@dataclass
class FundFigures:
    fund: Fund
    currency: str
    balance: int | None  # None: hidden (it would reveal a hidden month)
    months: list[Month] = field(default_factory=list)

    @property
    def hidden(self) -> bool:
        return self.balance is None or any(m.money_out is None for m in self.months)


def _month_rows(fund_ids: list[int]) -> Any:  # rows of {fund_id, month, kind, total, rows}
    return (
        FundEntry.objects.filter(fund_id__in=fund_ids)
        .annotate(month=TruncMonth("booked_on"))
        .values("fund_id", "month", "kind")
        # COUNT(*), not COUNT(id): the index (fund, booked_on, kind, amount) answers it alone.
        .annotate(total=Sum("amount"), rows=Count("*"))
        .order_by()
    )


def fund_figures(funds: list[Fund]) -> list[FundFigures]:
    """The published figures of each fund (one query for all of them)."""
    months: dict[int, dict[date, Month]] = defaultdict(dict)
    for row in _month_rows([fund.pk for fund in funds]):
        month_start = row["month"]
        if hasattr(month_start, "date"):
            month_start = month_start.date()
        item = months[row["fund_id"]].setdefault(
            month_start, Month(month=month_start, money_in=0, transfers=0, money_out=0)
        )
        kind, total = row["kind"], row["total"] or 0
        if kind in IN_KINDS:
            item.money_in += total
        elif kind == "transfer":
            item.transfers += total
        else:
            item.money_out = (item.money_out or 0) - total
            if kind in EVENT_KINDS:
                item.events += row["rows"]
    result = []
    for fund in funds:
        rows = sorted(months[fund.pk].values(), key=lambda m: m.month)
        balance = sum(m.money_in + m.transfers - (m.money_out or 0) for m in rows)
        result.append(
            FundFigures(
                fund=fund,
                currency=fund.currency,
                balance=suppress_months(rows, balance),
                months=rows,
            )
        )
    return result


def suppress_months(rows: list[Month], balance: int) -> int | None:
    """Hide small months (and a complement); returns the balance, or None if it must go."""
    k = smallest_group()
    small = [m for m in rows if 0 < m.events < k]
    if len(small) == 1:
        others = [m for m in rows if m.events >= k]
        if others:
            small.append(min(others, key=lambda m: abs(m.money_out or 0)))
        else:
            for month in small:
                month.money_out = None
            return None
    for month in small:
        month.money_out = None
    return balance


@dataclass
class PurposeRow:
    purpose: str
    label: str
    count: int | None  # None: hidden
    requested: int | None  # minor units
    granted: int | None


@dataclass
class PurposeTable:
    currency: str
    rows: list[PurposeRow]
    total: PurposeRow | None  # None: hidden


def purpose_table(branch: Branch, *, since: date | None = None) -> PurposeTable:
    """Payouts to the branch's members by purpose (paid applications, from any fund)."""
    qs = WelfareApplication.objects.filter(branch=branch, status=ApplicationStatus.PAID)
    if since is not None:
        qs = qs.filter(paid_on__gte=since)
    found = {
        row["purpose"]: row
        for row in qs.values("purpose")
        .annotate(n=Count("id"), requested=Sum("amount_requested"), granted=Sum("amount_granted"))
        .order_by()
    }
    k = smallest_group()
    rows = []
    for purpose, label in Purpose.choices:
        data = found.get(purpose)
        n = data["n"] if data else 0
        rows.append(
            PurposeRow(
                purpose=purpose,
                label=str(label),
                count=n,
                requested=data["requested"] if data else 0,
                granted=data["granted"] if data else 0,
            )
        )
    hidden = [row for row in rows if 0 < (row.count or 0) < k]
    total_n = sum(row.count or 0 for row in rows)
    total = PurposeRow(
        purpose="",
        label="",
        count=total_n,
        requested=sum(row.requested or 0 for row in rows),
        granted=sum(row.granted or 0 for row in rows),
    )
    if len(hidden) == 1:
        others = [row for row in rows if (row.count or 0) >= k]
        if others:
            hidden.append(min(others, key=lambda row: row.count or 0))
    for row in hidden:
        row.count = row.requested = row.granted = None
    shown_total: PurposeRow | None = total
    if 0 < total_n < k or len(hidden) == 1:
        shown_total = None
    return PurposeTable(currency=branch.currency, rows=rows, total=shown_total)


def funds_for_member(branch: Branch) -> list[Fund]:
    """The funds a member of `branch` can draw on: the branch's and the national ones in
    its currency."""
    return list(
        Fund.objects.filter(
            Q(branch=branch) | Q(branch__is_national=True), currency=branch.currency
        )
        .select_related("branch")
        .order_by("-branch__is_national", "purpose")
    )


# --- the public site (cms.statistics) -------------------------------------------------------


def paid_figure() -> Figure:
    """Money paid out by all funds in the national currency (net of failed payouts), with
    the number of payouts as its basis: the CMS hides it below its own minimum."""
    national = Branch.objects.filter(is_national=True).only("currency").first()
    currency = national.currency if national else "XOF"
    totals = FundEntry.objects.filter(
        currency=currency, kind__in=["payout", "payout_reversal"]
    ).aggregate(
        paid=Sum("amount"),
        payouts=Count("id", filter=Q(kind="payout")),
        reversed=Count("id", filter=Q(kind="payout_reversal")),
    )
    count = (totals["payouts"] or 0) - (totals["reversed"] or 0)
    return Figure(
        value=-(totals["paid"] or 0),
        basis=count,
        currency=currency,
        minor_digits=money.decimals(currency),
    )


def payouts_figure() -> Figure:
    """How many times the funds have paid (net of failed payouts), in any currency."""
    totals = FundEntry.objects.filter(kind__in=["payout", "payout_reversal"]).aggregate(
        payouts=Count("id", filter=Q(kind="payout")),
        reversed=Count("id", filter=Q(kind="payout_reversal")),
    )
    count = (totals["payouts"] or 0) - (totals["reversed"] or 0)
    return Figure(value=count, basis=count)
