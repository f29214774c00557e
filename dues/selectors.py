"""Reads of the dues ledger. Balances, arrears and good standing are derived here, never stored.

Good standing is defined once, in `is_in_good_standing` / `members_in_good_standing`
(the same SQL): the member is active and has no charge left unpaid from before their
branch's grace window. Votes and welfare call these. They take no acting user: they are
the union's rule, not a screen. Every other selector takes the acting user and returns
only what that user may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from dues import money
from dues.models import (
    Allocation,
    CashBookClose,
    DuesPlan,
    EntryKind,
    EventStatus,
    LedgerEntry,
    Method,
    StripeEvent,
)
from union import permissions
from union.models import Branch, Member, MemberStatus
from union.permissions import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


# --- what counts ---------------------------------------------------------------------


def counts_q(prefix: str = "") -> Q:
    """Rows that count: those needing no second officer, and confirmed ones."""
    return Q(**{f"{prefix}needs_confirmation": False}) | Q(
        **{f"{prefix}confirmation__isnull": False}
    )


def awaiting_q() -> Q:
    """Rows waiting for a second officer: big payments not yet confirmed nor corrected, and
    big corrections of rows that count. (The correction of a row that never counted
    never counts: it waits for nobody.)"""
    unconfirmed = Q(needs_confirmation=True, confirmation__isnull=True)
    payment = Q(kind=EntryKind.PAYMENT, reversed_by__isnull=True)
    correction = Q(kind=EntryKind.REVERSAL) & counts_q("reverses__")
    return unconfirmed & (payment | correction)


def _settled_on(debit_ref: str = "pk") -> Subquery:
    return Subquery(
        Allocation.objects.filter(debit_id=OuterRef(debit_ref))
        .values("debit_id")
        .annotate(total=Sum("amount"))
        .values("total"),
        output_field=IntegerField(),
    )


def open_charges() -> QuerySet[LedgerEntry]:
    """Charges not fully settled (by payments, waivers or their own correction), and
    arrears carried from a branch the member left (opening rows that are debts), which
    age from the oldest month she owed there (owed_since)."""
    return (
        LedgerEntry.objects.filter(
            Q(kind=EntryKind.CHARGE) | Q(kind=EntryKind.OPENING, owed_since__isnull=False)
        )
        .annotate(settled=Coalesce(_settled_on(), Value(0)))
        .filter(amount__gt=F("settled"))
    )


# --- good standing -------------------------------------------------------------------


def grace_cutoffs(on: date | None = None) -> dict[int, date]:
    """For each branch with a plan, the first month that is still within its grace window.

    With 3 grace months, on any day of November the cutoff is 1 August: charges for
    August, September and October may still be open (and November's, the month running);
    an open charge for July or earlier puts the member out of good standing.
    """
    cutoffs = {}
    for plan in DuesPlan.objects.select_related("branch").only(
        "branch_id", "grace_months", "branch__time_zone"
    ):
        today = on or money.local_today(plan.branch.time_zone)
        cutoffs[plan.branch_id] = money.add_months(money.month_start(today), -plan.grace_months)
    return cutoffs


def _beyond_grace_q(on: date | None = None) -> Q:
    q = Q(pk__in=[])
    for branch_id, cutoff in grace_cutoffs(on).items():
        q |= Q(branch_id=branch_id, period__lt=cutoff)
        q |= Q(branch_id=branch_id, owed_since__lt=cutoff)
    return q


def arrears_beyond_grace(on: date | None = None) -> Exists:
    """An EXISTS over the outer member: some charge from before the grace window is open."""
    return Exists(open_charges().filter(_beyond_grace_q(on), member_id=OuterRef("pk")))


def members_in_good_standing(
    members: QuerySet[Member] | None = None, *, on: date | None = None
) -> QuerySet[Member]:
    """The members (of `members`, default all) who are in good standing: set-based, one query."""
    qs = Member.objects.all() if members is None else members
    return qs.filter(status=MemberStatus.ACTIVE).exclude(arrears_beyond_grace(on))


def is_in_good_standing(member: Member, *, on: date | None = None) -> bool:
    """Active, and nothing unpaid beyond the grace months of the member's branch."""
    return members_in_good_standing(Member.objects.filter(pk=member.pk), on=on).exists()


def within_grace(member: Member, *, on: date | None = None) -> bool:
    """Whatever the status: is nothing unpaid beyond the grace window? (Lapsing uses this.)"""
    return not Member.objects.filter(pk=member.pk).filter(arrears_beyond_grace(on)).exists()


# --- one member's account ------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    currency: str
    balance: int  # minor units; positive = owed, negative = paid ahead
    months_paid: int
    months_owed: int
    months_behind: int  # owed months before the current one
    oldest_owed: date | None
    next_due: date | None
    months_ahead: int
    monthly_amount: int | None  # minor units, the member's rate
    pending: int  # entries waiting for a second officer

    @property
    def owed(self) -> int:
        return max(self.balance, 0)

    @property
    def credit(self) -> int:
        return max(-self.balance, 0)


def member_rate(member: Member) -> int | None:
    plan = DuesPlan.objects.filter(branch_id=member.branch_id).first()
    if plan is None:
        return None
    from dues.models import DuesAccount, Rate

    account = DuesAccount.objects.filter(member=member).only("rate").first()
    if account is not None and account.rate == Rate.SOLIDARITY:
        return plan.solidarity_amount
    return plan.monthly_amount


def summary(member: Member, *, today: date | None = None) -> Summary:
    today = today or money.local_today(member.branch.time_zone)
    current = money.month_start(today)
    # Her account in the branch she is in: rows of a branch she left were closed there
    # when she moved (dues.services.moves), in that branch's currency.
    rows = LedgerEntry.objects.filter(member=member, branch_id=member.branch_id)
    counting = rows.filter(counts_q())
    balance = counting.aggregate(total=Sum("amount"))["total"] or 0
    charges: list[tuple[date, int, int]] = [
        (period, amount, settled)
        for period, amount, settled in rows.filter(kind=EntryKind.CHARGE, reversed_by__isnull=True)
        .annotate(settled=Coalesce(_settled_on(), Value(0)))
        .values_list("period", "amount", "settled")
        if period is not None  # always, for charges
    ]
    owed_periods = sorted(p for p, amount, settled in charges if amount > settled)
    months_paid = sum(1 for _p, amount, settled in charges if amount <= settled)
    rate = member_rate(member)
    months_ahead = (-balance // rate) if (rate and balance < 0) else 0
    latest_charged = max((p for p, _a, _s in charges), default=None)
    # The next month that will be charged (what a member plans for), always after today:
    # months already owed are reported as owed, not as "due" in the past.
    next_due: date | None = None
    if rate is not None:
        after = max(latest_charged or current, current)
        next_due = money.add_months(after, 1 + months_ahead)
    pending = rows.filter(awaiting_q()).count()
    return Summary(
        currency=member.branch.currency,
        balance=balance,
        months_paid=months_paid,
        months_owed=len(owed_periods),
        months_behind=sum(1 for p in owed_periods if p < current),
        oldest_owed=owed_periods[0] if owed_periods else None,
        next_due=next_due,
        months_ahead=months_ahead,
        monthly_amount=rate,
        pending=pending,
    )


def statement(member: Member) -> QuerySet[LedgerEntry]:
    """All of a member's rows, oldest first, with what is needed to show them."""
    return (
        LedgerEntry.objects.filter(member=member)
        .select_related("confirmation", "reverses", "reversed_by")
        .order_by("booked_on", "id")
    )


def receipts(member: Member) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(member=member, kind=EntryKind.PAYMENT)
        .select_related("confirmation", "reversed_by")
        .order_by("-booked_on", "-id")
    )


# --- a member's position, in one wording -----------------------------------------------


class Standing(TextChoices):
    """How a member stands, as every screen and filter says it (the register, the counter,
    the dues dashboard, the member's own page). Derived by `with_standing`, one SQL."""

    GOOD = "good", gettext_lazy("In good standing")
    OWING = "owing", gettext_lazy("In good standing, dues owed")
    NOT_GOOD = "not_good", gettext_lazy("Not in good standing")


def with_standing(members: QuerySet[Member], *, on: date | None = None) -> QuerySet[Member]:
    """`members` annotated with `standing` (a Standing value): the rule of
    members_in_good_standing, plus whether anything is owed within the grace months."""
    return members.annotate(
        standing=Case(
            When(~Q(status=MemberStatus.ACTIVE), then=Value(Standing.NOT_GOOD.value)),
            When(arrears_beyond_grace(on), then=Value(Standing.NOT_GOOD.value)),
            When(
                Exists(open_charges().filter(member_id=OuterRef("pk"))),
                then=Value(Standing.OWING.value),
            ),
            default=Value(Standing.GOOD.value),
            output_field=CharField(),
        )
    )


@dataclass(frozen=True)
class Position:
    """A member's dues position: the one sentence every screen shows, and its parts."""

    standing: Standing
    summary: Summary
    grace_months: int | None
    pay_before: date | None  # the day the oldest owed month falls out of the grace window
    beyond_grace: bool  # something is owed from before the grace window
    status_label: str  # "" while active

    @property
    def in_good_standing(self) -> bool:
        return self.standing != Standing.NOT_GOOD

    @property
    def sentence(self) -> str:
        amount = money.format_money(self.summary.owed, self.summary.currency)
        if self.standing == Standing.GOOD:
            if self.summary.credit:
                return _("In good standing: %(amount)s paid in advance.") % {
                    "amount": money.format_money(self.summary.credit, self.summary.currency)
                }
            return _("In good standing: nothing owed.")
        if self.standing == Standing.OWING:
            if self.pay_before is None:  # pragma: no cover - owing implies a plan
                return _("In good standing: %(amount)s owed.") % {"amount": amount}
            return _(
                "In good standing: %(amount)s owed. Pay it before %(date)s to stay in good "
                "standing."
            ) % {"amount": amount, "date": formats.date_format(self.pay_before, "j F Y")}
        if self.beyond_grace and self.grace_months:
            return ngettext(
                "Not in good standing: %(amount)s owed, some of it for more than %(n)s month.",
                "Not in good standing: %(amount)s owed, some of it for more than %(n)s months.",
                self.grace_months,
            ) % {"amount": amount, "n": self.grace_months}
        if self.beyond_grace:
            return _("Not in good standing: %(amount)s owed from before this month.") % {
                "amount": amount
            }
        if self.summary.owed:
            return _("Not in good standing (%(status)s): %(amount)s owed.") % {
                "status": self.status_label,
                "amount": amount,
            }
        return _("Not in good standing (%(status)s).") % {"status": self.status_label}


def position(member: Member, *, today: date | None = None) -> Position:
    """A member's position: where they stand (the same SQL as the register's filter), what
    they owe, and until when they keep their good standing."""
    row = (
        with_standing(Member.objects.filter(pk=member.pk))
        .annotate(beyond=arrears_beyond_grace())
        .values_list("standing", "beyond")
        .first()
    )
    code, beyond = row if row is not None else (Standing.NOT_GOOD, False)
    standing = Standing(code)
    account = summary(member, today=today)
    plan = DuesPlan.objects.filter(branch_id=member.branch_id).only("grace_months").first()
    grace = plan.grace_months if plan is not None else None
    pay_before = None
    if grace is not None and account.oldest_owed is not None:
        pay_before = money.add_months(account.oldest_owed, grace + 1)
    status_label = "" if member.status == MemberStatus.ACTIVE else member.get_status_display()
    return Position(
        standing=standing,
        summary=account,
        grace_months=grace,
        pay_before=pay_before,
        beyond_grace=bool(beyond),
        status_label=str(status_label),
    )


def describe_position(member: Member) -> str:
    """The sentence alone, for the core's screens (registered in dues.apps)."""
    return position(member).sentence


# --- office --------------------------------------------------------------------------


def branches_for(user: AnyUser, perm: Perm = Perm.VIEW_LEDGER) -> QuerySet[Branch]:
    return permissions.scope_for(user, perm).branches().order_by("code")


def members_for_dues(user: AnyUser, perm: Perm = Perm.RECORD_PAYMENT) -> QuerySet[Member]:
    """Members whose dues the user may handle: active or lapsed, in the user's branches."""
    members = Member.objects.filter(status__in=[MemberStatus.ACTIVE, MemberStatus.LAPSED])
    return permissions.visible(members.select_related("branch"), user, perm)


def ledger_for(user: AnyUser) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.select_related("member", "branch", "confirmation", "reversed_by")
    return permissions.visible(entries, user, Perm.VIEW_LEDGER)


def awaiting_confirmation(user: AnyUser, branch: Branch | None = None) -> QuerySet[LedgerEntry]:
    """Entries above the threshold that no second officer has confirmed yet (awaiting_q)."""
    qs = ledger_for(user).filter(awaiting_q())
    if branch is not None:
        qs = qs.filter(branch=branch)
    return qs.select_related("recorded_by__member").order_by("id")


def count_to_confirm(user: AnyUser) -> int:
    """Payments waiting for this officer's confirmation: in their branches, recorded by
    someone else (nobody confirms their own). The office home's count."""
    return (
        permissions.visible(LedgerEntry.objects.all(), user, Perm.CONFIRM_PAYMENT)
        .filter(
            needs_confirmation=True,
            kind=EntryKind.PAYMENT,
            confirmation__isnull=True,
            reversed_by__isnull=True,
        )
        .exclude(recorded_by_id=user.pk)
        .count()
    )


def owed_months_subquery(current: date) -> Subquery:
    """Per outer member: the number of charges from before `current` still open."""
    return Subquery(
        open_charges()
        .filter(member_id=OuterRef("pk"), period__lt=current)
        .values("member_id")
        .annotate(n=Count("id"))
        .values("n"),
        output_field=IntegerField(),
    )


def arrears_for(user: AnyUser, branch: Branch, *, min_months: int = 1) -> QuerySet[Any]:
    """Members of `branch` behind by at least `min_months`, annotated with months_behind and
    standing (in good standing while within the grace months, or not)."""
    if not permissions.has_perm(user, Perm.VIEW_LEDGER, branch.id):
        return Member.objects.none()
    current = money.month_start(money.local_today(branch.time_zone))
    members = Member.objects.filter(
        branch=branch, status__in=[MemberStatus.ACTIVE, MemberStatus.LAPSED]
    )
    return (
        with_standing(members)
        .annotate(months_behind=Coalesce(owed_months_subquery(current), Value(0)))
        .filter(months_behind__gte=max(min_months, 1))
    )


@dataclass(frozen=True)
class Dashboard:
    branch: Branch
    currency: str
    period: date
    expected: int  # minor units charged for this month
    collected: int  # minor units taken this month (payments less refunds and corrections)
    waived: int  # minor units waived this month
    members_charged: int


def dashboard(user: AnyUser, branch: Branch) -> Dashboard | None:
    if not permissions.has_perm(user, Perm.VIEW_LEDGER, branch.id):
        return None
    today = money.local_today(branch.time_zone)
    period = money.month_start(today)
    rows = LedgerEntry.objects.filter(branch=branch)
    charged = rows.filter(kind=EntryKind.CHARGE, period=period, reversed_by__isnull=True)
    totals = charged.aggregate(total=Sum("amount"), n=Count("id"))
    month = Q(booked_on__gte=period, booked_on__lte=money.month_end(period))
    collected = (
        rows.filter(month, counts_q()).exclude(method="").aggregate(total=Sum("amount"))["total"]
        or 0
    )
    waived = (
        rows.filter(month, kind=EntryKind.WAIVER, reversed_by__isnull=True).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
    return Dashboard(
        branch=branch,
        currency=branch.currency,
        period=period,
        expected=totals["total"] or 0,
        collected=-collected,
        waived=-waived,
        members_charged=totals["n"] or 0,
    )


def waivers_for(user: AnyUser, branch: Branch) -> QuerySet[LedgerEntry]:
    return (
        ledger_for(user)
        .filter(branch=branch, kind=EntryKind.WAIVER)
        .select_related("recorded_by__member")
        .order_by("-id")
    )


def cash_book(user: AnyUser, branch: Branch, day: date) -> QuerySet[LedgerEntry]:
    """Cash and mobile-money rows booked on `day` in `branch` (corrections included)."""
    if not permissions.has_perm(user, Perm.VIEW_LEDGER, branch.id):
        return LedgerEntry.objects.none()
    return (
        LedgerEntry.objects.filter(
            branch=branch, booked_on=day, method__in=[Method.CASH, Method.MOBILE_MONEY]
        )
        .select_related("member", "recorded_by__member", "confirmation", "reversed_by")
        .order_by("id")
    )


def cash_book_close(branch: Branch, day: date) -> CashBookClose | None:
    return CashBookClose.objects.filter(branch=branch, day=day).first()


def stripe_events_for(user: AnyUser) -> QuerySet[StripeEvent]:
    """Card events that could not be booked. They carry no member, so the currency decides
    which treasurers see them; national officers see all."""
    scope = permissions.scope_for(user, Perm.VIEW_LEDGER)
    if not scope:
        return StripeEvent.objects.none()
    qs = StripeEvent.objects.filter(status__in=[EventStatus.UNMATCHED, EventStatus.FAILED])
    if not scope.everywhere:
        currencies = set(scope.branches().values_list("currency", flat=True))
        qs = qs.filter(currency__in=currencies)
    return qs.order_by("-received_at")


def last_receipt_number(branch: Branch) -> str:
    entry = (
        LedgerEntry.objects.filter(branch=branch)
        .exclude(receipt_number="")
        .order_by("-id")
        .only("receipt_number")
        .first()
    )
    return entry.receipt_number if entry else ""
